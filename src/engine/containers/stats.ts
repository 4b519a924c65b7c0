/**
 * Container resource statistics (GET /containers/{id}/stats) in the Engine API's shape (moby's
 * daemon/stats_unix.go): from the cgroup v1 files (cpuacct, memory.*, pids, blkio) or the cgroup
 * v2 ones (cpu.stat, memory.current/max/stat, io.stat, pids.*); the host's CPU time from
 * /proc/stat, as dockerd does, so clients compute CPU % from deltas; and the `networks` section
 * from /proc/<init pid>/net/dev, which shows the container's own network namespace.
 */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { cgroupDir } from './top.js';
import { hostCgroups } from '../runtime/resources.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** USER_HZ: /proc/stat and cpuacct.stat count in these ticks. */
const CLOCK_TICKS = 100;

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** One raw reading of a container's cgroup files (and the host's CPU time). */
export interface Sample {
  read: string;
  cpu: CpuStats;
  memory: { usage?: number; max_usage?: number; limit?: number; failcnt?: number; stats?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { io_service_bytes_recursive: BlkioEntry[] | null; io_serviced_recursive: BlkioEntry[] | null };
  networks?: Record<string, NetworkStats>;
}

export interface NetworkStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

// ---- parsers of the cgroup files (pure, unit-tested) ----

/** `key value` lines (memory.stat, cpuacct.stat, cpu.stat). */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** blkio.throttle.io_service_bytes: `8:0 Read 4096` lines; the `Total` line is left out. */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+)\s+(\w+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** The host's total CPU time in nanoseconds: the first 7 fields of /proc/stat's `cpu` line. */
export function parseSystemCpu(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((n, v) => n + Number(v), 0);
  return (ticks * 1e9) / CLOCK_TICKS;
}

/** A limit file: a number, or unlimited (`max`, or v1's page-rounded INT64_MAX) as undefined. */
export function parseLimit(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 2 ** 62 ? undefined : n;
}

/**
 * /proc/<pid>/net/dev: per interface counters of that process's network namespace, loopback left
 * out (dockerd reports the sandbox's interfaces only). Undefined when there is none (--network none).
 */
export function parseNetDev(text: string): Record<string, NetworkStats> | undefined {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((x) => !Number.isFinite(x))) continue;
    out[m[1]!] = {
      rx_bytes: v[0]!, rx_packets: v[1]!, rx_errors: v[2]!, rx_dropped: v[3]!,
      tx_bytes: v[8]!, tx_packets: v[9]!, tx_errors: v[10]!, tx_dropped: v[11]!,
    };
  }
  return Object.keys(out).length ? out : undefined;
}

/** cgroup v2 io.stat (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 …`) as dockerd's read/write entries. */
export function parseIoStat(text: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3]!.split(/\s+/).map((p) => p.split('=')).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
    const major = Number(m[1]);
    const minor = Number(m[2]);
    bytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    ios.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { bytes, ios };
}

// ---- reading ----

async function read(path: string): Promise<string | undefined> {
  try { return await readFile(path, 'utf8'); } catch { return undefined; }
}

const num = (t: string | undefined): number | undefined => (t !== undefined && /^\s*\d+\s*$/.test(t) ? Number(t.trim()) : undefined);

/** One reading of a container: its cgroup files (v1 or v2, as the host has), and its network counters. */
export async function readSample(id: string, pid = 0, root = '/sys/fs/cgroup', version = hostCgroups().version): Promise<Sample> {
  const [sample, netDev] = await Promise.all([
    version === '2' ? readSampleV2(id, root) : readSampleV1(id, root),
    pid > 0 ? read(`/proc/${pid}/net/dev`) : Promise.resolve(undefined),
  ]);
  const networks = netDev === undefined ? undefined : parseNetDev(netDev);
  return networks ? { ...sample, networks } : sample;
}

/** The memory limit as dockerd reports it: the host's memory when unlimited or above it. */
function memoryLimit(text: string | undefined): number {
  const machine = totalmem();
  const limit = parseLimit(text ?? '');
  return limit === undefined || limit > machine ? machine : limit;
}

const stamp = (): string => new Date().toISOString().replace('Z', '') + '000000Z';

/** cgroup v2: one folder (<root>/berth/<id>) with cpu.stat, memory.*, io.stat and pids.*. */
export async function readSampleV2(id: string, root = '/sys/fs/cgroup'): Promise<Sample> {
  const dir = cgroupDir('', id, root);
  const [cpuStat, memCur, memMax, memStat, ioStat, pidsCur, pidsMax, procStat] = await Promise.all([
    read(`${dir}/cpu.stat`), read(`${dir}/memory.current`), read(`${dir}/memory.max`), read(`${dir}/memory.stat`), read(`${dir}/io.stat`),
    read(`${dir}/pids.current`), read(`${dir}/pids.max`), read('/proc/stat'),
  ]);
  const c = parseKeyValues(cpuStat ?? '');
  const io = ioStat === undefined ? undefined : parseIoStat(ioStat);
  return {
    read: stamp(),
    cpu: {
      cpu_usage: {
        total_usage: (c.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (c.system_usec ?? 0) * 1000,
        usage_in_usermode: (c.user_usec ?? 0) * 1000,
      },
      system_cpu_usage: parseSystemCpu(procStat ?? ''),
      online_cpus: cpus().length,
      throttling_data: { periods: c.nr_periods ?? 0, throttled_periods: c.nr_throttled ?? 0, throttled_time: (c.throttled_usec ?? 0) * 1000 },
    },
    // as dockerd on v2: no max_usage nor failcnt
    memory: memCur === undefined ? {} : { usage: num(memCur), limit: memoryLimit(memMax), stats: parseKeyValues(memStat ?? '') },
    pids: { current: num(pidsCur), limit: parseLimit(pidsMax ?? '') },
    blkio: { io_service_bytes_recursive: io?.bytes ?? null, io_serviced_recursive: io?.ios ?? null },
  };
}

async function readSampleV1(id: string, root: string): Promise<Sample> {
  const cpuacct = cgroupDir('cpuacct', id, root);
  const memory = cgroupDir('memory', id, root);
  const pids = cgroupDir('pids', id, root);
  const blkio = cgroupDir('blkio', id, root);
  const [usage, percpu, acctStat, cpuStat, memUsage, memMax, memLimit, memFail, memStat, pidsCur, pidsMax, ioBytes, ioOps, procStat] = await Promise.all([
    read(`${cpuacct}/cpuacct.usage`), read(`${cpuacct}/cpuacct.usage_percpu`), read(`${cpuacct}/cpuacct.stat`),
    read(`${cgroupDir('cpu', id, root)}/cpu.stat`),
    read(`${memory}/memory.usage_in_bytes`), read(`${memory}/memory.max_usage_in_bytes`), read(`${memory}/memory.limit_in_bytes`),
    read(`${memory}/memory.failcnt`), read(`${memory}/memory.stat`),
    read(`${pids}/pids.current`), read(`${pids}/pids.max`),
    read(`${blkio}/blkio.throttle.io_service_bytes`), read(`${blkio}/blkio.throttle.io_serviced`),
    read('/proc/stat'),
  ]);
  const acct = parseKeyValues(acctStat ?? '');
  const thr = parseKeyValues(cpuStat ?? '');
  const percpuList = (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  const limit = memoryLimit(memLimit);
  return {
    read: stamp(),
    cpu: {
      cpu_usage: {
        total_usage: num(usage) ?? 0,
        percpu_usage: percpuList.length ? percpuList : undefined,
        usage_in_kernelmode: ((acct.system ?? 0) * 1e9) / CLOCK_TICKS,
        usage_in_usermode: ((acct.user ?? 0) * 1e9) / CLOCK_TICKS,
      },
      system_cpu_usage: parseSystemCpu(procStat ?? ''),
      online_cpus: cpus().length,
      throttling_data: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
    },
    memory: memUsage === undefined ? {} : {
      usage: num(memUsage), max_usage: num(memMax), limit, failcnt: num(memFail), stats: parseKeyValues(memStat ?? ''),
    },
    pids: { current: num(pidsCur), limit: parseLimit(pidsMax ?? '') },
    blkio: {
      io_service_bytes_recursive: ioBytes === undefined ? null : parseBlkio(ioBytes),
      io_serviced_recursive: ioOps === undefined ? null : parseBlkio(ioOps),
    },
  };
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** One stats object of the API from the current and the previous sample (undefined: none yet). */
export function statsJson(name: string, id: string, cur: Sample | undefined, prev: Sample | undefined) {
  return {
    name: `/${name}`,
    id,
    read: cur?.read ?? ZERO_TIME,
    preread: prev?.read ?? ZERO_TIME,
    pids_stats: cur ? dropUndefined(cur.pids) : {},
    blkio_stats: {
      io_service_bytes_recursive: cur?.blkio.io_service_bytes_recursive ?? null,
      io_serviced_recursive: cur?.blkio.io_serviced_recursive ?? null,
      io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cur?.cpu ?? emptyCpu(),
    precpu_stats: prev?.cpu ?? emptyCpu(),
    memory_stats: cur ? dropUndefined(cur.memory) : {},
    ...(cur?.networks ? { networks: cur.networks } : {}),
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The stats stream: with `stream`, one object a second until the container is gone; without it,
 * one object whose precpu is a reading taken a second before (or, with `oneShot`, none at all).
 * A container that is not running reports empty stats, as dockerd does.
 */
export async function* statsStream(opts: {
  id: string;
  name: () => string;
  /** the container's init process (0 when not running): its /proc/<pid>/net/dev */
  pid?: () => number;
  running: () => boolean;
  exists: () => boolean;
  stream: boolean;
  oneShot: boolean;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}): AsyncGenerator<ReturnType<typeof statsJson>> {
  const interval = opts.intervalMs ?? 1000;
  const pid = opts.pid ?? (() => 0);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  if (!opts.stream) {
    if (!opts.running()) { yield statsJson(opts.name(), opts.id, undefined, undefined); return; }
    let prev: Sample | undefined;
    if (!opts.oneShot) {
      prev = await readSample(opts.id, pid());
      await sleep(interval);
    }
    yield statsJson(opts.name(), opts.id, opts.running() ? await readSample(opts.id, pid()) : undefined, prev);
    return;
  }
  let prev: Sample | undefined;
  while (opts.exists()) {
    const cur = opts.running() ? await readSample(opts.id, pid()) : undefined;
    yield statsJson(opts.name(), opts.id, cur, prev);
    prev = cur;
    await sleep(interval);
  }
}
