// The Engine API's JSON shapes, shared with the daemon (src/wire/types.ts, types only: nothing of it is bundled).
export type {
  Port, ContainerSummary, ImageSummary, Volume, EventMessage, ContainerInspect,
  ContainerStats as Stats, NetworkSummary as Network, JSONMessage as PullProgress,
} from '../../src/wire/types';

/** One `GET /images/search` result. */
export interface SearchResult { name: string; description: string; star_count: number; is_official: boolean }
