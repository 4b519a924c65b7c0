// The flags of `run` and `create`, and the container-create body they make (env, labels, ports,
// mounts, restart policy, resources, networking), as docker/cli's container/opts.go reads them.
import type { ContainerCreateBody } from '../../client/index.js';
import { PROG, StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { DETACH_KEYS_FLAG } from './attach-io.js';
import { HEALTH_FLAGS, healthFromFlags } from './health-flags.js';
import { runStyleError } from './common.js';
import { MountFlagError, parseMountFlag, splitVolumeFlags } from './mount-flag.js';
import { CREATE_RESOURCE_FLAGS, RESOURCE_FLAGS, ramInBytes, resourcesFromFlags } from './resource-flags.js';

export const CREATE_FLAGS: FlagSpec[] = [
  ...RESOURCE_FLAGS,
  ...CREATE_RESOURCE_FLAGS,
  { name: 'add-host', type: 'list', usage: 'Extra /etc/hosts entry, as host:ip' },
  { name: 'attach', short: 'a', type: 'list', usage: 'Stream to attach: STDIN, STDOUT or STDERR' },
  { name: 'cap-add', type: 'list', usage: 'Linux capability to grant' },
  { name: 'cap-drop', type: 'list', usage: 'Linux capability to take away' },
  { name: 'cgroup-parent', type: 'string', usage: 'Parent cgroup for the container (the daemon refuses it)' },
  { name: 'cgroupns', type: 'string', usage: 'Cgroup namespace: "host" or "private"' },
  { name: 'device', type: 'list', usage: 'Host device to make available in the container' },
  { name: 'device-cgroup-rule', type: 'list', usage: "Rule to add to the cgroup's device allow list" },
  { name: 'dns', type: 'list', usage: 'DNS server to use' },
  { name: 'dns-option', type: 'list', usage: 'Resolver option for /etc/resolv.conf' },
  { name: 'dns-search', type: 'list', usage: 'DNS search domain' },
  { name: 'domainname', type: 'string', usage: 'NIS domain name inside the container' },
  { name: 'entrypoint', type: 'string', usage: "Replace the image's ENTRYPOINT" },
  { name: 'env', short: 'e', type: 'list', usage: "Environment variable, as NAME=value (or NAME alone to pass on this shell's value)" },
  { name: 'env-file', type: 'list', usage: 'File of NAME=value lines to add to the environment' },
  { name: 'expose', type: 'list', usage: 'Port or port range to expose' },
  { name: 'group-add', type: 'list', usage: "Extra group for the container's user" },
  ...HEALTH_FLAGS,
  { name: 'hostname', short: 'h', type: 'string', usage: 'Host name inside the container' },
  { name: 'init', type: 'bool', usage: 'Start an init as PID 1 that passes signals on and reaps exited processes' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even when nothing is attached' },
  { name: 'ip', type: 'string', usage: 'IPv4 address for the container, e.g. 172.30.100.104' },
  { name: 'ipc', type: 'string', usage: 'IPC namespace mode' },
  { name: 'label', short: 'l', type: 'list', usage: 'Label for the container, as key=value' },
  { name: 'label-file', type: 'list', usage: 'File of labels to add, one per line' },
  { name: 'link', type: 'list', usage: 'Link to another container, as name[:alias]' },
  { name: 'log-driver', type: 'string', usage: "Log driver for the container's output" },
  { name: 'log-opt', type: 'list', usage: 'Option for the log driver' },
  { name: 'mac-address', type: 'string', usage: 'MAC address for the container, e.g. 92:d0:c6:0a:29:33' },
  { name: 'mount', type: 'list', typeName: 'mount', usage: 'Filesystem to mount in the container (type=…,source=…,target=…)' },
  { name: 'name', type: 'string', usage: 'Name for the container' },
  { name: 'network', type: 'string', typeName: 'network', usage: 'Network to connect the container to' },
  { name: 'network-alias', type: 'list', usage: 'Extra name for the container on the network' },
  { name: 'oom-score-adj', type: 'int', usage: "How readily the host's OOM killer picks the container (-1000 to 1000)" },
  { name: 'pid', type: 'string', usage: 'PID namespace mode' },
  { name: 'platform', type: 'string', usage: 'Platform to use, as os[/arch[/variant]] (for daemons that serve several)' },
  { name: 'privileged', type: 'bool', usage: 'Run the container with extended privileges' },
  { name: 'publish', short: 'p', type: 'list', usage: 'Container port to publish on the host' },
  { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish every exposed port on a random host port' },
  { name: 'pull', type: 'string', def: 'missing', usage: 'When to pull the image first: "always", "missing" or "never"' },
  { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print pull progress" },
  { name: 'read-only', type: 'bool', usage: "Make the container's root filesystem read-only" },
  { name: 'restart', type: 'string', def: 'no', usage: 'What to do when the container exits (restart policy)' },
  { name: 'rm', type: 'bool', usage: 'Delete the container, and its anonymous volumes, once it exits' },
  { name: 'security-opt', type: 'list', usage: 'Security setting for the container (seccomp=…, apparmor=…, no-new-privileges…)' },
  { name: 'shm-size', type: 'string', typeName: 'bytes', usage: "Size of the container's /dev/shm" },
  { name: 'stop-signal', type: 'string', usage: 'Signal that stops the container' },
  { name: 'stop-timeout', type: 'int', usage: 'Seconds to wait for the container to stop before killing it' },
  { name: 'sysctl', type: 'list', typeName: 'map', usage: 'Kernel parameter to set, as name=value (default map[])' },
  { name: 'tmpfs', type: 'list', usage: 'Directory to mount a tmpfs on' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Give the process a pseudo-terminal' },
  { name: 'ulimit', type: 'list', typeName: 'ulimit', usage: 'Resource limit, as name=soft[:hard] (default [])' },
  { name: 'user', short: 'u', type: 'string', usage: 'User to run as: <name|uid>[:<group|gid>]' },
  { name: 'userns', type: 'string', usage: 'User namespace mode' },
  { name: 'uts', type: 'string', usage: 'UTS namespace mode' },
  { name: 'volume', short: 'v', type: 'list', usage: 'Volume or host path to mount: [source:]target[:options]' },
  { name: 'volumes-from', type: 'list', usage: 'Container whose volumes to mount as well' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Directory to start in, inside the container' },
];

/** Some of run's flags, for commands that take them too (exec). */
export function createFlags(...names: string[]): FlagSpec[] {
  return names.map((n) => {
    const f = CREATE_FLAGS.find((c) => c.name === n);
    if (!f) throw new Error(`no create flag --${n}`);
    return f;
  });
}

export const RUN_FLAGS: FlagSpec[] = [
  ...CREATE_FLAGS,
  ...([
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run in the background and print the container ID' },
    DETACH_KEYS_FLAG,
    { name: 'sig-proxy', type: 'bool', def: true, usage: 'Pass signals this client receives on to the process' },
  ] as FlagSpec[]),
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

export function envFromList(list: string[]): string[] {
  const out: string[] = [];
  for (const e of list) {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
    else out.push(e);
  }
  return out;
}

/**
 * A bad value in a run/create/exec flag (an unreadable --env-file, a bad -p…). buildCreate reports
 * it run-style for the command at hand; exec prints it as is (exit 1), as docker/cli does.
 */
export class FlagValueError extends Error {}

/** The lines of an --env-file or --label-file, without blanks and # comments. */
export async function readLinesFile(path: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FlagValueError(`open ${path}: no such file or directory`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s+/, ''))
    .filter((l) => l && !l.startsWith('#'));
}


function parsePorts(list: string[]): { exposed: Record<string, object>; bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const raw of list) {
    let spec = raw;
    let proto = 'tcp';
    const slash = spec.lastIndexOf('/');
    if (slash >= 0) {
      proto = spec.slice(slash + 1).toLowerCase();
      spec = spec.slice(0, slash);
    }
    let ip = '';
    let host = '';
    let cport = spec;
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(spec);
    let rest: string[];
    if (v6) {
      ip = v6[1];
      rest = v6[2].split(':');
      [host, cport] = rest.length === 2 ? rest : ['', rest[0]];
    } else {
      rest = spec.split(':');
      if (rest.length === 3) [ip, host, cport] = rest;
      else if (rest.length === 2) [host, cport] = rest;
      else cport = rest[0];
    }
    if (!/^\d+(-\d+)?$/.test(cport)) throw new FlagValueError(`invalid containerPort: ${cport}`);
    const expand = (p: string) => {
      const [a, b] = p.split('-').map(Number);
      const r: number[] = [];
      for (let i = a; i <= (b ?? a); i++) r.push(i);
      return r;
    };
    const cports = expand(cport);
    const hports = host ? expand(host) : [];
    cports.forEach((cp, i) => {
      const key = `${cp}/${proto}`;
      exposed[key] = {};
      const hp = hports.length === cports.length ? String(hports[i]) : hports.length ? host : '';
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    });
  }
  return { exposed, bindings };
}

export interface CreateResult {
  body: ContainerCreateBody;
  name?: string;
  platform?: string;
  image: string;
}

/**
 * `--security-opt` as docker/cli sends it: `seccomp=<file>` becomes `seccomp=<the file's JSON>`,
 * `systempaths=unconfined` becomes empty MaskedPaths and ReadonlyPaths.
 */
async function securityOpts(list: string[]): Promise<{ opts: string[]; unconfinedPaths: boolean }> {
  const { readFile } = await import('node:fs/promises');
  const opts: string[] = [];
  let unconfinedPaths = false;
  for (const opt of list) {
    if (opt === 'systempaths=unconfined') { unconfinedPaths = true; continue; }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    const k = sep ? opt.slice(0, opt.indexOf(sep)) : opt;
    const v = sep ? opt.slice(opt.indexOf(sep) + 1) : '';
    if (k !== 'seccomp' || v === 'unconfined' || v === '') { opts.push(opt); continue; }
    let text: string;
    try {
      text = await readFile(v, 'utf8');
    } catch (e) {
      throw new FlagValueError(`opening seccomp profile (${v}) failed: ${(e as Error).message}`);
    }
    try {
      opts.push(`seccomp=${JSON.stringify(JSON.parse(text))}`);
    } catch (e) {
      throw new FlagValueError(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
    }
  }
  return { opts, unconfinedPaths };
}

/** The create request that run/create flags make; a bad value is reported run-style (exit 125). */
export async function buildCreate(p: ParsedFlags, isRun: boolean): Promise<CreateResult> {
  try {
    return await createFromFlags(p, isRun);
  } catch (e) {
    if (e instanceof FlagValueError) throw runStyleError(e, isRun ? 'run' : 'create');
    throw e;
  }
}

async function createFromFlags(p: ParsedFlags, isRun: boolean): Promise<CreateResult> {
  const f = p.flags;
  const [image, ...cmd] = p.args;
  const detach = isRun && (f.detach as boolean);
  const attach = (f.attach as string[]).map((s) => s.toLowerCase());
  for (const a of attach) {
    if (!['stdin', 'stdout', 'stderr'].includes(a))
      throw new FlagValueError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  }
  let attachStdin = attach.includes('stdin') || (f.interactive as boolean);
  let attachStdout = attach.length ? attach.includes('stdout') : true;
  let attachStderr = attach.length ? attach.includes('stderr') : true;
  if (detach) attachStdin = attachStdout = attachStderr = false;

  let env: string[] = [];
  for (const file of f['env-file'] as string[]) env.push(...envFromList(await readLinesFile(file)));
  env = env.concat(envFromList(f.env as string[]));

  const labels: Record<string, string> = {};
  for (const file of f['label-file'] as string[]) {
    for (const l of await readLinesFile(file)) {
      const i = l.indexOf('=');
      labels[i >= 0 ? l.slice(0, i) : l] = i >= 0 ? l.slice(i + 1) : '';
    }
  }
  for (const l of f.label as string[]) {
    const i = l.indexOf('=');
    labels[i >= 0 ? l.slice(0, i) : l] = i >= 0 ? l.slice(i + 1) : '';
  }

  const { exposed, bindings } = parsePorts(f.publish as string[]);
  for (const e of f.expose as string[]) {
    const [port, proto = 'tcp'] = e.split('/');
    exposed[`${port}/${proto}`] = {};
  }

  let entrypoint: string[] | undefined;
  if (f.entrypoint) entrypoint = [f.entrypoint as string];
  else if (p.changed.has('entrypoint')) entrypoint = [''];

  const tty = f.tty as boolean;
  const { binds, volumes } = splitVolumeFlags(f.volume as string[]);
  const tmpfs: Record<string, string> = {};
  for (const t of f.tmpfs as string[]) {
    const i = t.indexOf(':');
    tmpfs[i >= 0 ? t.slice(0, i) : t] = i >= 0 ? t.slice(i + 1) : '';
  }
  const restart = f.restart as string;
  const [rpName, rpMax] = restart.split(':');
  if (restart !== 'no' && (f.rm as boolean))
    throw new FlagValueError('Conflicting options: --restart and --rm');

  const logOpts: Record<string, string> = {};
  for (const o of f['log-opt'] as string[]) {
    const i = o.indexOf('=');
    logOpts[o.slice(0, i)] = o.slice(i + 1);
  }
  const ulimits = (f.ulimit as string[]).map((u) => {
    const [name, v] = u.split('=');
    const [soft, hard] = (v ?? '').split(':').map(Number);
    return { Name: name, Soft: soft, Hard: hard ?? soft };
  });
  const mounts = (f.mount as string[]).map((m) => {
    try {
      return parseMountFlag(m);
    } catch (e) {
      if (!(e instanceof MountFlagError)) throw e;
      throw new StatusError(125, `invalid argument "${m}" for "--mount" flag: ${e.message}\nSee '${PROG} ${isRun ? 'run' : 'create'} --help'.`);
    }
  });
  const network = (f.network as string) || 'default';
  const sec = await securityOpts(f['security-opt'] as string[]);
  const sysctls: Record<string, string> = {};
  for (const kv of f.sysctl as string[]) {
    const i = kv.indexOf('=');
    sysctls[i >= 0 ? kv.slice(0, i) : kv] = i >= 0 ? kv.slice(i + 1) : '';
  }
  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: '',
    LogConfig: { Type: (f['log-driver'] as string) || '', Config: logOpts },
    NetworkMode: network,
    PortBindings: bindings,
    RestartPolicy: { Name: rpName, MaximumRetryCount: rpMax ? Number(rpMax) : 0 },
    AutoRemove: f.rm as boolean,
    VolumeDriver: '',
    VolumesFrom: (f['volumes-from'] as string[]).length ? f['volumes-from'] : null,
    CapAdd: (f['cap-add'] as string[]).length ? f['cap-add'] : null,
    CapDrop: (f['cap-drop'] as string[]).length ? f['cap-drop'] : null,
    CgroupnsMode: (f.cgroupns as string) || '',
    CgroupParent: (f['cgroup-parent'] as string) || '',
    Dns: f.dns,
    DnsOptions: f['dns-option'],
    DnsSearch: f['dns-search'],
    ExtraHosts: (f['add-host'] as string[]).length ? f['add-host'] : null,
    GroupAdd: (f['group-add'] as string[]).length ? f['group-add'] : null,
    IpcMode: (f.ipc as string) || '',
    Links: (f.link as string[]).length ? f.link : null,
    PidMode: (f.pid as string) || '',
    Privileged: f.privileged as boolean,
    PublishAllPorts: f['publish-all'] as boolean,
    ReadonlyRootfs: f['read-only'] as boolean,
    SecurityOpt: sec.opts.length ? sec.opts : null,
    OomScoreAdj: f['oom-score-adj'] as number,
    UTSMode: (f.uts as string) || '',
    DeviceCgroupRules: (f['device-cgroup-rule'] as string[]).length ? f['device-cgroup-rule'] : null,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UsernsMode: (f.userns as string) || '',
    Mounts: mounts.length ? mounts : undefined,
    Ulimits: ulimits.length ? ulimits : undefined,
  };
  const health = healthFromFlags(f);
  if (health.HealthOnFailure) hostConfig.HealthOnFailure = health.HealthOnFailure;
  if (f.init) hostConfig.Init = true;
  Object.assign(hostConfig, resourcesFromFlags(p));
  if (Object.keys(sysctls).length) hostConfig.Sysctls = sysctls;
  if (sec.unconfinedPaths) { hostConfig.MaskedPaths = []; hostConfig.ReadonlyPaths = []; }
  if (f['shm-size']) hostConfig.ShmSize = ramInBytes(f['shm-size'] as string);
  if ((f.device as string[]).length)
    hostConfig.Devices = (f.device as string[]).map((d) => {
      const [on, inC, perm] = d.split(':');
      return { PathOnHost: on, PathInContainer: inC ?? on, CgroupPermissions: perm ?? 'rwm' };
    });
  if (tty && process.stdout.isTTY) hostConfig.ConsoleSize = [process.stdout.rows || 0, process.stdout.columns || 0];

  const endpoint: Record<string, unknown> = {};
  if ((f['network-alias'] as string[]).length) endpoint.Aliases = f['network-alias'];
  if (f.ip) endpoint.IPAMConfig = { IPv4Address: f.ip };
  if (f['mac-address']) endpoint.MacAddress = f['mac-address'];
  const netCfg =
    network !== 'default' || Object.keys(endpoint).length ? { EndpointsConfig: { [network]: endpoint } } : { EndpointsConfig: {} };

  const body: ContainerCreateBody = {
    Hostname: (f.hostname as string) || '',
    Domainname: (f.domainname as string) || '',
    User: (f.user as string) || '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: tty,
    OpenStdin: f.interactive as boolean,
    StdinOnce: !detach && attachStdin && (f.interactive as boolean),
    Env: env,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: (f.workdir as string) || '',
    Entrypoint: entrypoint ?? null,
    Labels: labels,
    HostConfig: hostConfig,
    NetworkingConfig: netCfg,
  };
  if (health.Healthcheck) body.Healthcheck = health.Healthcheck;
  if (f['stop-signal']) body.StopSignal = f['stop-signal'] as string;
  if (f['mac-address']) body.MacAddress = f['mac-address'] as string;
  if (p.changed.has('stop-timeout')) body.StopTimeout = f['stop-timeout'] as number;
  return { body, name: (f.name as string) || undefined, platform: (f.platform as string) || undefined, image };
}
