/**
 * OCI runtime-spec (config.json) generation with Docker's defaults.
 *
 * `generateSpec()` is a pure function of its inputs: the caller supplies the rootfs's /etc/passwd
 * and /etc/group contents (for user-name resolution) and the daemon's hard rlimits.
 * `buildSpec()` is the convenience wrapper that reads those from the rootfs and /proc/self/limits.
 *
 * Defaults follow moby (oci/defaults.go, daemon/oci_linux.go): 14 default capabilities (no
 * inheritable set, as since Docker 23), masked and read-only /proc and /sys paths, the standard
 * /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup mounts, namespaces mount network
 * uts pid ipc, the default device cgroup allowlist, noNewPrivileges false, oomScoreAdj 0.
 */
import { readFile } from 'node:fs/promises';
import { readEtcFile } from '../host/in-root.js';
import { SystemError, InvalidParameterError } from '../errors.js';
import { tweakCapabilities } from './capabilities.js';
import type { OciDevice } from './devices.js';
import { defaultSeccompProfile, toOciSeccomp, type SeccompProfile } from './seccomp.js';

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export { DEFAULT_CAPABILITIES } from './capabilities.js';

export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** A bind mount from the host (e.g. the container's hosts/hostname/resolv.conf files). */
export interface BindMount {
  source: string;
  destination: string;
  readonly?: boolean;
  /** default rprivate */
  propagation?: 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';
}

export interface Rlimit {
  /** e.g. "nofile" or "RLIMIT_NOFILE" */
  type: string;
  soft: number;
  hard: number;
}

export interface SpecInput {
  /** 64-hex container id */
  id: string;
  /** entrypoint + cmd */
  args: string[];
  /** KEY=value list (image env merged with the container's) */
  env?: string[];
  /** working dir; default "/" */
  cwd?: string;
  /** "uid[:gid]", "name[:group]", or empty for root */
  user?: string;
  /** default: first 12 hex of the id */
  hostname?: string;
  domainname?: string;
  /** absolute path of the mounted rootfs */
  rootfsPath: string;
  readonlyRootfs?: boolean;
  tty?: boolean;
  /** extra bind mounts (after the defaults) */
  binds?: BindMount[];
  /** extra raw OCI mounts (tmpfs etc.), after binds */
  mounts?: SpecMount[];
  /** user ulimits; each is capped to the daemon's hard limit */
  rlimits?: Rlimit[];
  /** extra supplementary groups (docker --group-add), names or numbers */
  groupAdd?: string[];
  /** OCI linux.resources fields merged over the defaults (memory, cpu, pids…) */
  resources?: Record<string, unknown>;
  /** cgroup parent; default "/berth" */
  cgroupParent?: string;
  /** "private" (new netns, default), "host", "none" (new netns), or a netns path */
  network?: 'private' | 'host' | 'none' | { path: string };
  /** extra sysctls */
  sysctls?: Record<string, string>;
  capAdd?: string[];
  capDrop?: string[];
  oomScoreAdj?: number;
  shmSize?: number;
  /** --privileged: every capability and host device, no masked/read-only paths, no seccomp, rw /sys */
  privileged?: boolean;
  /** the seccomp profile (Docker JSON form); undefined: the default profile; null: unconfined */
  seccomp?: SeccompProfile | null;
  noNewPrivileges?: boolean;
  /** device nodes to create (--device, or the host's for --privileged) with their cgroup access */
  devices?: Array<OciDevice & { access: string }>;
  /** extra device cgroup rules (--device-cgroup-rule) */
  deviceCgroupRules?: Array<{ allow: boolean; type: string; major?: number; minor?: number; access: string }>;
  /** namespaces other than network: a new one (default), the host's, or one to join by path */
  pid?: NamespaceChoice;
  ipc?: NamespaceChoice;
  uts?: 'private' | 'host';
  cgroupns?: 'private' | 'host';
  /** /dev/shm: its own tmpfs (default), none, or a bind of another one (host's, a donor container's) */
  shm?: 'private' | 'none' | { source: string };
  /** host path of the init (tini) to run as PID 1 (--init), mounted at /sbin/docker-init */
  init?: string;
  /** overrides of the masked and read-only paths (the API's MaskedPaths/ReadonlyPaths) */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** --security-opt writable-cgroups=true */
  writableCgroups?: boolean;
  annotations?: Record<string, string>;
}

export type NamespaceChoice = 'private' | 'host' | { path: string };

/** Where dockerd mounts its init in the container. */
export const INIT_PATH = '/sbin/docker-init';

export interface SpecContext {
  /** contents of the rootfs's /etc/passwd, if any */
  passwd?: string;
  /** contents of the rootfs's /etc/group, if any */
  group?: string;
  /** the daemon's hard limits keyed by lower-case name without RLIMIT_ ("nofile"); Infinity = unlimited */
  hardLimits: Record<string, number>;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/** The colon-separated records of /etc/passwd or /etc/group with at least `fields` fields; comments skipped. */
function colonRecords(text: string | undefined, fields: number): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':')).filter((f) => f.length >= fields);
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of colonRecords(text, 7)) {
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of colonRecords(text, 4)) {
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

const isNum = (s: string): boolean => /^[0-9]+$/.test(s);

/**
 * Resolve Docker's `--user` string against the image's passwd/group files, as moby does
 * (moby/sys/user GetExecUser): numeric ids need no entry; names must exist.
 */
export function resolveUser(user: string | undefined, passwdText?: string, groupText?: string, groupAdd: string[] = []): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const spec = (user ?? '').trim();
  const [uPart, gPart] = spec === '' ? ['0', undefined] : (spec.split(':', 2) as [string, string | undefined]);
  let uid: number;
  let gid: number;
  let home = '/';
  let userName: string | undefined;
  if (isNum(uPart)) {
    uid = Number(uPart);
    const ent = passwd.find((p) => p.uid === uid);
    gid = ent ? ent.gid : 0;
    if (ent) { home = ent.home || '/'; userName = ent.name; }
  } else {
    const ent = passwd.find((p) => p.name === uPart);
    if (!ent) throw new SystemError(`unable to find user ${uPart}: no matching entries in passwd file`);
    uid = ent.uid; gid = ent.gid; home = ent.home || '/'; userName = ent.name;
  }
  if (gPart !== undefined && gPart !== '') {
    if (isNum(gPart)) gid = Number(gPart);
    else {
      const g = groups.find((x) => x.name === gPart);
      if (!g) throw new SystemError(`unable to find group ${gPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additional: number[] = [];
  // Supplementary groups from /etc/group only when no explicit group was given (as moby).
  if (userName && (gPart === undefined || gPart === '')) {
    for (const g of groups) if (g.members.includes(userName) && g.gid !== gid && !additional.includes(g.gid)) additional.push(g.gid);
  }
  for (const ga of groupAdd) {
    let n: number;
    if (isNum(ga)) n = Number(ga);
    else {
      const g = groups.find((x) => x.name === ga);
      if (!g) throw new SystemError(`Unable to find group ${ga}: no matching entries in group file`);
      n = g.gid;
    }
    if (!additional.includes(n)) additional.push(n);
  }
  return { uid, gid, additionalGids: additional, home };
}

/** Parse /proc/self/limits into hard limits keyed like "nofile". */
export function parseProcLimits(text: string): Record<string, number> {
  const names: Record<string, string> = {
    'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
    'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc',
    'Max open files': 'nofile', 'Max locked memory': 'memlock', 'Max address space': 'as',
    'Max file locks': 'locks', 'Max pending signals': 'sigpending', 'Max msgqueue size': 'msgqueue',
    'Max nice priority': 'nice', 'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
  };
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    for (const [label, key] of Object.entries(names)) {
      if (!line.startsWith(label + ' ')) continue;
      const rest = line.slice(label.length).trim().split(/\s+/);
      const hard = rest[1];
      if (hard === undefined) continue;
      out[key] = hard === 'unlimited' ? Infinity : Number(hard);
    }
  }
  return out;
}

function normRlimitName(t: string): string {
  return t.toLowerCase().replace(/^rlimit_/, '');
}

/** Cap a limit at the daemon's hard limit (we lack CAP_SYS_RESOURCE to raise it). */
function cap(v: number, hard: number | undefined): number {
  if (hard === undefined || hard === Infinity) return v;
  return Math.min(v, hard);
}

/** Docker's default soft/hard nofile (dockerd's own limit under its systemd unit). */
const DEFAULT_NOFILE = 1048576;

export function generateSpec(input: SpecInput, ctx: SpecContext): Record<string, unknown> {
  if (!input.args.length) throw new InvalidParameterError('no command specified');
  const hostname = input.hostname ?? input.id.slice(0, 12);
  const user = resolveUser(input.user, ctx.passwd, ctx.group, input.groupAdd);

  // environment: image+container env, then PATH/HOSTNAME/TERM/HOME defaults as Docker does
  const env: string[] = [];
  const seen = new Set<string>();
  const add = (kv: string): void => {
    const k = kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv;
    if (seen.has(k)) {
      const i = env.findIndex((e) => e === k || e.startsWith(k + '='));
      if (i >= 0) env[i] = kv;
      return;
    }
    seen.add(k);
    env.push(kv);
  };
  if (!(input.env ?? []).some((e) => e.startsWith('PATH='))) add(`PATH=${DEFAULT_PATH_ENV}`);
  add(`HOSTNAME=${hostname}`);
  if (input.tty) add('TERM=xterm');
  for (const e of input.env ?? []) add(e);
  if (!seen.has('HOME')) add(`HOME=${user.home}`);

  // capabilities, as moby's TweakCapabilities
  const caps = tweakCapabilities(input.capAdd, input.capDrop, !!input.privileged);
  const privileged = !!input.privileged;

  // rlimits, capped to the daemon's hard limits
  const rl = new Map<string, { soft: number; hard: number }>();
  const nofileHard = cap(DEFAULT_NOFILE, ctx.hardLimits['nofile']);
  rl.set('nofile', { soft: nofileHard, hard: nofileHard });
  for (const r of input.rlimits ?? []) {
    const k = normRlimitName(r.type);
    const hard = cap(r.hard, ctx.hardLimits[k]);
    rl.set(k, { soft: Math.min(cap(r.soft, ctx.hardLimits[k]), hard), hard });
  }
  const rlimits = [...rl.entries()].map(([k, v]) => ({ type: `RLIMIT_${k.toUpperCase()}`, hard: v.hard, soft: v.soft }));

  const shm = input.shmSize && input.shmSize > 0 ? input.shmSize : 64 * 1024 * 1024;
  const mounts: SpecMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [privileged || input.writableCgroups ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  const shmMode = input.shm ?? 'private';
  if (shmMode === 'private') mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] });
  else if (shmMode !== 'none') mounts.push({ destination: '/dev/shm', type: 'bind', source: shmMode.source, options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  if (input.init) mounts.push({ destination: INIT_PATH, type: 'bind', source: input.init, options: ['bind', 'ro'] });
  for (const b of input.binds ?? []) {
    const opts = ['rbind', b.propagation ?? 'rprivate'];
    if (b.readonly) opts.push('ro');
    mounts.push({ destination: b.destination, type: 'bind', source: b.source, options: opts });
  }
  for (const m of input.mounts ?? []) mounts.push(m);

  const net = input.network ?? 'private';
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'mount' }];
  if (net === 'private' || net === 'none') namespaces.push({ type: 'network' });
  else if (typeof net === 'object') namespaces.push({ type: 'network', path: net.path });
  const ns = (type: string, choice: NamespaceChoice | undefined): void => {
    if (choice === 'host') return;
    namespaces.push(choice && choice !== 'private' ? { type, path: choice.path } : { type });
  };
  ns('uts', input.uts);
  ns('pid', input.pid);
  ns('ipc', input.ipc);
  if (input.cgroupns === 'private') namespaces.push({ type: 'cgroup' });

  const sysctl: Record<string, string> = {};
  if (net !== 'host') {
    // as moby does for containers with their own network namespace
    sysctl['net.ipv4.ip_unprivileged_port_start'] = '0';
    sysctl['net.ipv4.ping_group_range'] = '0 2147483647';
  }
  Object.assign(sysctl, input.sysctls ?? {});

  const devices: Array<{ allow: boolean; type?: string; major?: number; minor?: number; access: string }> = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
    { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
    { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
    { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
    { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse
    // what runc's libcontainer adds on top (Docker's effective devices.list)
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
    { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts
    { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
  ];
  if (privileged) devices.splice(0, devices.length, { allow: true, access: 'rwm' });
  for (const d of input.devices ?? []) devices.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access });
  devices.push(...(input.deviceCgroupRules ?? []));
  const linuxDevices = (input.devices ?? []).map(({ access: _a, ...d }) => d);

  const parent = (input.cgroupParent ?? '/berth').replace(/\/+$/, '');
  // the default profile, or the given one, evaluated for this container's capabilities
  const seccomp = privileged || input.seccomp === null ? undefined : toOciSeccomp(input.seccomp ?? defaultSeccompProfile(), caps);
  const process: Record<string, unknown> = {
    terminal: !!input.tty,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args: input.init ? [INIT_PATH, '--', ...input.args] : input.args,
    env,
    cwd: input.cwd && input.cwd !== '' ? input.cwd : '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    rlimits,
    noNewPrivileges: !!input.noNewPrivileges,
    oomScoreAdj: input.oomScoreAdj ?? 0,
  };
  return {
    ociVersion: '1.0.2',
    process,
    root: { path: input.rootfsPath, readonly: !!input.readonlyRootfs },
    // with the host's UTS namespace the runtime may not set names
    ...(input.uts === 'host' ? {} : { hostname, ...(input.domainname ? { domainname: input.domainname } : {}) }),
    mounts,
    ...(input.annotations && Object.keys(input.annotations).length ? { annotations: { ...input.annotations } } : {}),
    linux: {
      sysctl,
      // the resource limits (memory, cpu, pids…) come in through input.resources
      resources: { devices, ...(input.resources ?? {}) },
      cgroupsPath: `${parent.startsWith('/') ? parent : '/' + parent}/${input.id}`,
      namespaces,
      ...(linuxDevices.length ? { devices: linuxDevices } : {}),
      maskedPaths: privileged ? [] : [...(input.maskedPaths ?? MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(input.readonlyPaths ?? READONLY_PATHS)],
      ...(seccomp ? { seccomp } : {}),
    },
  };
}

// Paths inside the rootfs are resolved in-root and only regular files are read (host/in-root.ts).
export { resolveInRoot } from '../host/in-root.js';

let hardLimitsCache: Record<string, number> | undefined;
export async function daemonHardLimits(): Promise<Record<string, number>> {
  if (!hardLimitsCache) hardLimitsCache = parseProcLimits(await readFile('/proc/self/limits', 'utf8'));
  return hardLimitsCache;
}

/**
 * Build the spec reading the rootfs's passwd/group (only when the user is given by name or a
 * numeric uid needs its home/groups) and the daemon's hard limits.
 * Note: the rootfs path should be mounted when this runs if the user must be resolved by name;
 * pass `etcRoot` to read passwd/group from elsewhere (e.g. the container's layers, upper first).
 */
export async function buildSpec(input: SpecInput, etcRoot: string | string[] = input.rootfsPath): Promise<Record<string, unknown>> {
  const [passwd, group, hardLimits] = await Promise.all([
    readEtcFile(etcRoot, 'passwd'),
    readEtcFile(etcRoot, 'group'),
    daemonHardLimits(),
  ]);
  return generateSpec(input, { passwd, group, hardLimits });
}
