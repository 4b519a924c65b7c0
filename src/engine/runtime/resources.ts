/**
 * Container resources (`-m`, `--memory-swap`, `--cpus`, `--cpu-shares`, `--cpuset-*`, `--pids-limit`,
 * `--blkio-weight`, …) as dockerd treats them:
 *
 * - `detectCgroups()` reads, once, what the host's cgroups can limit (v1 or v2; moby's pkg/sysinfo):
 *   the facts behind /info's booleans and behind every check below.
 * - `checkResources()` is moby's verifyPlatformContainerResources: dockerd's 400 messages, and its
 *   warnings where an option the host cannot enforce is dropped (the field is zeroed in the record,
 *   so inspect shows what is really applied). Fields Berth does not apply are refused by name.
 * - `adaptResources()` fills dockerd's create-time defaults (MemorySwap twice Memory, OomKillDisable).
 * - `ociResources()` turns the HostConfig into the OCI `linux.resources` that crun writes to the
 *   cgroup, at start and (through `crun update`) on `docker update`.
 *
 * HostConfig is taken as a plain record: the runtime sits below the container service.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InvalidParameterError } from '../errors.js';

/** dockerd's floor for memory limits and reservations (linuxMinMemory): 6 MiB. */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** The CFS period dockerd uses for `--cpus` (100 ms, in µs). */
export const NANO_CPUS_PERIOD = 100_000;

/** What the host's cgroups can enforce (moby's sysinfo.SysInfo, the parts Berth uses). */
export interface CgroupFacts {
  version: '1' | '2';
  memoryLimit: boolean;
  swapLimit: boolean;
  memoryReservation: boolean;
  memorySwappiness: boolean;
  oomKillDisable: boolean;
  cpuShares: boolean;
  cpuCfs: boolean;
  cpuset: boolean;
  /** the CPUs and memory nodes the root cgroup offers ("0-3"), for --cpuset-cpus/--cpuset-mems */
  cpus: string;
  mems: string;
  pidsLimit: boolean;
  blkioWeight: boolean;
}

const has = (...p: string[]): boolean => existsSync(join(...p));
const readTrim = (...p: string[]): string => {
  try { return readFileSync(join(...p), 'utf8').trim(); } catch { return ''; }
};

/**
 * Probe the cgroup mounts under `root` (a fixture folder in unit tests). v2 when `root` itself is
 * the unified hierarchy (it has cgroup.controllers); otherwise v1 with one folder per controller
 * (an empty `unified` folder beside them, as in a hybrid layout, changes nothing).
 */
export function detectCgroups(root = '/sys/fs/cgroup'): CgroupFacts {
  if (has(root, 'cgroup.controllers')) {
    const controllers = new Set(readTrim(root, 'cgroup.controllers').split(/\s+/).filter(Boolean));
    const memory = controllers.has('memory');
    const cpuset = controllers.has('cpuset');
    return {
      version: '2',
      // as moby's cgroup2 sysinfo: swap with the memory controller; no swappiness, no OOM-killer switch
      memoryLimit: memory, swapLimit: memory, memoryReservation: memory, memorySwappiness: false, oomKillDisable: false,
      cpuShares: controllers.has('cpu'), cpuCfs: controllers.has('cpu'),
      cpuset,
      cpus: cpuset ? readTrim(root, 'cpuset.cpus.effective') : '',
      mems: cpuset ? readTrim(root, 'cpuset.mems.effective') : '',
      pidsLimit: controllers.has('pids'),
      blkioWeight: controllers.has('io'),
    };
  }
  const mem = join(root, 'memory');
  const cpu = join(root, 'cpu');
  const cpuset = join(root, 'cpuset');
  const blkio = join(root, 'blkio');
  return {
    version: '1',
    memoryLimit: has(mem, 'memory.limit_in_bytes'),
    swapLimit: has(mem, 'memory.memsw.limit_in_bytes'),
    memoryReservation: has(mem, 'memory.soft_limit_in_bytes'),
    memorySwappiness: has(mem, 'memory.swappiness'),
    oomKillDisable: has(mem, 'memory.oom_control'),
    cpuShares: has(cpu, 'cpu.shares'),
    cpuCfs: has(cpu, 'cpu.cfs_quota_us'),
    cpuset: has(cpuset, 'cpuset.cpus'),
    cpus: readTrim(cpuset, 'cpuset.cpus'),
    mems: readTrim(cpuset, 'cpuset.mems'),
    pidsLimit: has(root, 'pids', 'pids.max') || has(root, 'pids', 'cgroup.procs'),
    // moby looks for the weight file at the hierarchy's root, and falls back to BFQ's
    blkioWeight: has(blkio, 'blkio.weight') || has(blkio, 'blkio.bfq.weight'),
  };
}

let hostFacts: CgroupFacts | undefined;
/** The daemon host's cgroup facts, probed once. */
export function hostCgroups(): CgroupFacts {
  hostFacts ??= detectCgroups();
  return hostFacts;
}

/**
 * Resource fields Berth does not apply: a non-empty value is refused with a 400 naming the field,
 * never accepted and ignored. (Zero values and empty lists, which every client sends, pass.)
 */
export const REFUSED_RESOURCE_FIELDS: readonly string[] = [
  'KernelMemory', 'KernelMemoryTCP', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuCount',
  'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
  'CgroupParent',
];

/** The resource fields of HostConfig that `docker update` may change (moby's container.Resources). */
export const UPDATABLE_RESOURCE_FIELDS: readonly string[] = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable', 'NanoCpus', 'CpuShares',
  'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth', ...REFUSED_RESOURCE_FIELDS,
];

const isSet = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== 0 && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0);

const NUMBER_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota',
  'BlkioWeight', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth'] as const;

/** JSON types first, so a wrong type is a 400 naming the field (as dockerd's decoder), not a 500. */
function checkTypes(hc: Record<string, unknown>): void {
  const bad = (f: string, want: string) => { throw new InvalidParameterError(`invalid JSON: field ${f} must be ${want}`); };
  for (const f of NUMBER_FIELDS) if (hc[f] !== undefined && hc[f] !== null && !Number.isInteger(hc[f])) bad(f, 'an integer');
  for (const f of ['PidsLimit', 'MemorySwappiness']) if (hc[f] !== undefined && hc[f] !== null && !Number.isInteger(hc[f])) bad(f, 'an integer or null');
  for (const f of ['CpusetCpus', 'CpusetMems']) if (hc[f] !== undefined && hc[f] !== null && typeof hc[f] !== 'string') bad(f, 'a string');
  if (hc.OomKillDisable !== undefined && hc.OomKillDisable !== null && typeof hc.OomKillDisable !== 'boolean') bad('OomKillDisable', 'a boolean or null');
}

/** Refuse, by name, every resource field that is set but not applied by Berth. */
export function refuseUnsupported(hc: Record<string, unknown>): void {
  for (const f of REFUSED_RESOURCE_FIELDS) {
    if (isSet(hc[f])) throw new InvalidParameterError(`HostConfig.${f} is not supported by berth (refused rather than ignored)`);
  }
}

/** A cpuset list ("0-2,4"): the numbers, or an error in moby's words (parsers.ParseUintList). */
export function parseCpuList(list: string): Set<number> {
  const out = new Set<number>();
  if (list === '') return out;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid format: ${list}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`invalid format: ${list}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

function cpusetAvailable(requested: string, available: string, what: 'cpus' | 'mems'): void {
  let want: Set<number>;
  try {
    want = parseCpuList(requested);
  } catch (e) {
    throw new InvalidParameterError(`Invalid value ${requested} for cpuset ${what}: ${(e as Error).message}`);
  }
  let have: Set<number>;
  try { have = parseCpuList(available); } catch { have = new Set(); }
  for (const n of want) {
    if (!have.has(n)) {
      throw new InvalidParameterError(what === 'cpus'
        ? `Requested CPUs are not available - requested ${requested}, available: ${available}`
        : `Requested memory nodes are not available - requested ${requested}, available: ${available}`);
    }
  }
}

/**
 * dockerd's checks of the resource fields (verifyPlatformContainerResources), in its order and
 * words: a 400 for what it refuses, a warning (and the field dropped in `hc`) for what the host
 * cannot enforce. `update` relaxes what `docker update` may leave out (MemorySwap without Memory).
 */
export function checkResources(hc: Record<string, unknown>, facts: CgroupFacts, update = false, ncpu = availableParallelism()): string[] {
  checkTypes(hc);
  refuseUnsupported(hc);
  const warnings: string[] = [];
  const n = (f: string): number => (typeof hc[f] === 'number' ? hc[f] as number : 0);
  const memory = n('Memory');
  if (memory !== 0 && memory < MIN_MEMORY) throw new InvalidParameterError('Minimum memory limit allowed is 6MB');
  if (memory > 0 && !facts.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    hc.Memory = 0;
    hc.MemorySwap = -1;
  }
  if (n('Memory') > 0 && n('MemorySwap') !== -1 && !facts.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    hc.MemorySwap = -1;
  }
  if (n('Memory') > 0 && n('MemorySwap') > 0 && n('MemorySwap') < n('Memory')) {
    throw new InvalidParameterError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (n('Memory') === 0 && n('MemorySwap') > 0 && !update) {
    throw new InvalidParameterError('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness !== -1) {
    if (!facts.memorySwappiness) {
      warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
      hc.MemorySwappiness = null;
    } else {
      const s = hc.MemorySwappiness as number;
      if (s < 0 || s > 100) throw new InvalidParameterError(`Invalid value: ${s}, valid memory swappiness range is 0-100`);
    }
  } else if (hc.MemorySwappiness === -1) {
    hc.MemorySwappiness = null; // -1 is dockerd's "unset" (fixMemorySwappiness)
  }
  if (n('MemoryReservation') > 0 && !facts.memoryReservation) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    hc.MemoryReservation = 0;
  }
  if (n('MemoryReservation') > 0 && n('MemoryReservation') < MIN_MEMORY) throw new InvalidParameterError('Minimum memory reservation allowed is 6MB');
  if (n('Memory') > 0 && n('MemoryReservation') > 0 && n('Memory') < n('MemoryReservation')) {
    throw new InvalidParameterError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (hc.OomKillDisable !== undefined && hc.OomKillDisable !== null && !facts.oomKillDisable) {
    if (hc.OomKillDisable === true) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    hc.OomKillDisable = null;
  }
  if (hc.OomKillDisable === true && n('Memory') === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && !facts.pidsLimit) {
    if ((hc.PidsLimit as number) > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    hc.PidsLimit = null;
  }

  // cpu
  const nano = n('NanoCpus');
  if (nano > 0 && n('CpuPeriod') > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && n('CpuQuota') > 0) throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && !facts.cpuCfs) {
    throw new InvalidParameterError('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  }
  if (nano < 0 || nano > ncpu * 1e9) {
    throw new InvalidParameterError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (n('CpuShares') > 0 && !facts.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    hc.CpuShares = 0;
  }
  if (n('CpuShares') < 0) throw new InvalidParameterError('shares: invalid argument');
  if ((n('CpuPeriod') !== 0 || n('CpuQuota') !== 0) && !facts.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    hc.CpuPeriod = 0;
    hc.CpuQuota = 0;
  }
  if (n('CpuPeriod') !== 0 && (n('CpuPeriod') < 1000 || n('CpuPeriod') > 1_000_000)) {
    throw new InvalidParameterError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (n('CpuQuota') > 0 && n('CpuQuota') < 1000) throw new InvalidParameterError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (n('CpuPercent') > 0) {
    warnings.push('linux does not support CPU percent. Percent discarded.');
    hc.CpuPercent = 0;
  }

  // cpuset
  const cpus = typeof hc.CpusetCpus === 'string' ? hc.CpusetCpus : '';
  const mems = typeof hc.CpusetMems === 'string' ? hc.CpusetMems : '';
  if ((cpus || mems) && !facts.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    hc.CpusetCpus = '';
    hc.CpusetMems = '';
  } else {
    cpusetAvailable(cpus, facts.cpus, 'cpus');
    cpusetAvailable(mems, facts.mems, 'mems');
  }

  // blkio
  if (n('BlkioWeight') > 0 && !facts.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    hc.BlkioWeight = 0;
  }
  if (n('BlkioWeight') > 0 && (n('BlkioWeight') < 10 || n('BlkioWeight') > 1000)) throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
  if (n('IOMaximumBandwidth') !== 0 || n('IOMaximumIOps') !== 0) {
    throw new InvalidParameterError('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  return warnings;
}

/** dockerd's create-time defaults (adaptContainerSettings): swap twice the memory, OomKillDisable false. */
export function adaptResources(hc: Record<string, unknown>): void {
  if (typeof hc.Memory === 'number' && hc.Memory > 0 && !hc.MemorySwap) hc.MemorySwap = hc.Memory * 2;
  if (hc.OomKillDisable === undefined || hc.OomKillDisable === null) hc.OomKillDisable = false;
}

/** OCI `linux.resources` (memory, cpu, pids, blockIO) for a HostConfig, as dockerd builds them. */
export function ociResources(hc: Record<string, unknown>): Record<string, unknown> {
  const n = (f: string): number => (typeof hc[f] === 'number' ? hc[f] as number : 0);
  const out: Record<string, unknown> = {};
  const memory: Record<string, unknown> = {};
  if (n('Memory') > 0) memory.limit = n('Memory');
  if (n('MemoryReservation') > 0) memory.reservation = n('MemoryReservation');
  if (n('MemorySwap') > 0) memory.swap = n('MemorySwap');
  if (typeof hc.MemorySwappiness === 'number' && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (typeof hc.OomKillDisable === 'boolean' && hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;

  const cpu: Record<string, unknown> = {};
  if (n('CpuShares') > 0) cpu.shares = n('CpuShares');
  if (n('NanoCpus') > 0) {
    cpu.period = NANO_CPUS_PERIOD;
    cpu.quota = Math.floor((n('NanoCpus') * NANO_CPUS_PERIOD) / 1e9);
  }
  if (n('CpuPeriod') !== 0) cpu.period = n('CpuPeriod');
  if (n('CpuQuota') !== 0) cpu.quota = n('CpuQuota');
  if (typeof hc.CpusetCpus === 'string' && hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (typeof hc.CpusetMems === 'string' && hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;

  // 0 and negative values mean unlimited: a new cgroup is (crun would write -1, which v1 refuses)
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit > 0) out.pids = { limit: hc.PidsLimit };
  if (n('BlkioWeight') > 0) out.blockIO = { weight: n('BlkioWeight') };
  return out;
}
