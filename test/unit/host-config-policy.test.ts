import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG_FIELDS, HOST_CONFIG_FIELDS, RESOURCE_FIELDS, checkCreatePolicy, isZeroValue,
} from '../../src/engine/containers/host-config-policy.js';
import { checkHostOptions, parseSecurityOpt, checkSysctls, deviceCgroupRules, ulimits } from '../../src/engine/containers/host-options.js';

/** Every HostConfig field of the Engine API v1.50 (HostConfig and Resources), and Config's. */
const API_HOST_CONFIG = [
  'CpuShares', 'Memory', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemoryTCP', 'MemoryReservation',
  'MemorySwap', 'MemorySwappiness', 'NanoCpus', 'OomKillDisable', 'Init', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth', 'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings',
  'RestartPolicy', 'AutoRemove', 'VolumeDriver', 'VolumesFrom', 'Mounts', 'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop',
  'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj',
  'PidMode', 'Privileged', 'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode',
  'ShmSize', 'Sysctls', 'Runtime', 'Isolation', 'MaskedPaths', 'ReadonlyPaths',
];
const API_CONFIG = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin',
  'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled',
  'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell',
];

test('the table lists every API field once, each honoured or refused', () => {
  const host = { ...HOST_CONFIG_FIELDS, ...RESOURCE_FIELDS };
  for (const f of API_HOST_CONFIG) assert.ok(host[f], `HostConfig.${f} missing from the table`);
  for (const f of API_CONFIG) assert.ok(CONFIG_FIELDS[f], `Config.${f} missing from the table`);
  for (const f of Object.keys(RESOURCE_FIELDS)) assert.ok(!(f in HOST_CONFIG_FIELDS), `${f} in both groups`);
  for (const p of [...Object.values(host), ...Object.values(CONFIG_FIELDS)]) assert.ok(['honoured', 'refused'].includes(p.status));
});

/** The docker CLI's body for a plain `docker create busybox` (28.x), zero values everywhere. */
const DOCKER_CLI_DEFAULTS = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: {},
  HostConfig: {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default', PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null,
    ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [],
    ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false,
    PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '',
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null,
    DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0,
    Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  },
};

test('zero values of every field pass; the docker CLI defaults body passes', () => {
  assert.doesNotThrow(() => checkCreatePolicy(structuredClone(DOCKER_CLI_DEFAULTS)));
  assert.ok(isZeroValue({ Type: '', Config: {} }) && isZeroValue([0, 0]) && !isZeroValue(['1.1.1.1']));
  const hc = { ...DOCKER_CLI_DEFAULTS.HostConfig, PidsLimit: -1, MemorySwap: -1, UsernsMode: 'host', Isolation: 'default' };
  assert.doesNotThrow(() => checkCreatePolicy({ Image: 'x', HostConfig: hc }));
});

test('each refused field with a value is a 400 naming it', () => {
  const host = { ...HOST_CONFIG_FIELDS, ...RESOURCE_FIELDS };
  const sample = (f: string): unknown => (['Links', 'DeviceRequests', 'BlkioWeightDevice',
    'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'].includes(f) ? ['x']
    : ['CgroupParent', 'CpusetCpus', 'CpusetMems', 'Cgroup', 'VolumeDriver', 'UsernsMode', 'Isolation'].includes(f) ? 'x'
      : f === 'StorageOpt' ? { size: '1G' } : f === 'OomKillDisable' ? true : 7);
  for (const [f, p] of Object.entries(host)) {
    if (p.status !== 'refused') continue;
    assert.throws(() => checkCreatePolicy({ Image: 'x', HostConfig: { [f]: sample(f) } }),
      (e: Error & { code?: string }) => e.message.startsWith(`not supported by Berth: HostConfig.${f}`), f);
  }
  assert.throws(() => checkCreatePolicy({ Image: 'x', HostConfig: { UsernsMode: 'private' } }), /not supported by Berth: HostConfig\.UsernsMode \(--userns\)$/);
});

test('security options parse as dockerd', () => {
  assert.deepEqual(parseSecurityOpt(['no-new-privileges']), { noNewPrivileges: true, seccomp: 'default', labels: [] });
  assert.equal(parseSecurityOpt(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpt(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpt(['seccomp=unconfined']).seccomp, 'unconfined');
  assert.equal(parseSecurityOpt(['apparmor=docker-default', 'label=disable']).apparmor, 'docker-default');
  assert.throws(() => parseSecurityOpt(['bogus']), /invalid --security-opt 1: "bogus"/);
  assert.throws(() => parseSecurityOpt(['foo=bar']), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(() => parseSecurityOpt(['no-new-privileges=maybe']), /invalid --security-opt 2/);
  assert.throws(() => parseSecurityOpt(['seccomp={"x":1}']), /Decoding seccomp profile failed/);
});

test('sysctls: namespaced only, as runc checks them', () => {
  const ns = { hostNet: false, hostIpc: false };
  assert.doesNotThrow(() => checkSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10', 'kernel.sem': '1 2 3 4' }, ns));
  assert.throws(() => checkSysctls({ 'vm.swappiness': '1' }, ns), /sysctl "vm.swappiness" is not in a separate kernel namespace/);
  assert.throws(() => checkSysctls({ 'net.ipv4.ip_forward': '1' }, { hostNet: true, hostIpc: false }), /hosts network namespace/);
  assert.throws(() => checkSysctls({ 'kernel.shmmax': '1' }, { hostNet: false, hostIpc: true }), /hosts ipc namespace/);
  assert.throws(() => checkSysctls({ 'kernel.hostname': 'x' }, ns), /conflicts with the OCI "hostname" field/);
});

test('namespaces, devices, cgroup rules, ulimits, oom score, stop signal', () => {
  const ok = (hc: object, cfg: object = {}) => checkHostOptions(hc, cfg);
  assert.doesNotThrow(() => ok({ IpcMode: 'shareable', PidMode: 'container:abc', UTSMode: 'host', CgroupnsMode: 'private' }));
  assert.throws(() => ok({ IpcMode: 'bogus' }), /invalid IPC mode: bogus/);
  assert.doesNotThrow(() => ok({ IpcMode: 'container:x' }));
  assert.throws(() => ok({ PidMode: 'container:' }), /invalid PID mode: container:/);
  assert.throws(() => ok({ UTSMode: 'private' }), /invalid UTS mode: private/);
  assert.throws(() => ok({ UTSMode: 'host' }, { Hostname: 'x' }), /conflicting options: hostname and the UTS mode/);
  assert.throws(() => ok({ CapAdd: ['NOPE'] }), /unknown capability: "CAP_NOPE"/);
  assert.throws(() => ok({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/x', CgroupPermissions: 'rwx' }] }), /invalid device mode: rwx/);
  assert.throws(() => ok({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: 'dev/x', CgroupPermissions: 'rw' }] }), /dev\/x is not an absolute path/);
  assert.deepEqual(deviceCgroupRules({ DeviceCgroupRules: ['c 1:3 rwm', 'a *:* m'] }), [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'a', access: 'm' }]);
  assert.throws(() => ok({ DeviceCgroupRules: ['c 1:3'] }), /invalid device cgroup format 'c 1:3'/);
  assert.deepEqual(ulimits({ Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }] }), [{ type: 'nofile', soft: 100, hard: 200 }]);
  assert.throws(() => ok({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }), /invalid ulimit type: bogus/);
  assert.throws(() => ok({ Ulimits: [{ Name: 'nofile', Soft: 300, Hard: 200 }] }), /soft limit must be less than or equal to hard limit: 300 > 200/);
  assert.throws(() => ok({ OomScoreAdj: 1001 }), /range for oom score adj is \[-1000, 1000\]/);
  assert.throws(() => ok({ ShmSize: -1 }), /SHM size can not be less than 0/);
  assert.throws(() => ok({}, { StopSignal: 'SIGNOPE' }), /Invalid signal: SIGNOPE/);
});

test('a MAC address, per endpoint (API >= 1.44) or not, and links pass the table (checked where they are applied)', () => {
  assert.doesNotThrow(() => checkCreatePolicy({ Image: 'x', NetworkingConfig: { EndpointsConfig: { default: { MacAddress: '92:d0:c6:0a:29:33' } } } }));
  assert.doesNotThrow(() => checkCreatePolicy({ Image: 'x', MacAddress: '92:d0:c6:0a:29:33', HostConfig: { Links: ['a:b'], Memory: 64 << 20 } }));
});

test('annotation-runtime-directives: run.oci.* annotations are refused (crun would take run.oci.seccomp_bpf_data as the filter)', () => {
  assert.doesNotThrow(() => checkHostOptions({ Annotations: { 'org.example.team': 'db' } }, {}));
  assert.throws(() => checkHostOptions({ Annotations: { 'org.example.team': 'db', 'run.oci.seccomp_bpf_data': 'AAAA' } }, {}),
    /not supported by Berth: HostConfig.Annotations key run.oci.seccomp_bpf_data/);
  assert.throws(() => checkHostOptions({ Annotations: { 'run.oci.keep_original_groups': '1' } }, {}), /run.oci.keep_original_groups/);
});

test('fuzz-null-in-lists: a null inside VolumesFrom, Links, ExtraHosts, Binds, Dns* or Tmpfs is a 400 naming the field (was a 500 reading indexOf of null)', () => {
  for (const f of ['VolumesFrom', 'Links', 'ExtraHosts', 'Binds', 'Dns', 'DnsOptions', 'DnsSearch']) {
    assert.throws(() => checkHostOptions({ [f]: [null] } as never, {}), new RegExp(`field ${f} must be a list of strings`), f);
  }
  assert.throws(() => checkHostOptions({ Tmpfs: { '/x': null } } as never, {}), /field Tmpfs must be an object of strings/);
  assert.doesNotThrow(() => checkHostOptions({ VolumesFrom: ['a:ro'], ExtraHosts: ['h:1.2.3.4'], Tmpfs: { '/x': 'size=1m' } }, {}));
});
