/**
 * `docker update` (POST /containers/{id}/update) as dockerd does it (daemon/update.go and
 * container.UpdateContainer): the request is checked like a create's resources (400s, warnings),
 * merged into the record field by field (a zero means "unchanged"), with dockerd's conflicts
 * (409), and the restart policy validated and replaced. A running or paused container gets the
 * requested limits written to its cgroups at once; a stopped one gets them at its next start.
 */
import { validateRestartPolicy } from './restart-policy.js';
import { ConflictError, InvalidParameterError } from '../errors.js';
import { checkResources, ociResources, UPDATABLE_RESOURCE_FIELDS, type CgroupFacts } from '../runtime/resources.js';
import type { HostConfig, RestartPolicy } from './types.js';

/** The update body: moby's container.UpdateConfig (Resources plus RestartPolicy). */
export type UpdateBody = Record<string, unknown> & { RestartPolicy?: Partial<RestartPolicy> | null };

/**
 * Resource fields of the update body that dockerd reads but does not change on update (it keeps
 * the create-time value): set, they are refused by name rather than accepted and ignored.
 */
const NOT_UPDATABLE = ['MemorySwappiness', 'OomKillDisable', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'Ulimits'];

/** Fields merged as dockerd's UpdateContainer does: a non-zero value replaces the record's. */
const MERGED = ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems',
  'Memory', 'MemorySwap', 'MemoryReservation'];

export interface UpdatePlan {
  /** the record's HostConfig after the update */
  hostConfig: HostConfig;
  /** OCI linux.resources to write to a running container's cgroups (only what the request changes) */
  live: Record<string, unknown>;
  warnings: string[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** Check and merge an update request against a container's HostConfig (nothing is written here). */
export function planUpdate(id: string, current: HostConfig, body: UpdateBody, facts: CgroupFacts): UpdatePlan {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the update body must be an object');
  for (const f of NOT_UPDATABLE) {
    const v = body[f];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      throw new InvalidParameterError(`${f} cannot be changed by update (refused rather than ignored)`);
    }
  }
  const req: Record<string, unknown> = {};
  for (const f of UPDATABLE_RESOURCE_FIELDS) if (body[f] !== undefined) req[f] = body[f];
  const warnings = checkResources(req, facts, true);
  const rp = body.RestartPolicy ?? undefined;
  if (rp !== undefined && (typeof rp !== 'object' || Array.isArray(rp))) throw new InvalidParameterError('invalid JSON: field RestartPolicy must be an object');
  if (rp?.Name) validateRestartPolicy(rp);

  // dockerd's UpdateContainer: NanoCpus and CpuPeriod/CpuQuota exclude each other across updates too
  const conflict = (msg: string) => new ConflictError(`Cannot update container ${id}: ${msg}`);
  if (num(req.NanoCpus) > 0 && num(current.CpuPeriod) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (num(req.NanoCpus) > 0 && num(current.CpuQuota) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (num(req.CpuPeriod) > 0 && num(current.NanoCpus) > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (num(req.CpuQuota) > 0 && num(current.NanoCpus) > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const next: HostConfig = { ...current };
  for (const f of MERGED) {
    const v = req[f];
    if (v === undefined || v === null || v === 0 || v === '') continue;
    if (f === 'Memory' && (v as number) > num(current.MemorySwap) && num(req.MemorySwap) === 0) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next[f] = v;
  }
  if (req.PidsLimit !== undefined && req.PidsLimit !== null) next.PidsLimit = req.PidsLimit;
  if (rp?.Name) {
    if (current.AutoRemove && rp.Name !== 'no') throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  }
  const live = ociResources(req);
  // -1 lifts an earlier swap limit of a running container (the runtime writes it as unlimited)
  if (req.MemorySwap === -1) live.memory = { ...(live.memory as object | undefined), swap: -1 };
  // and 0 or less lifts a pids limit (the runtime writes "max")
  if (typeof req.PidsLimit === 'number' && req.PidsLimit <= 0) live.pids = { limit: -1 };
  return { hostConfig: next, live, warnings };
}
