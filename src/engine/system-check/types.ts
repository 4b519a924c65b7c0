/**
 * `berth system check`: what a crash or a careless `rm` in the data root can leave, found by the
 * checks beside this file (one per store or host object) and fixed on request by repair.ts.
 * A finding is plain data: the API renders it as it is, the CLI prints one line per finding.
 */
import type { ContentStore } from '../content/store.js';
import type { LayerStore } from '../layers/store.js';
import type { ImageRecord } from '../images/types.js';
import type { ContainerRecord } from '../containers/types.js';

export type { SystemCheckKind as FindingKind, SystemCheckFinding as Finding, SystemCheckReport as CheckReport } from '../../wire/types.js';

/** What the checks read and the repairs change: the engine's stores and services, seen through this. */
export interface CheckSources {
  /** The data root. */
  root: string;
  /** When this daemon started (ms epoch): a layer made since may belong to a pull in progress. */
  startedAt: number;
  content: ContentStore;
  layers: LayerStore;
  /** Every image record, intermediate ones included. */
  images(): ImageRecord[];
  /** Remove an image as `rmi -f` does (refused while a running container uses it). */
  removeImage(id: string): Promise<void>;
  containers(): ContainerRecord[];
  isRunning(rec: ContainerRecord): boolean;
  containerDir(id: string): string;
  /** Remove a container that is not running, through the container service. */
  removeContainer(id: string): Promise<void>;
  /** The bridge interfaces of this daemon's networks ([] without bridge networking). */
  bridges(): string[];
  /** This daemon's nat chain for published ports (undefined without bridge networking). */
  natChain(): string | undefined;
}

/** What the checks found in one pass, and what the repairs should know beyond the findings. */
export interface CheckState {
  /** Chain IDs a repair of this run released (no age rule for them: nothing else is making them). */
  released: Set<string>;
  /** Blob hashes already computed in this run, by name, valid while size and mtime stay the same. */
  hashes: Map<string, { size: number; mtimeMs: number; hex: string }>;
}

/**
 * A host object or temp file younger than this may be another operation's work in flight (a
 * start of another daemon's container, an atomic write): left alone.
 */
export const GRACE_MS = 60_000;
/** An unreferenced layer made by this daemon in the last ten minutes may belong to a pull in progress. */
export const LAYER_GRACE_MS = 10 * 60_000;

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
