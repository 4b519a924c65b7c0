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
  { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container (refused by the daemon)' },
  { name: 'cgroupns', type: 'string', usage: 'Cgroup namespace to use (host|private)' },
  { name: 'device', type: 'list', usage: 'Add a host device to the container' },
  { name: 'device-cgroup-rule', type: 'list', usage: 'Add a rule to the cgroup allowed devices list' },
  { name: 'dns', type: 'list', usage: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', usage: 'Set DNS options' },
  { name: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
  { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'list', usage: 'Add additional groups to join' },
  ...HEALTH_FLAGS,
  { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
  { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
  { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
  { name: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
  { name: 'link', type: 'list', usage: 'Add link to another container' },
  { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', usage: 'Log driver options' },
  { name: 'mac-address', type: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'mount', type: 'list', typeName: 'mount', usage: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', usage: 'Assign a name to the container' },
  { name: 'network', type: 'string', typeName: 'network', usage: 'Connect a container to a network' },
  { name: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
  { name: 'oom-score-adj', type: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pid', type: 'string', usage: 'PID namespace to use' },
  { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', usage: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', def: 'missing', usage: 'Pull image before creating ("always", "missing", "never")' },
  { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', def: 'no', usage: 'Restart policy to apply when a container exits' },
  { name: 'rm', type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'security-opt', type: 'list', usage: 'Security Options' },
  { name: 'shm-size', type: 'string', typeName: 'bytes', usage: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', type: 'list', typeName: 'map', usage: 'Sysctl options (default map[])' },
  { name: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', typeName: 'ulimit', usage: 'Ulimit options (default [])' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', usage: 'User namespace to use' },
  { name: 'uts', type: 'string', usage: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
  { name: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
];

export const RUN_FLAGS: FlagSpec[] = [
  ...CREATE_FLAGS,
  ...([
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
    DETACH_KEYS_FLAG,
    { name: 'sig-proxy', type: 'bool', def: true, usage: 'Proxy received signals to the process' },
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
