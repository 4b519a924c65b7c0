import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { toOciSeccomp, parseSeccompProfile, DEFAULT_SECCOMP_PROFILE } from '../../src/engine/runtime/seccomp.js';
import { tweakCapabilities, normalizeCapabilities, capsFromMask, DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES } from '../../src/engine/runtime/capabilities.js';
import { splitDev } from '../../src/engine/runtime/devices.js';
import { generateSpec, INIT_PATH } from '../../src/engine/runtime/spec.js';

type AnySpec = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const ID = 'c'.repeat(64);
const ctx = { hardLimits: { nofile: 20000 } };
const HOST = { arch: 'amd64', kernel: '6.1.0' };

test('the default profile: arch map, caps and arch conditions evaluated for the container', () => {
  const prof = parseSeccompProfile(readFileSync(DEFAULT_SECCOMP_PROFILE, 'utf8'));
  const def = toOciSeccomp(prof, DEFAULT_CAPABILITIES, HOST);
  assert.equal(def.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(def.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = (o: typeof def, name: string) => o.syscalls.some((s) => s.action === 'SCMP_ACT_ALLOW' && s.names.includes(name) && !s.args);
  assert.ok(allowed(def, 'read') && allowed(def, 'arch_prctl'));
  assert.ok(!allowed(def, 's390_runtime_instr') && !allowed(def, 'breakpoint')); // other arches left out
  assert.ok(allowed(def, 'chroot')); // CAP_SYS_CHROOT is a default capability
  assert.ok(!allowed(def, 'sethostname') && !allowed(def, 'bpf')); // CAP_SYS_ADMIN is not
  assert.ok(def.syscalls.some((s) => s.action === 'SCMP_ACT_ERRNO' && s.names.includes('bpf') && s.errnoRet === 1));
  const admin = toOciSeccomp(prof, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], HOST);
  assert.ok(allowed(admin, 'sethostname'));
  assert.ok(!admin.syscalls.some((s) => s.action === 'SCMP_ACT_ERRNO' && s.names.includes('bpf')));
  const noChroot = toOciSeccomp(prof, DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'), HOST);
  assert.ok(!allowed(noChroot, 'chroot'));
  const arm = toOciSeccomp(prof, DEFAULT_CAPABILITIES, { arch: 'arm64', kernel: '6.1' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowed(arm, 'breakpoint') && !allowed(arm, 'arch_prctl'));
});

test('profile conditions: minKernel, excludes, a single name, args kept', () => {
  const prof = parseSeccompProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['a'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '6.5' } },
      { names: ['b'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '5.4' } },
      { name: 'c', action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
      { names: ['d'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ],
  }));
  const o = toOciSeccomp(prof, [], HOST);
  assert.deepEqual(o.syscalls.map((s) => s.names[0]), ['b', 'd']);
  assert.deepEqual(o.syscalls[1]!.args, [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);
  assert.throws(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["x"],"archMap":[{"architecture":"x"}]}'), /use either 'architectures' or 'archMap'/);
});

test('capabilities as moby: names, ALL, privileged', () => {
  const all = KNOWN_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
  assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_KILL', 'all']), ['CAP_NET_ADMIN', 'CAP_KILL', 'ALL']);
  assert.throws(() => normalizeCapabilities(['bogus']), /unknown capability: "CAP_BOGUS"/);
  assert.deepEqual(tweakCapabilities(null, null, false, all), [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(tweakCapabilities(['NET_ADMIN'], ['ALL'], false, all), ['CAP_NET_ADMIN']);
  assert.deepEqual(tweakCapabilities(['ALL'], ['CHOWN'], false, all), all.filter((c) => c !== 'CAP_CHOWN'));
  assert.deepEqual(tweakCapabilities(null, null, true, all), all);
  assert.deepEqual(capsFromMask('00000000a80425fb').sort(), [...DEFAULT_CAPABILITIES].sort());
});

test('dev_t split as glibc', () => {
  assert.deepEqual(splitDev(0x103), { major: 1, minor: 3 });
  assert.deepEqual(splitDev((259 << 8) | 0x01 | (0x12 << 20)), { major: 259, minor: 0x1201 }); // minor bits 8+ sit at 20+
});

test('spec: privileged, seccomp, init, namespaces, devices', () => {
  const base = { id: ID, args: ['sh'], rootfsPath: '/r' };
  const def = generateSpec(base, ctx) as AnySpec;
  assert.equal(def.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(def.linux.namespaces.map((n: AnySpec) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.ok(def.mounts.some((m: AnySpec) => m.destination === '/sys' && m.options.includes('ro')));

  const priv = generateSpec({ ...base, privileged: true }, ctx) as AnySpec;
  assert.equal(priv.linux.seccomp, undefined);
  assert.deepEqual(priv.linux.maskedPaths, []);
  assert.deepEqual(priv.linux.readonlyPaths, []);
  assert.deepEqual(priv.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(priv.mounts.some((m: AnySpec) => m.destination === '/sys' && m.options.includes('rw')));
  assert.ok(priv.process.capabilities.bounding.length > 14);

  const s = generateSpec({
    ...base, seccomp: null, noNewPrivileges: true, init: '/usr/bin/tini-static', pid: 'host', ipc: { path: '/proc/9/ns/ipc' },
    uts: 'host', cgroupns: 'private', shm: 'none', maskedPaths: ['/proc/x'],
    devices: [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0, access: 'r' }],
    deviceCgroupRules: [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rwm' }],
  }, ctx) as AnySpec;
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.process.noNewPrivileges, true);
  assert.deepEqual(s.process.args, [INIT_PATH, '--', 'sh']);
  assert.deepEqual(s.mounts.find((m: AnySpec) => m.destination === INIT_PATH), { destination: INIT_PATH, type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
  assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }, { type: 'network' }, { type: 'ipc', path: '/proc/9/ns/ipc' }, { type: 'cgroup' }]);
  assert.equal(s.hostname, undefined);
  assert.ok(!s.mounts.some((m: AnySpec) => m.destination === '/dev/shm'));
  assert.deepEqual(s.linux.maskedPaths, ['/proc/x']);
  assert.deepEqual(s.linux.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(s.linux.resources.devices.slice(-2), [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'c', major: 10, minor: 237, access: 'rwm' }]);
});
