import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSpec, resolveUser, parseProcLimits, DEFAULT_CAPABILITIES } from '../../src/engine/runtime/spec.js';
import { BerthError } from '../../src/engine/errors.js';

const ID = 'a'.repeat(12) + 'b'.repeat(52);
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh\n';
const GROUP = 'root:x:0:\nwww:x:33:\nbob:x:1000:\nstaff:x:50:bob,www\naudio:x:29:bob\n';
const ctx = { passwd: PASSWD, group: GROUP, hardLimits: { nofile: 20000, nproc: 96365 } };

type AnySpec = any; // eslint-disable-line @typescript-eslint/no-explicit-any

test('docker defaults: caps, namespaces, masked/readonly paths, mounts, devices', () => {
  const s = generateSpec({ id: ID, args: ['sh', '-c', 'true'], rootfsPath: '/c/rootfs' }, ctx) as AnySpec;
  assert.equal(s.hostname, 'aaaaaaaaaaaa');
  assert.deepEqual(s.process.args, ['sh', '-c', 'true']);
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.terminal, false);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.process.capabilities.inheritable, undefined);
  assert.deepEqual(s.root, { path: '/c/rootfs', readonly: false });
  assert.deepEqual(s.linux.namespaces.map((n: { type: string }) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(s.linux.maskedPaths.includes('/sys/firmware'));
  assert.ok(s.linux.readonlyPaths.includes('/proc/sysrq-trigger'));
  assert.equal(s.linux.cgroupsPath, `/berth/${ID}`);
  const dests = s.mounts.map((m: { destination: string }) => m.destination);
  for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']) assert.ok(dests.includes(d), d);
  const shm = s.mounts.find((m: { destination: string }) => m.destination === '/dev/shm');
  assert.ok(shm.options.includes('size=67108864'));
  const sys = s.mounts.find((m: { destination: string }) => m.destination === '/sys');
  assert.ok(sys.options.includes('ro'));
  const devs = s.linux.resources.devices;
  assert.deepEqual(devs[0], { allow: false, access: 'rwm' });
  assert.ok(devs.some((d: AnySpec) => d.allow && d.major === 1 && d.minor === 3)); // /dev/null
  assert.ok(devs.some((d: AnySpec) => !d.allow && d.major === 10 && d.minor === 229)); // fuse denied
});

test('env: PATH default, HOSTNAME, HOME from passwd, user env wins', () => {
  const s = generateSpec({ id: ID, args: ['x'], rootfsPath: '/r', env: ['FOO=bar', 'HOSTNAME=mine'] }, ctx) as AnySpec;
  const env: string[] = s.process.env;
  assert.ok(env.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  assert.ok(env.includes('FOO=bar'));
  assert.ok(env.includes('HOSTNAME=mine'));
  assert.ok(!env.includes('HOSTNAME=aaaaaaaaaaaa'));
  assert.ok(env.includes('HOME=/root'));
  const s2 = generateSpec({ id: ID, args: ['x'], rootfsPath: '/r', env: ['PATH=/bin'], tty: true }, ctx) as AnySpec;
  assert.deepEqual(s2.process.env.filter((e: string) => e.startsWith('PATH=')), ['PATH=/bin']);
  assert.ok(s2.process.env.includes('TERM=xterm'));
  assert.equal(s2.process.terminal, true);
});

test('rlimits are capped to the daemon hard limits', () => {
  const s = generateSpec({ id: ID, args: ['x'], rootfsPath: '/r', rlimits: [{ type: 'nproc', soft: 200000, hard: 200000 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }] }, ctx) as AnySpec;
  const by = Object.fromEntries(s.process.rlimits.map((r: AnySpec) => [r.type, r]));
  assert.deepEqual(by.RLIMIT_NOFILE, { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 });
  assert.deepEqual(by.RLIMIT_NPROC, { type: 'RLIMIT_NPROC', soft: 96365, hard: 96365 });
  assert.deepEqual(by.RLIMIT_CORE, { type: 'RLIMIT_CORE', soft: 0, hard: 0 });
  const unl = generateSpec({ id: ID, args: ['x'], rootfsPath: '/r' }, { hardLimits: { nofile: Infinity } }) as AnySpec;
  assert.equal(unl.process.rlimits[0].hard, 1048576);
});

test('users: numeric, names, groups, supplementary groups, errors', () => {
  assert.deepEqual(resolveUser(undefined, PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser('www', PASSWD, GROUP), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
  assert.deepEqual(resolveUser('bob', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [50, 29], home: '/home/bob' });
  assert.deepEqual(resolveUser('1000:50', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [], home: '/home/bob' });
  assert.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(resolveUser('www:audio', PASSWD, GROUP), { uid: 33, gid: 29, additionalGids: [], home: '/var/www' });
  assert.deepEqual(resolveUser('0', PASSWD, GROUP, ['audio', '7']).additionalGids, [29, 7]);
  assert.throws(() => resolveUser('0', PASSWD, GROUP, ['nogroup']), /Unable to find group nogroup/);
  assert.throws(() => resolveUser('nosuch', PASSWD, GROUP), (e: unknown) => e instanceof BerthError && /unable to find user nosuch: no matching entries in passwd file/.test(e.message));
  assert.throws(() => resolveUser('bob:nogroup', PASSWD, GROUP), /unable to find group nogroup/);
  const s = generateSpec({ id: ID, args: ['x'], rootfsPath: '/r', user: 'bob' }, ctx) as AnySpec;
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [50, 29] });
  assert.ok(s.process.env.includes('HOME=/home/bob'));
});

test('binds, readonly rootfs, cap add/drop, network modes', () => {
  const s = generateSpec({
    id: ID, args: ['x'], rootfsPath: '/r', readonlyRootfs: true,
    binds: [{ source: '/c/hosts', destination: '/etc/hosts' }, { source: '/data', destination: '/data', readonly: true }],
    capAdd: ['NET_ADMIN'], capDrop: ['chown'], network: 'host',
  }, ctx) as AnySpec;
  assert.equal(s.root.readonly, true);
  const hosts = s.mounts.find((m: AnySpec) => m.destination === '/etc/hosts');
  assert.deepEqual(hosts, { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'] });
  assert.ok(s.mounts.find((m: AnySpec) => m.destination === '/data').options.includes('ro'));
  assert.ok(s.process.capabilities.bounding.includes('CAP_NET_ADMIN'));
  assert.ok(!s.process.capabilities.bounding.includes('CAP_CHOWN'));
  assert.ok(!s.linux.namespaces.some((n: AnySpec) => n.type === 'network'));
  assert.deepEqual(s.linux.sysctl, {});
  assert.throws(() => generateSpec({ id: ID, args: [], rootfsPath: '/r' }, ctx), /no command specified/);
});

test('parseProcLimits', () => {
  const t = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max open files            1024                 20000                files     \n' +
    'Max core file size        0                    unlimited            bytes     \n';
  assert.deepEqual(parseProcLimits(t), { nofile: 20000, core: Infinity });
});

test('resolveInRoot never leaves the root through symlinks', async () => {
  const { mkdtemp, mkdir, symlink, rm } = await import('node:fs/promises');
  const { resolveInRoot } = await import('../../src/engine/runtime/spec.js');
  const root = await mkdtemp('/tmp/bt-');
  try {
    await mkdir(`${root}/etc`);
    await mkdir(`${root}/real`);
    await symlink('/etc/shadow', `${root}/etc/passwd`);
    await symlink('../../../../real', `${root}/etc/up`);
    assert.equal(await resolveInRoot(root, 'etc/passwd'), `${root}/etc/shadow`);
    assert.equal(await resolveInRoot(root, '/etc/up/x'), `${root}/real/x`);
    assert.equal(await resolveInRoot(root, '../../etc/group'), `${root}/etc/group`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
