/**
 * Resources, OOM, stats and update on a real berthd (cgroup v1 here): each limit is checked in the
 * container's cgroup files under /sys/fs/cgroup/<controller>/berth/<id>/, through the berth CLI
 * and the real docker CLI; refused options give a 400 naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { apiRequest } from '../helpers/api.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror();
});

after(async () => {
  await d?.stop();
});

const cg = (ctrl: string, id: string, file: string): string => readFileSync(`/sys/fs/cgroup/${ctrl}/berth/${id}/${file}`, 'utf8').trim();

async function ok(cli: 'berth' | 'docker', args: string[]): Promise<string> {
  const r = await d[cli](args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const api = (method: string, path: string, body?: unknown) => apiRequest(d.socket, method, path, body);

const MiB = 1024 * 1024;

for (const cli of ['berth', 'docker'] as const) {
  describe(`${cli}: limits reach the cgroup`, () => {
    test('-m 64m: memory.limit_in_bytes is 64 MiB, swap twice that (as dockerd); stats shows the limit', async () => {
      const id = (await ok(cli, ['run', '-d', '--name', `${cli}-mem`, '-m', '64m', 'busybox', 'sleep', '300'])).trim();
      assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(64 * MiB));
      assert.equal(cg('memory', id, 'memory.memsw.limit_in_bytes'), String(128 * MiB));
      assert.equal((await ok(cli, ['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', id])).trim(), `${64 * MiB} ${128 * MiB}`);
      const stats = await ok(cli, ['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
      assert.match(stats, /\/ 64MiB$/m);
      await ok(cli, ['rm', '-f', id]);
    });

    test('--cpus 0.5: cfs quota 50000 in a 100000 period; --cpu-shares, --cpuset-cpus, --memory-reservation', async () => {
      const id = (await ok(cli, ['run', '-d', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--memory-reservation', '32m',
        'busybox', 'sleep', '300'])).trim();
      assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '50000');
      assert.equal(cg('cpu', id, 'cpu.cfs_period_us'), '100000');
      assert.equal(cg('cpu', id, 'cpu.shares'), '512');
      assert.equal(cg('cpuset', id, 'cpuset.cpus'), '0');
      assert.equal(cg('memory', id, 'memory.soft_limit_in_bytes'), String(32 * MiB));
      assert.equal((await ok(cli, ['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}}', id])).trim(), '500000000 0');
      await ok(cli, ['rm', '-f', id]);
    });

    test('--cpu-quota/--cpu-period and --oom-kill-disable', async () => {
      const id = (await ok(cli, ['run', '-d', '--cpu-quota', '20000', '--cpu-period', '50000', '-m', '64m', '--oom-kill-disable',
        'busybox', 'sleep', '300'])).trim();
      assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '20000');
      assert.equal(cg('cpu', id, 'cpu.cfs_period_us'), '50000');
      assert.match(cg('memory', id, 'memory.oom_control'), /^oom_kill_disable 1$/m);
      await ok(cli, ['rm', '-f', id]);
    });

    test('a memory hog under -m 32m is OOM-killed: exit 137, OOMKilled true, an oom event', async () => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const r = await d[cli](['run', '--name', `${cli}-oom`, '-m', '32m', 'busybox', 'sh', '-c', 'x=a; while :; do x=$x$x; done'], { timeoutMs: 120_000 });
      assert.equal(r.code, 137, r.stderr);
      assert.equal((await ok(cli, ['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', `${cli}-oom`])).trim(), 'true 137');
      const until = Math.ceil(Date.now() / 1000) + 1;
      const ev = await ok(cli, ['events', '--since', String(since), '--until', String(until), '--filter', 'event=oom', '--filter', `container=${cli}-oom`]);
      assert.match(ev, /container oom [0-9a-f]{64}/);
      // a container that was not killed says so
      await ok(cli, ['run', '--name', `${cli}-fine`, '-m', '32m', 'busybox', 'true']);
      assert.equal((await ok(cli, ['inspect', '-f', '{{.State.OOMKilled}}', `${cli}-fine`])).trim(), 'false');
      await ok(cli, ['rm', `${cli}-oom`, `${cli}-fine`]);
    });

    test('--pids-limit 20 stops a fork loop at 20 processes', async () => {
      const id = (await ok(cli, ['run', '-d', '--pids-limit', '20', 'busybox', 'sleep', '300'])).trim();
      assert.equal(cg('pids', id, 'pids.max'), '20');
      // 60 background sleeps wanted; the shell dies at the first fork the limit refuses
      const loop = await d[cli](['exec', id, 'sh', '-c', 'i=0; while [ $i -lt 60 ]; do sleep 300 & i=$((i+1)); done; echo all forked'],
        { timeoutMs: 60_000 });
      assert.notEqual(loop.code, 0);
      assert.match(loop.stderr, /can't fork/);
      assert.doesNotMatch(loop.stdout, /all forked/);
      const procs = cg('pids', id, 'cgroup.procs').split('\n').filter(Boolean).length;
      assert.ok(procs >= 15 && procs <= 20, `processes in the container: ${procs}`);
      assert.match(cg('pids', id, 'pids.events'), /^max [1-9]\d*$/m);
      await ok(cli, ['rm', '-f', id]);
    });
  });

  describe(`${cli}: update`, () => {
    test('update --memory 128m on a running container changes the cgroup and inspect', async () => {
      const id = (await ok(cli, ['run', '-d', '-m', '64m', 'busybox', 'sleep', '300'])).trim();
      const out = await ok(cli, ['update', '--memory', '128m', id]);
      assert.equal(out, `${id}\n`);
      assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(128 * MiB));
      assert.equal((await ok(cli, ['inspect', '-f', '{{.HostConfig.Memory}}', id])).trim(), String(128 * MiB));
      // --cpus, --pids-limit live too; -1 lifts the pids limit again
      await ok(cli, ['update', '--cpus', '0.25', '--pids-limit', '50', id]);
      assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '25000');
      assert.equal(cg('pids', id, 'pids.max'), '50');
      await ok(cli, ['update', '--pids-limit', '-1', id]);
      assert.equal(cg('pids', id, 'pids.max'), 'max');
      // dockerd's conflicts: more memory than the swap limit, quota over --cpus
      const big = await d[cli](['update', '--memory', '512m', id]);
      assert.equal(big.code, 1);
      assert.match(big.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
      const q = await d[cli](['update', '--cpu-quota', '80000', id]);
      assert.equal(q.code, 1);
      assert.match(q.stderr, /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/);
      await ok(cli, ['rm', '-f', id]);
    });

    test('update of a stopped container is recorded and applied at its next start', async () => {
      const id = (await ok(cli, ['create', 'busybox', 'sleep', '300'])).trim();
      await ok(cli, ['update', '--memory', '48m', '--memory-swap', '-1', id]);
      await ok(cli, ['start', id]);
      assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(48 * MiB));
      await ok(cli, ['rm', '-f', id]);
    });

    test('update --restart always is persisted and shown by inspect; always:3 is refused', async () => {
      const id = (await ok(cli, ['run', '-d', 'busybox', 'sleep', '300'])).trim();
      await ok(cli, ['update', '--restart', 'always', id]);
      assert.equal((await ok(cli, ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', id])).trim(), 'always');
      const rec = JSON.parse(readFileSync(`${d.root}/${d.dataRoot}/containers/${id}/config.v2.json`, 'utf8'));
      assert.equal(rec.HostConfig.RestartPolicy.Name, 'always');
      const bad = await d[cli](['update', '--restart', 'always:3', id]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid restart policy: maximum retry count can only be used with 'on-failure'/);
      await ok(cli, ['rm', '-f', id]);
    });
  });

  test(`${cli}: stats --no-stream shows NET I/O after traffic on the bridge`, async () => {
    const id = (await ok(cli, ['run', '-d', 'busybox', 'sleep', '300'])).trim();
    const gateway = d.bip.split('/')[0]!;
    await ok(cli, ['exec', id, 'ping', '-c', '3', gateway]);
    const net = (await ok(cli, ['stats', '--no-stream', '--format', '{{.NetIO}}', id])).trim();
    const [rx, tx] = net.split(' / ');
    assert.ok(rx && tx && !/^0B$/.test(rx) && !/^0B$/.test(tx), `NET I/O: ${net}`);
    await ok(cli, ['rm', '-f', id]);
  });
}

describe('refused and checked options', () => {
  const create = (hc: Record<string, unknown>) => api('POST', '/v1.45/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: hc });

  test('resource fields berth does not apply are a 400 naming them', async () => {
    for (const field of ['KernelMemory', 'CpuRealtimeRuntime', 'BlkioDeviceReadBps', 'CgroupParent']) {
      const value = field === 'BlkioDeviceReadBps' ? [{ Path: '/dev/null', Rate: 1024 }] : field === 'CgroupParent' ? '/elsewhere' : 8 * MiB;
      const r = await create({ [field]: value });
      assert.equal(r.status, 400, field);
      assert.match(r.json.message, new RegExp(field));
    }
    // zero values, as every client sends them, pass
    const okr = await create({ KernelMemory: 0, BlkioDeviceReadBps: [], CgroupParent: '', CpuRealtimeRuntime: 0 });
    assert.equal(okr.status, 201, JSON.stringify(okr.json));
    await api('DELETE', `/containers/${okr.json.Id}`);
  });

  test('dockerd\'s checks and messages', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ Memory: 4 * MiB }, /^Minimum memory limit allowed is 6MB$/],
      [{ Memory: 64 * MiB, MemorySwap: 32 * MiB }, /Minimum memoryswap limit should be larger than memory limit/],
      [{ MemorySwap: 64 * MiB }, /You should always set the Memory limit when using Memoryswap limit/],
      [{ Memory: 64 * MiB, MemoryReservation: 128 * MiB }, /Minimum memory limit can not be less than memory reservation limit/],
      [{ NanoCpus: 5e8, CpuQuota: 20000 }, /Conflicting options: Nano CPUs and CPU Quota cannot both be set/],
      [{ NanoCpus: 5e8, CpuPeriod: 20000 }, /Conflicting options: Nano CPUs and CPU Period cannot both be set/],
      [{ NanoCpus: 1e12 }, /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
      [{ CpuPeriod: 500 }, /CPU cfs period can not be less than 1ms/],
      [{ CpusetCpus: '99' }, /Requested CPUs are not available - requested 99, available: /],
      [{ CpusetCpus: 'x' }, /Invalid value x for cpuset cpus/],
      [{ CpusetMems: '9' }, /Requested memory nodes are not available - requested 9, available: /],
      [{ MemorySwappiness: 200 }, /Invalid value: 200, valid memory swappiness range is 0-100/],
    ];
    for (const [hc, msg] of cases) {
      const r = await create(hc);
      assert.equal(r.status, 400, JSON.stringify(hc));
      assert.match(r.json.message, msg);
    }
    // the CLI says it as dockerd's does
    const m = await d.docker(['run', '--rm', '-m', '4m', 'busybox', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, /Minimum memory limit allowed is 6MB/);
  });

  test('--blkio-weight: this kernel has no blkio weight file, so dockerd\'s warning and the weight dropped', async () => {
    const weight = readFileSync('/proc/self/mountinfo', 'utf8') && (() => {
      try { readFileSync('/sys/fs/cgroup/blkio/blkio.weight'); return true; } catch { /* absent */ }
      try { readFileSync('/sys/fs/cgroup/blkio/blkio.bfq.weight'); return true; } catch { return false; }
    })();
    const r = await d.docker(['create', '--blkio-weight', '300', 'busybox', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const hc = await api('GET', `/containers/${id}/json`);
    if (weight) {
      assert.equal(hc.json.HostConfig.BlkioWeight, 300);
    } else {
      assert.match(r.stderr, /Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
      assert.equal(hc.json.HostConfig.BlkioWeight, 0);
    }
    const bad = await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { BlkioWeight: 5 } });
    assert.equal(bad.status, weight ? 400 : 201);
    if (bad.json.Id) await api('DELETE', `/containers/${bad.json.Id}`);
    await api('DELETE', `/containers/${id}`);
  });

  test('update: unsupported fields and bad policies are a 400 naming them, an unknown container a 404', async () => {
    const c = await create({});
    assert.equal(c.status, 201);
    const id = c.json.Id;
    for (const [body, msg] of [
      [{ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }, /Devices/],
      [{ KernelMemory: 8 * MiB }, /KernelMemory/],
      [{ OomKillDisable: true }, /OomKillDisable/],
      [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }, /invalid restart policy: maximum retry count can only be used with 'on-failure'/],
      [{ RestartPolicy: { Name: 'sometimes' } }, /invalid restart policy: unknown policy 'sometimes'/],
      [{ Memory: 1024 }, /Minimum memory limit allowed is 6MB/],
    ] as Array<[Record<string, unknown>, RegExp]>) {
      const r = await api('POST', `/containers/${id}/update`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.message, msg);
    }
    const good = await api('POST', `/containers/${id}/update`, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    assert.equal(good.status, 200);
    assert.deepEqual(good.json, { Warnings: [] });
    assert.equal((await api('POST', '/containers/nosuch/update', { Memory: 64 * MiB })).status, 404);
    const rm = await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { AutoRemove: true } });
    const conflict = await api('POST', `/containers/${rm.json.Id}/update`, { RestartPolicy: { Name: 'always' } });
    assert.equal(conflict.status, 409);
    assert.match(conflict.json.message, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    await api('DELETE', `/containers/${rm.json.Id}`);
    await api('DELETE', `/containers/${id}`);
  });

  test('/info tells the cgroup version and what it limits', async () => {
    const info = await api('GET', '/info');
    assert.equal(info.json.CgroupDriver, 'cgroupfs');
    const v2 = (() => { try { readFileSync('/sys/fs/cgroup/cgroup.controllers'); return true; } catch { return false; } })();
    assert.equal(info.json.CgroupVersion, v2 ? '2' : '1');
    assert.equal(info.json.MemoryLimit, true);
    assert.equal(info.json.PidsLimit, true);
    assert.equal(info.json.CpuCfsQuota, true);
    assert.equal(info.json.KernelMemory, false);
    if (!v2) {
      let memsw = true;
      try { readFileSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'); } catch { memsw = false; }
      assert.equal(info.json.SwapLimit, memsw);
      assert.equal(info.json.OomKillDisable, true);
    }
    const docker = await ok('docker', ['info', '-f', '{{.CgroupVersion}} {{.CgroupDriver}}']);
    assert.equal(docker.trim(), `${v2 ? '2' : '1'} cgroupfs`);
  });
});
