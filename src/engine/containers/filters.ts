/**
 * GET /containers/json (`docker ps`): which containers to list, as dockerd's daemon/list.go
 * decides it. Built on ../filters.ts: labels all match, other keys' values are alternatives,
 * unknown keys are refused.
 */
import { InvalidParameterError } from '../errors.js';
import { checkFilterKeys, compilePattern, matchAny, matchLabels, type FilterArgs } from '../filters.js';
import { parsePortKey, parseHostPort } from '../network/ports.js';
import type { ContainerRecord, ContainerStatus } from './types.js';

/** Every key dockerd accepts for a container list. */
export const CONTAINER_FILTERS = [
  'ancestor', 'before', 'exited', 'expose', 'health', 'id', 'is-task', 'isolation', 'label', 'name',
  'network', 'publish', 'since', 'status', 'volume',
] as const;

const STATUSES: readonly ContainerStatus[] = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

export interface ContainerListOptions {
  /** Stopped containers too (implied by a `status` filter or a limit). */
  all?: boolean;
  /** At most this many, newest first (≤ 0: no limit). */
  limit?: number;
  filters?: FilterArgs;
  /** The old `before`/`since` query parameters: used when the filters name none. */
  before?: string;
  since?: string;
}

/** What filtering needs to look up: containers for before/since, images for ancestor. */
export interface ListLookups {
  container(ref: string): ContainerRecord;
  /** The image ID a reference resolves to, or undefined when it does not. */
  imageId(ref: string): string | undefined;
}

/**
 * The containers to list, newest first, as dockerd walks them: `before` skips up to and including
 * that container, `since` stops at it, then stopped ones are skipped unless `all` (or a limit), and
 * the limit stops the walk.
 */
export function selectContainers(records: readonly ContainerRecord[], opts: ContainerListOptions, lookups: ListLookups): ContainerRecord[] {
  const f = opts.filters ?? new Map<string, string[]>();
  checkFilterKeys(f, CONTAINER_FILTERS);
  const match = compileFilters(f, lookups);
  const limit = opts.limit ?? -1;
  const all = !!opts.all || f.has('status');
  let before = one(f, 'before', lookups) ?? (opts.before ? lookups.container(opts.before) : undefined);
  const since = one(f, 'since', lookups) ?? (opts.since ? lookups.container(opts.since) : undefined);
  const newestFirst = [...records].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
  const out: ContainerRecord[] = [];
  for (const rec of newestFirst) {
    if (before) {
      if (rec.Id === before.Id) before = undefined;
      continue;
    }
    if (since && rec.Id === since.Id) break;
    if (!isUp(rec) && !all && limit <= 0) continue;
    if (limit > 0 && out.length === limit) break;
    if (match(rec)) out.push(rec);
  }
  return out;
}

function isUp(rec: ContainerRecord): boolean {
  return rec.State.Status === 'running' || rec.State.Status === 'paused';
}

/** `before`/`since` name one container (the last value wins, as dockerd's WalkValues). */
function one(f: FilterArgs, key: string, lookups: ListLookups): ContainerRecord | undefined {
  const values = f.get(key) ?? [];
  return values.length ? lookups.container(values[values.length - 1]!) : undefined;
}

/** Validate the values once, then test each container with the result. */
function compileFilters(f: FilterArgs, lookups: ListLookups): (rec: ContainerRecord) => boolean {
  const exited = (f.get('exited') ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'exited=${v}'`);
    return Number(v);
  });
  for (const v of f.get('status') ?? []) {
    if (!STATUSES.includes(v as ContainerStatus)) throw new InvalidParameterError(`invalid filter 'status=${v}'`);
  }
  for (const v of f.get('health') ?? []) {
    if (!HEALTH.includes(v)) throw new InvalidParameterError(`Unrecognised filter value for health: ${v}`);
  }
  for (const v of f.get('is-task') ?? []) {
    if (v !== 'true' && v !== 'false') throw new InvalidParameterError(`invalid filter 'is-task=${v}'`);
  }
  const ancestors = f.get('ancestor');
  const imageIds = new Set((ancestors ?? []).map((a) => lookups.imageId(a)).filter((id): id is string => !!id));
  const publish = portSet(f.get('publish'), 'publish');
  const expose = portSet(f.get('expose'), 'expose');

  // Compiled (and checked: a 400 for an unbounded expression) once for the whole list.
  const names = (f.get('name') ?? []).map((v) => compilePattern('name', v));
  const ids = (f.get('id') ?? []).map((v) => compilePattern('id', v));

  return (rec) => {
    const name = rec.Name.replace(/^\//, '');
    return matchAny(names, (m) => m(`/${name}`) || m(name))
      && matchAny(ids, (m) => m(rec.Id))
      && matchLabels(f.get('label'), rec.Config.Labels)
      && matchAny(f.get('isolation'), (v) => v === (String(rec.HostConfig.Isolation ?? '') || 'default'))
      && (exited.length === 0 || (!isUp(rec) && hasRun(rec) && exited.includes(rec.State.ExitCode)))
      && matchAny(f.get('status'), (v) => v === rec.State.Status)
      // A container without a healthcheck (or never started with one) is "none".
      && matchAny(f.get('health'), (v) => v === (rec.State.Health?.Status ?? 'none'))
      // Swarm tasks do not exist here.
      && matchAny(f.get('is-task'), (v) => v === 'false')
      && (!ancestors?.length || imageIds.has(rec.ImageID))
      && matchAny(f.get('volume'), (v) => (rec.MountPoints ?? []).some((m) => m.Name === v || m.Source === v || m.Destination === v))
      && matchAny(f.get('network'), (v) => Object.entries(rec.NetworkSettings?.Networks ?? {})
        .some(([netName, ep]) => netName === v || (!!ep?.NetworkID && ep.NetworkID.startsWith(v))))
      && portsMatch(rec, publish, expose);
  };
}

function hasRun(rec: ContainerRecord): boolean {
  return !!rec.State.StartedAt && !rec.State.StartedAt.startsWith('0001-');
}

/** `80`, `80/udp`, `8000-8010/tcp` → the set of `port/proto` keys (no host address: refused as dockerd). */
function portSet(values: readonly string[] | undefined, key: string): Set<string> | undefined {
  if (!values?.length) return undefined;
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes(':')) throw new InvalidParameterError(`filter for '${key}' should not include ':': ${v}`);
    const [range = '', proto = 'tcp'] = v.split('/');
    const [start, end] = parseHostPort(range);
    if (start === 0) throw new InvalidParameterError(`invalid filter '${key}=${v}'`);
    for (let p = start; p <= end; p++) out.add(`${p}/${parsePortKey(`${p}/${proto}`).proto}`);
  }
  return out;
}

/**
 * As today's dockerd, over the list's port rows: `publish` names a host port, `expose` a container
 * port (published or not); one row matching either lets the container through.
 */
function portsMatch(rec: ContainerRecord, publish: Set<string> | undefined, expose: Set<string> | undefined): boolean {
  if (!publish && !expose) return true;
  for (const [key, bindings] of Object.entries(rec.NetworkSettings?.Ports ?? {})) {
    const { port, proto } = parsePortKey(key);
    if (expose?.has(`${port}/${proto}`)) return true;
    for (const b of bindings ?? []) if (publish?.has(`${Number(b.HostPort)}/${proto}`)) return true;
  }
  return false;
}
