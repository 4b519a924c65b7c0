/**
 * engine/runtime/resources.ts, containers/update.ts and the cgroup v2 side of containers/stats.ts,
 * on fixture cgroup trees (this host is v1; v2 is only ever seen through these fixtures).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptResources, checkResources, detectCgroups, ociResources, parseCpuList, type CgroupFacts } from '../../src/engine/runtime/resources.js';
import { planUpdate } from '../../src/engine/containers/update.js';
import { parseIoStat, parseNetDev, readSample, statsJson } from '../../src/engine/containers/stats.js';
import type { HostConfig } from '../../src/engine/containers/types.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-cg-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const V1: CgroupFacts = {
  version: '1', memoryLimit: true, swapLimit: true, memoryReservation: true, memorySwappiness: true, oomKillDisable: true,
  cpuShares: true, cpuCfs: true, cpuset: true, cpus: '0-1', mems: '0', pidsLimit: true, blkioWeight: false,
};

test('cgroup v2 is detected from cgroup.controllers, with its effective cpuset', () => {
  const root = tree({
    'cgroup.controllers': 'cpuset cpu io memory pids\n',
    'cpuset.cpus.effective': '0-3\n',
    'cpuset.mems.effective': '0\n',
  });
  try {
    const f = detectCgroups(root);
    assert.equal(f.version, '2');
    assert.deepEqual([f.memoryLimit, f.swapLimit, f.cpuCfs, f.pidsLimit, f.blkioWeight, f.cpuset], [true, true, true, true, true, true]);
    assert.equal(f.oomKillDisable, false); // no such switch on v2
    assert.equal(f.memorySwappiness, false);
    assert.equal(f.cpus, '0-3');
    const none = detectCgroups(tree({ 'cgroup.controllers': 'pids\n' }));
    assert.deepEqual([none.memoryLimit, none.cpuCfs, none.cpuset, none.pidsLimit], [false, false, false, true]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v1: one folder per controller; no memsw file means no swap limit; blkio weight may be BFQ\'s', () => {
  const root = tree({
    'memory/memory.limit_in_bytes': '', 'memory/memory.soft_limit_in_bytes': '', 'memory/memory.oom_control': '',
    'cpu/cpu.shares': '', 'cpu/cpu.cfs_quota_us': '', 'cpuset/cpuset.cpus': '0-7\n', 'cpuset/cpuset.mems': '0-1\n',
    'pids/cgroup.procs': '', 'blkio/blkio.bfq.weight': '', 'unified/cgroup.procs': '',
  });
  try {
    const f = detectCgroups(root);
    assert.equal(f.version, '1');
    assert.equal(f.swapLimit, false);
    assert.equal(f.blkioWeight, true);
    assert.equal(f.cpus, '0-7');
    assert.equal(f.mems, '0-1');
    // dockerd then warns and drops the swap limit
    const hc: Record<string, unknown> = { Memory: 64 << 20, MemorySwap: 128 << 20 };
    const w = checkResources(hc, f, false, 8);
    assert.deepEqual(w, ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.']);
    assert.equal(hc.MemorySwap, -1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cpuset lists parse as moby\'s ParseUintList', () => {
  assert.deepEqual([...parseCpuList('0-2,5')], [0, 1, 2, 5]);
  assert.deepEqual([...parseCpuList('')], []);
  assert.throws(() => parseCpuList('3-1'), /invalid format: 3-1/);
  assert.throws(() => parseCpuList('a'), /invalid format: a/);
});

test('HostConfig → OCI linux.resources as dockerd builds them', () => {
  const hc: Record<string, unknown> = { Memory: 64 << 20, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 20, BlkioWeight: 300, MemoryReservation: 32 << 20, OomKillDisable: true };
  adaptResources(hc);
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.deepEqual(ociResources(hc), {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, disableOOMKiller: true },
    cpu: { shares: 512, period: 100000, quota: 150000, cpus: '0' },
    pids: { limit: 20 },
    blockIO: { weight: 300 },
  });
  // unlimited pids (0, -1) and unlimited swap add nothing; an explicit period/quota is used as is
  assert.deepEqual(ociResources({ PidsLimit: -1, MemorySwap: -1, CpuPeriod: 50000, CpuQuota: 20000 }), { cpu: { period: 50000, quota: 20000 } });
  const empty: Record<string, unknown> = {};
  adaptResources(empty);
  assert.deepEqual(empty, { OomKillDisable: false });
});

test('checks in dockerd\'s order: unsupported facts drop fields with warnings before ranges are checked', () => {
  const noBlkio = { ...V1, blkioWeight: false };
  const hc: Record<string, unknown> = { BlkioWeight: 5 };
  assert.deepEqual(checkResources(hc, noBlkio, false, 2), ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
  assert.equal(hc.BlkioWeight, 0);
  assert.throws(() => checkResources({ BlkioWeight: 5 }, { ...V1, blkioWeight: true }, false, 2), /Range of blkio weight is from 10 to 1000/);
  assert.throws(() => checkResources({ NanoCpus: 3e9 }, V1, false, 2), /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  assert.throws(() => checkResources({ Memory: 'x' }, V1), /field Memory must be an integer/);
  assert.deepEqual(checkResources({ OomKillDisable: true }, V1), ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.']);
  // v2: no OOM-killer switch, no swappiness
  const v2 = { ...V1, version: '2' as const, oomKillDisable: false, memorySwappiness: false };
  const h2: Record<string, unknown> = { OomKillDisable: true, MemorySwappiness: 10 };
  assert.deepEqual(checkResources(h2, v2), [
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
  ]);
  assert.equal(h2.OomKillDisable, null);
  // MemorySwap without Memory is fine for an update only
  assert.throws(() => checkResources({ MemorySwap: 64 << 20 }, V1), /You should always set the Memory limit/);
  assert.deepEqual(checkResources({ MemorySwap: 64 << 20 }, V1, true), []);
});

test('update merges as dockerd\'s UpdateContainer: zero keeps, conflicts are 409s, live resources only what changes', () => {
  const current = { Memory: 64 << 20, MemorySwap: 128 << 20, NanoCpus: 5e8, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false } as unknown as HostConfig;
  const plan = planUpdate('c1', current, { Memory: 100 << 20, CpuShares: 0, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, V1);
  assert.equal(plan.hostConfig.Memory, 100 << 20);
  assert.equal(plan.hostConfig.MemorySwap, 128 << 20);
  assert.equal(plan.hostConfig.NanoCpus, 5e8);
  assert.deepEqual(plan.hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(plan.live, { memory: { limit: 100 << 20 } });
  assert.equal(current.Memory, 64 << 20, 'the current HostConfig is not changed');
  assert.throws(() => planUpdate('c1', current, { Memory: 256 << 20 }, V1), (e: Error & { code?: string }) =>
    /Cannot update container c1: Memory limit should be smaller than already set memoryswap limit/.test(e.message) && e.code === 'CONFLICT');
  assert.throws(() => planUpdate('c1', current, { CpuPeriod: 20000 }, V1), /CPU Period cannot be updated as NanoCPUs has already been set/);
  assert.deepEqual(planUpdate('c1', current, { PidsLimit: 0, MemorySwap: -1 }, V1).live, { pids: { limit: -1 }, memory: { swap: -1 } });
  assert.throws(() => planUpdate('c1', current, { Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 1 }] }, V1), /Ulimits cannot be changed by update/);
});

test('stats on cgroup v2: cpu.stat, memory.current/max/stat, io.stat, pids', async () => {
  const id = 'a'.repeat(64);
  const root = tree({
    [`berth/${id}/cpu.stat`]: 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n',
    [`berth/${id}/memory.current`]: '1048576\n',
    [`berth/${id}/memory.max`]: '67108864\n',
    [`berth/${id}/memory.stat`]: 'anon 4096\ninactive_file 8192\n',
    [`berth/${id}/io.stat`]: '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    [`berth/${id}/pids.current`]: '3\n',
    [`berth/${id}/pids.max`]: 'max\n',
  });
  try {
    const s = await readSample(id, 0, root, '2');
    const j = statsJson('web', id, s, undefined);
    assert.equal(j.cpu_stats.cpu_usage.total_usage, 2_000_000);
    assert.equal(j.cpu_stats.cpu_usage.usage_in_usermode, 1_500_000);
    assert.deepEqual(j.cpu_stats.throttling_data, { periods: 10, throttled_periods: 2, throttled_time: 30_000 });
    assert.deepEqual(j.memory_stats, { usage: 1048576, limit: 67108864, stats: { anon: 4096, inactive_file: 8192 } });
    assert.deepEqual(j.pids_stats, { current: 3 });
    assert.deepEqual(j.blkio_stats.io_service_bytes_recursive, [
      { major: 8, minor: 0, op: 'read', value: 4096 }, { major: 8, minor: 0, op: 'write', value: 8192 }]);
    assert.equal('networks' in j, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  assert.deepEqual(parseIoStat('').bytes, []);
});

test('networks come from /proc/<pid>/net/dev, loopback left out', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1110      13    1    2    0     0          0         0      824       10    3    4    0     0       0          0
`;
  assert.deepEqual(parseNetDev(text), {
    eth0: { rx_bytes: 1110, rx_packets: 13, rx_errors: 1, rx_dropped: 2, tx_bytes: 824, tx_packets: 10, tx_errors: 3, tx_dropped: 4 },
  });
  assert.equal(parseNetDev(text.split('\n').slice(0, 3).join('\n')), undefined);
});
