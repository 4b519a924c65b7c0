// The resource flags shared by `run`/`create` and `update` (docker/cli's container opts), and the
// HostConfig fields they make. Only flags the user gave are sent, so an update changes nothing else.
import { StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';

/** Flags of run, create and update. */
export const RESOURCE_FLAGS: FlagSpec[] = [
  { name: 'blkio-weight', type: 'uint', usage: 'Relative block I/O weight, 10 to 1000; 0 turns it off (default 0)' },
  { name: 'cpu-period', type: 'int', usage: 'CPU scheduler (CFS) period, in microseconds' },
  { name: 'cpu-quota', type: 'int', usage: 'CPU time allowed per CFS period, in microseconds' },
  { name: 'cpu-shares', short: 'c', type: 'int', usage: 'Relative CPU weight' },
  { name: 'cpus', type: 'float', typeName: 'decimal', usage: 'How many CPUs the container may use (fractions allowed)' },
  { name: 'cpuset-cpus', type: 'string', usage: 'CPUs the container may run on, e.g. 0-3 or 0,1' },
  { name: 'cpuset-mems', type: 'string', usage: 'Memory nodes the container may use, e.g. 0-3 or 0,1' },
  { name: 'memory', short: 'm', type: 'string', typeName: 'bytes', usage: 'Hard memory limit' },
  { name: 'memory-reservation', type: 'string', typeName: 'bytes', usage: 'Soft memory limit' },
  { name: 'memory-swap', type: 'string', typeName: 'bytes', usage: 'Limit on memory plus swap; -1 allows unlimited swap' },
  { name: 'pids-limit', type: 'int', usage: 'Most processes the container may have (-1: no limit)' },
];

/** Flags of run and create only. */
export const CREATE_RESOURCE_FLAGS: FlagSpec[] = [
  { name: 'memory-swappiness', type: 'int', def: -1, usage: 'How eagerly the kernel swaps out container memory, 0 to 100' },
  { name: 'oom-kill-disable', type: 'bool', usage: 'Keep the OOM killer away from the container' },
];

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** docker's RAMInBytes ("64m", "1.5g", "512k", bytes). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new StatusError(125, `invalid size: '${s}'`);
  return Math.round(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!);
}

/** The HostConfig resource fields of the flags the user gave (`--memory-swap -1`: unlimited). */
export function resourcesFromFlags(p: ParsedFlags): Record<string, unknown> {
  const f = p.flags;
  const given = (n: string) => p.changed.has(n);
  const out: Record<string, unknown> = {};
  const bytes = (n: string, field: string) => { if (given(n) && f[n]) out[field] = ramInBytes(f[n] as string); };
  bytes('memory', 'Memory');
  bytes('memory-reservation', 'MemoryReservation');
  if (given('memory-swap')) out.MemorySwap = (f['memory-swap'] as string).trim() === '-1' ? -1 : ramInBytes(f['memory-swap'] as string);
  if (given('cpus')) out.NanoCpus = Math.round((f.cpus as number) * 1e9);
  for (const [n, field] of [['cpu-shares', 'CpuShares'], ['cpu-period', 'CpuPeriod'], ['cpu-quota', 'CpuQuota'], ['blkio-weight', 'BlkioWeight']] as const) {
    if (given(n)) out[field] = f[n];
  }
  if (given('cpuset-cpus')) out.CpusetCpus = f['cpuset-cpus'];
  if (given('cpuset-mems')) out.CpusetMems = f['cpuset-mems'];
  if (given('pids-limit')) out.PidsLimit = f['pids-limit'];
  if (given('memory-swappiness')) out.MemorySwappiness = f['memory-swappiness'];
  if (given('oom-kill-disable')) out.OomKillDisable = f['oom-kill-disable'];
  return out;
}
