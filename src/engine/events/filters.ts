/**
 * GET /events filters and time window, as dockerd's daemon/events/filter.go reads them: labels all
 * match; the values of any other key are alternatives; an actor key (`container`, `network`, …)
 * matches an event whose actor ID or name starts with the value, whatever the event's type (so
 * `container=x` lets an image event through only if that image's ID starts with x); unknown keys
 * are refused.
 */
import { InvalidParameterError } from '../errors.js';
import { checkFilterKeys, matchLabels, parseTimestamp, type FilterArgs } from '../filters.js';
import type { EngineEvent } from './bus.js';

export const EVENT_FILTERS = [
  'config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope',
  'secret', 'service', 'type', 'volume',
] as const;

/** Keys that name an actor by ID or name prefix. */
const ACTOR_KEYS = ['config', 'container', 'daemon', 'network', 'node', 'plugin', 'secret', 'service', 'volume'] as const;

/** Actions that carry the command after a colon (`exec_start: sh`): `event=exec_start` matches them. */
const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start']);

/** Validate the keys, then test each event with the result. */
export function compileEventFilters(f: FilterArgs): (e: EngineEvent) => boolean {
  checkFilterKeys(f, EVENT_FILTERS);
  const exact = (key: string, ...candidates: string[]) => {
    const values = f.get(key);
    return !values?.length || values.some((v) => candidates.includes(v));
  };
  const fuzzy = (key: string, ...candidates: string[]) => {
    const values = f.get(key);
    return !values?.length || values.some((v) => candidates.some((c) => c !== '' && c.startsWith(v)));
  };
  const events = f.get('event') ?? [];
  const fuzzyEvent = events.some((v) => PREFIX_ACTIONS.has(v));
  return (e) => {
    const id = e.Actor.ID;
    const name = e.Actor.Attributes.name ?? '';
    // An image is named by the image attribute of other actors' events, by `name` of its own.
    const imageName = (e.Type === 'image' ? e.Actor.Attributes.name : e.Actor.Attributes.image) ?? '';
    return (fuzzyEvent ? fuzzy('event', e.Action) : exact('event', e.Action))
      && exact('type', e.Type)
      && exact('scope', e.scope)
      && ACTOR_KEYS.every((key) => fuzzy(key, id, name))
      && exact('image', id, imageName, stripTag(id), stripTag(imageName))
      && matchLabels(f.get('label'), e.Actor.Attributes);
  };
}

/** `busybox:latest` → `busybox` (a registry port is not a tag). */
function stripTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

export interface EventWindow {
  /** Replay the persisted events from here (ms epoch); undefined: no replay unless `untilMs` is set. */
  sinceMs?: number;
  /** End the stream at this instant (ms epoch). */
  untilMs?: number;
}

/**
 * `since`/`until` as dockerd takes them (unix seconds with a fraction, RFC 3339, or a duration
 * back from now); an empty value is no bound; since after until is refused.
 */
export function parseEventWindow(since: string | undefined, until: string | undefined, now = Date.now()): EventWindow {
  const ms = (v: string | undefined) => (v ? parseTimestamp(v, now) : undefined);
  const out = { sinceMs: ms(since), untilMs: ms(until) };
  if (out.sinceMs !== undefined && out.untilMs !== undefined && out.sinceMs > out.untilMs) {
    throw new InvalidParameterError(`\`since\` time (${since}) cannot be after \`until\` time (${until})`);
  }
  return out;
}
