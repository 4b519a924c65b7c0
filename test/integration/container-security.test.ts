/**
 * Docker's security defaults and the process options, checked inside the container (not the echo
 * in inspect) through our `berth` CLI and the real `docker` CLI: capabilities (CapEff), seccomp
 * (the default profile blocks, a given profile applies, unconfined), no-new-privileges,
 * --privileged, --init, --pid host, --sysctl, --ulimit, --device, --read-only, --group-add; and
 * options Berth refuses answering 400 with the field's name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonWithMirror, run, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let tmp: string;
let hostCapBnd: string;

/** A static probe: personality(ADDR_NO_RANDOMIZE), which the default profile does not allow. */
const PROBE_C = `#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/personality.h>
int main(void) {
  if (personality(0x0040000) == -1) { printf("personality: %s\\n", strerror(errno)); return 1; }
  printf("personality: ok\\n");
  return 0;
}
`;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  tmp = await mkdtemp(join(tmpdir(), 'bt-sec-'));
  await writeFile(join(tmp, 'probe.c'), PROBE_C);
  const cc = await run('gcc', ['-static', '-O1', '-o', join(tmp, 'probe'), join(tmp, 'probe.c')]);
  assert.equal(cc.code, 0, cc.stderr);
  // a profile that allows everything but mkdir
  await writeFile(join(tmp, 'nomkdir.json'), JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  }, null, 2));
  hostCapBnd = /^CapBnd:\s*(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1]!;
  const p = await d.docker(['pull', 'busybox']);
  assert.equal(p.code, 0, p.stderr);
});

after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const status = (out: string, key: string): string => new RegExp(`^${key}:\\s*(\\S+)$`, 'm').exec(out)?.[1] ?? `<no ${key}>`;
const DEFAULT_CAPEFF = '00000000a80425fb';

for (const cli of ['berth', 'docker'] as const) {
  describe(`${cli}: security defaults`, () => {
    const runIn = (args: string[]) => d[cli](['run', '--rm', ...args]);

    test('default: Docker\'s 14 capabilities, seccomp filter on, no-new-privileges off', async () => {
      const r = await runIn(['busybox', 'cat', '/proc/self/status']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(status(r.stdout, 'CapEff'), DEFAULT_CAPEFF);
      assert.equal(status(r.stdout, 'CapBnd'), DEFAULT_CAPEFF);
      assert.equal(status(r.stdout, 'Seccomp'), '2');
      assert.equal(status(r.stdout, 'NoNewPrivs'), '0');
      if (cli === 'docker') {
        const info = await d.docker(['info', '--format', '{{json .SecurityOptions}} {{.InitBinary}}']);
        assert.equal(info.stdout.trim(), '["name=seccomp,profile=default"] docker-init');
      }
    });

    test('--cap-drop ALL leaves none; --cap-add NET_ADMIN adds bit 12; cap_ prefix and case as dockerd', async () => {
      const none = await runIn(['--cap-drop', 'ALL', 'busybox', 'cat', '/proc/self/status']);
      assert.equal(none.code, 0, none.stderr);
      assert.equal(status(none.stdout, 'CapEff'), '0000000000000000');
      const add = await runIn(['--cap-add', 'NET_ADMIN', '--cap-drop', 'cap_chown', 'busybox', 'cat', '/proc/self/status']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(status(add.stdout, 'CapEff'), ((0xa80425fbn | (1n << 12n)) & ~1n).toString(16).padStart(16, '0'));
      const only = await runIn(['--cap-drop', 'ALL', '--cap-add', 'kill', 'busybox', 'cat', '/proc/self/status']);
      assert.equal(status(only.stdout, 'CapEff'), (1n << 5n).toString(16).padStart(16, '0'));
    });

    test('an unknown capability is refused with dockerd\'s message', async () => {
      const r = await d[cli](['create', '--cap-add', 'FOO', 'busybox']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown capability: "CAP_FOO"/);
    });

    test('--privileged: every capability the daemon has, no seccomp, host devices, rw /sys', async () => {
      const r = await runIn(['--privileged', 'busybox', 'sh', '-c', 'cat /proc/self/status; grep " /sys " /proc/mounts; ls /dev']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(status(r.stdout, 'CapEff'), hostCapBnd);
      assert.equal(status(r.stdout, 'Seccomp'), '0');
      assert.match(r.stdout, /^sysfs \/sys sysfs rw,/m);
      assert.match(r.stdout, /^loop-control$/m); // a host device the default /dev lacks
    });

    test('the default seccomp profile blocks a syscall it does not list; unconfined lets it through', async () => {
      const probe = ['-v', `${join(tmp, 'probe')}:/probe:ro`];
      const blocked = await runIn([...probe, 'busybox', '/probe']);
      assert.equal(blocked.code, 1, blocked.stderr);
      assert.equal(blocked.stdout, 'personality: Function not implemented\n');
      const free = await runIn([...probe, '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', '/probe; grep Seccomp: /proc/self/status']);
      assert.equal(free.code, 0, free.stderr);
      assert.match(free.stdout, /personality: ok\nSeccomp:\s+0\n/);
    });

    test('--security-opt seccomp=<file> applies that profile', async () => {
      const r = await runIn(['--security-opt', `seccomp=${join(tmp, 'nomkdir.json')}`, 'busybox', 'sh', '-c', 'mkdir /x || echo refused; touch /y && echo touched']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Operation not permitted/);
      assert.equal(r.stdout, 'refused\ntouched\n');
    });

    test('no-new-privileges, bare and :true; =false is off; a bad value is a 400', async () => {
      for (const opt of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) {
        const r = await runIn(['--security-opt', opt, 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /NoNewPrivs:\s+1/, opt);
      }
      const off = await runIn(['--security-opt', 'no-new-privileges=false', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']);
      assert.match(off.stdout, /NoNewPrivs:\s+0/);
      const bad = await d[cli](['create', '--security-opt', 'no-new-privileges=maybe', 'busybox']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid --security-opt 2: "no-new-privileges=maybe"/);
    });

    test('--read-only makes / read-only', async () => {
      const r = await runIn(['--read-only', 'busybox', 'touch', '/x']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Read-only file system/);
    });

    test('--device host:container with permissions; --device-cgroup-rule', async () => {
      const r = await runIn(['--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'ls -l /dev/mynull && echo x > /dev/mynull && echo wrote']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^crw\S+\s+\d+\s+\S+\s+\S+\s+1,\s+3 .*\/dev\/mynull$/m);
      assert.match(r.stdout, /wrote/);
      // read-only access: opening for writing is refused by the device cgroup (loop-control is not in the defaults)
      const ro = await runIn(['--device', '/dev/loop-control:/dev/lc:r', 'busybox', 'sh', '-c', 'ls -l /dev/lc; echo x > /dev/lc']);
      assert.match(ro.stdout, /^crw\S+\s+\d+\s+\S+\s+\S+\s+10,\s+237 .*\/dev\/lc$/m);
      assert.match(ro.stderr, /Operation not permitted/);
      // /dev/loop-control (10:237) is made by hand; the rule lets it be opened
      const rule = await runIn(['--device-cgroup-rule', 'c 10:237 rwm', 'busybox', 'sh', '-c', 'mknod /dev/lc c 10 237 && cat /dev/lc; echo rc=$?']);
      assert.doesNotMatch(rule.stderr, /Operation not permitted/);
      const norule = await runIn(['busybox', 'sh', '-c', 'mknod /dev/lc c 10 237 && cat /dev/lc']);
      assert.match(norule.stderr, /Operation not permitted/);
    });

    test('--ulimit nofile=100:200', async () => {
      const r = await runIn(['--ulimit', 'nofile=100:200', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '100\n200\n');
    });

    test('--sysctl: a namespaced one is applied, a host-level one refused', async () => {
      const r = await runIn(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmni=1000', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmni']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1\n1000\n');
      const host = await d[cli](['create', '--sysctl', 'vm.swappiness=10', 'busybox']);
      assert.notEqual(host.code, 0);
      assert.match(host.stderr, /vm\.swappiness/);
      assert.match(host.stderr, /not (allowed|in a separate kernel namespace)/);
      const hostNet = await d[cli](['create', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox']);
      assert.notEqual(hostNet.code, 0);
      assert.match(hostNet.stderr, /sysctl "net.ipv4.ip_forward" is not allowed in the hosts network namespace/);
    });

    test('--user uid:gid with --group-add (names from the image\'s /etc/group)', async () => {
      const r = await runIn(['--user', '1000:1000', '--group-add', 'nobody', '--group-add', '4321', 'busybox', 'id']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^uid=1000 gid=1000 groups=.*\b65534\(nobody\)/);
      assert.match(r.stdout, /4321/);
    });
  });

  describe(`${cli}: process options`, () => {
    const runIn = (args: string[]) => d[cli](['run', '--rm', ...args]);

    test('--init: tini is PID 1 as /sbin/docker-init, read-only, the command below it', async () => {
      const r = await runIn(['--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; grep docker-init /proc/mounts']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\/sbin\/docker-init -- sh -c /);
      assert.match(r.stdout, / \/sbin\/docker-init \S+ ro[, ]/);
      const plain = await runIn(['busybox', 'cat', '/proc/1/comm']);
      assert.equal(plain.stdout, 'cat\n');
    });

    test('--pid host sees the host\'s processes; the default does not', async () => {
      const r = await runIn(['--pid', 'host', 'busybox', 'test', '-d', `/proc/${process.pid}`]);
      assert.equal(r.code, 0, r.stderr);
      const own = await runIn(['busybox', 'test', '-d', `/proc/${process.pid}`]);
      assert.equal(own.code, 1);
    });

    test('--pid container:<x> and --ipc container:<x> join a running container (its /dev/shm and SysV IPC too)', async () => {
      const donor = `sec-donor-${cli}`;
      const c = await d[cli](['run', '-d', '--name', donor, '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo from-the-donor > /dev/shm/mark; exec sleep 300']);
      assert.equal(c.code, 0, c.stderr);
      try {
        const r = await runIn(['--pid', `container:${donor}`, 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'sleep 300 '); // the donor's PID 1 (sh execs its last command)
        // The donor's /dev/shm and IPC namespace: what it wrote, and the same namespace inode.
        const nsOf = async (args: string[]) => (await runIn([...args, 'busybox', 'readlink', '/proc/self/ns/ipc'])).stdout.trim();
        const joined = await runIn(['--ipc', `container:${donor}`, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /dev/shm/mark ] && break; sleep 0.2; done; cat /dev/shm/mark']);
        assert.equal(joined.code, 0, joined.stderr);
        assert.equal(joined.stdout, 'from-the-donor\n');
        const donorNs = (await d.docker(['exec', donor, 'readlink', '/proc/1/ns/ipc'])).stdout.trim();
        assert.match(donorNs, /^ipc:\[\d+\]$/);
        assert.equal(await nsOf(['--ipc', `container:${donor}`]), donorNs);
        assert.notEqual(await nsOf([]), donorNs);
        // dockerd's rule: only a shareable donor can be joined.
        await d[cli](['run', '-d', '--name', `${donor}-private`, 'busybox', 'sleep', '300']);
        const refused = await runIn(['--ipc', `container:${donor}-private`, 'busybox', 'true']);
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /non-shareable IPC/);
        await d[cli](['rm', '-f', `${donor}-private`]);
      } finally {
        await d[cli](['rm', '-f', donor]);
      }
      const stopped = await d[cli](['create', '--name', `sec-stopped-${cli}`, 'busybox']);
      assert.equal(stopped.code, 0, stopped.stderr);
      const r = await runIn(['--pid', `container:sec-stopped-${cli}`, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot join PID of a non running container/);
      await d[cli](['rm', `sec-stopped-${cli}`]);
    });

    test('--ipc none has no /dev/shm; --ipc host shares the host\'s; a bad mode is a 400', async () => {
      const none = await runIn(['--ipc', 'none', 'busybox', 'sh', '-c', 'grep -c " /dev/shm " /proc/mounts']);
      assert.equal(none.stdout, '0\n');
      const mark = `/dev/shm/bt-sec-${process.pid}-${cli}`;
      await writeFile(mark, 'from the host');
      try {
        const host = await runIn(['--ipc', 'host', 'busybox', 'cat', mark]);
        assert.equal(host.stdout, 'from the host');
        const priv = await runIn(['busybox', 'cat', mark]);
        assert.notEqual(priv.code, 0);
      } finally {
        await rm(mark, { force: true });
      }
      const inspect = await d[cli](['create', '--name', `sec-ipc-${cli}`, 'busybox']);
      assert.equal(inspect.code, 0, inspect.stderr);
      const mode = await d[cli](['inspect', '-f', '{{.HostConfig.IpcMode}}', `sec-ipc-${cli}`]);
      assert.equal(mode.stdout.trim(), 'private');
      await d[cli](['rm', `sec-ipc-${cli}`]);
      const bad = await d[cli](['create', '--ipc', 'bogus', 'busybox']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid IPC mode: bogus/);
    });

    test('--uts host has the host\'s name; --hostname and --domainname set the container\'s', async () => {
      const r = await runIn(['--uts', 'host', 'busybox', 'hostname']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), hostname());
      const named = await runIn(['--hostname', 'box1', '--domainname', 'example.test', 'busybox', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname']);
      assert.equal(named.stdout, 'box1\nexample.test\n');
    });

    test('a bad --stop-signal is a 400', async () => {
      const r = await d[cli](['create', '--stop-signal', 'SIGNOPE', 'busybox']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Invalid signal: SIGNOPE/);
    });
  });

  describe(`${cli}: refused options name the field`, () => {
    for (const [flag, field] of [
      [['--cgroup-parent', 'elsewhere'], 'HostConfig.CgroupParent'],
      ...(cli === 'docker' ? [[['--device-read-bps', '/dev/null:1mb'], 'HostConfig.BlkioDeviceReadBps'] as const] : []),
      ...(cli === 'berth' ? [[['--userns', 'private'], 'HostConfig.UsernsMode'] as const] : []), // docker refuses it itself
    ] as const) {
      test(`${flag.join(' ')} → 400 naming ${field}`, async () => {
        const r = await d[cli](['create', ...flag, 'busybox']);
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(r.stderr, new RegExp(`not supported by Berth: (${field.replace(/\./g, '\\.')})`));
      });
    }
  });
}
