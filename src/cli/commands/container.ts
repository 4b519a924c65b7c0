// Container commands: run, create, start, stop, restart, kill, wait, rm, ps, logs, inspect, exec.
import type { ContainerCreateBody, ContainerSummary, EngineClient, ExecCreateBody, HijackedStream, Port } from '../../client/index.js';
import type { Readable } from 'node:stream';
import { StdDemuxer } from '../../util/stdcopy.js';
import { commitCommand } from './commit.js';
import { MountFlagError, parseMountFlag, splitVolumeFlags } from './mount-flag.js';
import type { CommandDef, Ctx } from '../context.js';
import { PROG, StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { humanDuration, humanSizeWithPrecision } from '../../util/units.js';
import { InvalidParameterError } from '../../wire/errors.js';
import { familiarName, familiarString, isSha256Digest, parseAnyReference, truncateId, withDefaultTag, type Reference } from '../../wire/reference.js';
import {
  ellipsis,
  errorText,
  FORMAT_USAGE,
  getTimestamp,
  goQuote,
  goTimeString,
  INSPECT_FORMAT_USAGE,
  isNotFound,
  parseFilters,
  renderProgress,
  runStyleError,
  writeFormatted,
  writeInspect,
} from './common.js';

/* ------------------------------------------------------------ create opts */

const CREATE_FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR' },
  { name: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
  { name: 'cgroupns', type: 'string', usage: 'Cgroup namespace to use (host|private)' },
  { name: 'cpus', type: 'float', typeName: 'decimal', usage: 'Number of CPUs' },
  { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
  { name: 'device', type: 'list', usage: 'Add a host device to the container' },
  { name: 'dns', type: 'list', usage: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', usage: 'Set DNS options' },
  { name: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
  { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
  { name: 'group-add', type: 'list', usage: 'Add additional groups to join' },
  { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
  { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
  { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
  { name: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
  { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', usage: 'Log driver options' },
  { name: 'memory', short: 'm', type: 'string', typeName: 'bytes', usage: 'Memory limit' },
  { name: 'mount', type: 'list', typeName: 'mount', usage: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', usage: 'Assign a name to the container' },
  { name: 'network', type: 'string', typeName: 'network', usage: 'Connect a container to a network' },
  { name: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
  { name: 'pid', type: 'string', usage: 'PID namespace to use' },
  { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
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
  { name: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', typeName: 'ulimit', usage: 'Ulimit options (default [])' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', usage: 'User namespace to use' },
  { name: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
  { name: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
];

const RUN_FLAGS: FlagSpec[] = [
  ...CREATE_FLAGS,
  ...([
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
    { name: 'sig-proxy', type: 'bool', def: true, usage: 'Proxy received signals to the process' },
  ] as FlagSpec[]),
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

function envFromList(list: string[]): string[] {
  const out: string[] = [];
  for (const e of list) {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
    else out.push(e);
  }
  return out;
}

async function readLinesFile(path: string, what: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new StatusError(125, `${PROG}: open ${path}: no such file or directory\n\nRun '${PROG} run --help' for more information`);
  }
  void what;
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s+/, ''))
    .filter((l) => l && !l.startsWith('#'));
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new StatusError(125, `invalid size: '${s}'`);
  return Math.round(Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()]);
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
    if (!/^\d+(-\d+)?$/.test(cport)) throw new StatusError(125, `${PROG}: invalid containerPort: ${cport}\n\nRun '${PROG} run --help' for more information`);
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

interface CreateResult {
  body: ContainerCreateBody;
  name?: string;
  platform?: string;
  image: string;
}

async function buildCreate(p: ParsedFlags, isRun: boolean): Promise<CreateResult> {
  const f = p.flags;
  const [image, ...cmd] = p.args;
  const detach = isRun && (f.detach as boolean);
  const attach = (f.attach as string[]).map((s) => s.toLowerCase());
  for (const a of attach) {
    if (!['stdin', 'stdout', 'stderr'].includes(a))
      throw new StatusError(125, `${PROG}: invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR\n\nRun '${PROG} ${isRun ? 'run' : 'create'} --help' for more information`);
  }
  let attachStdin = attach.includes('stdin') || (f.interactive as boolean);
  let attachStdout = attach.length ? attach.includes('stdout') : true;
  let attachStderr = attach.length ? attach.includes('stderr') : true;
  if (detach) attachStdin = attachStdout = attachStderr = false;

  let env: string[] = [];
  for (const file of f['env-file'] as string[]) env.push(...envFromList(await readLinesFile(file, 'env')));
  env = env.concat(envFromList(f.env as string[]));

  const labels: Record<string, string> = {};
  for (const file of f['label-file'] as string[]) {
    for (const l of await readLinesFile(file, 'label')) {
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
    throw new StatusError(125, `${PROG}: Conflicting options: --restart and --rm\n\nRun '${PROG} ${isRun ? 'run' : 'create'} --help' for more information`);

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
    Dns: f.dns,
    DnsOptions: f['dns-option'],
    DnsSearch: f['dns-search'],
    ExtraHosts: (f['add-host'] as string[]).length ? f['add-host'] : null,
    GroupAdd: (f['group-add'] as string[]).length ? f['group-add'] : null,
    IpcMode: (f.ipc as string) || '',
    PidMode: (f.pid as string) || '',
    Privileged: f.privileged as boolean,
    PublishAllPorts: f['publish-all'] as boolean,
    ReadonlyRootfs: f['read-only'] as boolean,
    SecurityOpt: (f['security-opt'] as string[]).length ? f['security-opt'] : null,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UsernsMode: (f.userns as string) || '',
    Mounts: mounts.length ? mounts : undefined,
    Ulimits: ulimits.length ? ulimits : undefined,
  };
  if (f.init) hostConfig.Init = true;
  if (f.memory) hostConfig.Memory = ramInBytes(f.memory as string);
  if (f['shm-size']) hostConfig.ShmSize = ramInBytes(f['shm-size'] as string);
  if (f.cpus) hostConfig.NanoCpus = Math.round((f.cpus as number) * 1e9);
  if (p.changed.has('pids-limit')) hostConfig.PidsLimit = f['pids-limit'];
  if ((f.device as string[]).length)
    hostConfig.Devices = (f.device as string[]).map((d) => {
      const [on, inC, perm] = d.split(':');
      return { PathOnHost: on, PathInContainer: inC ?? on, CgroupPermissions: perm ?? 'rwm' };
    });
  if (tty && process.stdout.isTTY) hostConfig.ConsoleSize = [process.stdout.rows || 0, process.stdout.columns || 0];

  const endpoint: Record<string, unknown> = {};
  if ((f['network-alias'] as string[]).length) endpoint.Aliases = f['network-alias'];
  if (f.ip) endpoint.IPAMConfig = { IPv4Address: f.ip };
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
  if (f['stop-signal']) body.StopSignal = f['stop-signal'] as string;
  if (p.changed.has('stop-timeout')) body.StopTimeout = f['stop-timeout'] as number;
  return { body, name: (f.name as string) || undefined, platform: (f.platform as string) || undefined, image };
}

/**
 * The image to pull when it is missing, as docker/cli's createContainer reads it
 * (ParseAnyReference + TagNameOnly): undefined for an image ID, which is never pulled.
 */
function pullableRef(image: string): Reference | undefined {
  const ref = parseAnyReference(image);
  return ref.path ? withDefaultTag(ref) : undefined;
}

async function pullForRun(ctx: Ctx, client: EngineClient, ref: Reference, quiet: boolean, platform?: string): Promise<void> {
  const res = await client.imagePullStream(familiarName(ref), ref.digest ?? ref.tag, { platform });
  await renderProgress(res, quiet ? undefined : ctx.err);
}

async function createContainer(ctx: Ctx, client: EngineClient, p: ParsedFlags, isRun: boolean): Promise<string> {
  const path = isRun ? 'run' : 'create';
  const cr = await buildCreate(p, isRun);
  const pull = p.flags.pull as string;
  if (!['always', 'missing', 'never'].includes(pull))
    throw new StatusError(125, `${PROG}: invalid pull option: '${pull}': must be one of "always", "missing" or "never"\n\nRun '${PROG} ${path} --help' for more information`);
  const quiet = p.flags.quiet as boolean;
  try {
    const ref = pullableRef(cr.image);
    if (pull === 'always' && ref) await pullForRun(ctx, client, ref, quiet, cr.platform);
    let resp;
    try {
      resp = await client.containerCreate(cr.body, { name: cr.name, platform: cr.platform });
    } catch (e) {
      if (ref && isNotFound(e) && pull === 'missing' && /No such image/i.test((e as Error).message)) {
        ctx.err.write(`Unable to find image '${familiarString(ref)}' locally\n`);
        await pullForRun(ctx, client, ref, quiet, cr.platform);
        resp = await client.containerCreate(cr.body, { name: cr.name, platform: cr.platform });
      } else throw e;
    }
    for (const w of resp.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
    return resp.Id;
  } catch (e) {
    if (e instanceof StatusError) throw e;
    // docker create prints a bad reference as is (exit 1); docker run reports it run-style (125)
    if (!isRun && e instanceof InvalidParameterError) throw new StatusError(1, e.message);
    throw runStyleError(e, path);
  }
}

/** docker/cli runStartContainerErr / toStatusError exit codes. */
function startErrorStatus(err: unknown): number {
  const msg = errorText(err);
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) return 127;
  if (/permission denied|is a directory/.test(msg)) return 126;
  return 125;
}

/* --------------------------------------------------------- stream piping */

export function pipeOutput(stream: HijackedStream | { output: Readable }, ctx: Ctx, tty: boolean): Promise<void> {
  return new Promise((resolve) => {
    const out = stream.output;
    if (tty) {
      out.on('data', (c: Buffer) => ctx.out.write(c));
    } else {
      const d = new StdDemuxer((s, payload) => {
        if (s === 2 || s === 3) ctx.err.write(payload);
        else ctx.out.write(payload);
      });
      out.on('data', (c: Buffer) => d.push(c));
    }
    out.on('end', () => resolve());
    out.on('close', () => resolve());
    out.on('error', () => resolve());
  });
}

export function forwardStdin(stream: HijackedStream, tty: boolean): () => void {
  const stdin = process.stdin;
  let raw = false;
  if (tty && stdin.isTTY) {
    stdin.setRawMode(true);
    raw = true;
  }
  const onData = (c: Buffer) => stream.input?.write(c);
  const onEnd = () => stream.closeWrite();
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}

const PROXY_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function proxySignals(client: EngineClient, id: string): () => void {
  const handlers = PROXY_SIGNALS.map((sig) => {
    const h = () => {
      client.containerKill(id, sig.slice(3)).catch(() => {});
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

export function monitorTty(client: EngineClient, id: string, resize: (h: number, w: number) => Promise<unknown>): () => void {
  if (!process.stdout.isTTY) return () => {};
  const doResize = () => {
    resize(process.stdout.rows || 24, process.stdout.columns || 80).catch(() => {});
  };
  doResize();
  process.on('SIGWINCH', doResize);
  void client;
  void id;
  return () => process.off('SIGWINCH', doResize);
}

/* ---------------------------------------------------------------- run */

async function runRun(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const detach = f.detach as boolean;
  const tty = f.tty as boolean;
  const interactive = f.interactive as boolean;
  if (detach && p.changed.has('attach'))
    throw new StatusError(125, `${PROG}: Conflicting options: -a and -d\n\nRun '${PROG} run --help' for more information`);
  if (tty && interactive && !process.stdin.isTTY)
    throw new StatusError(1, 'the input device is not a TTY');
  const client = await ctx.client();
  const id = await createContainer(ctx, client, p, true);

  if (detach) {
    try {
      await client.containerStart(id);
    } catch (e) {
      throw runStyleError(e, 'run', startErrorStatus(e));
    }
    ctx.out.write(id + '\n');
    return 0;
  }

  const attach = (f.attach as string[]).map((s) => s.toLowerCase());
  const wantStdin = interactive || attach.includes('stdin');
  const wantStdout = attach.length ? attach.includes('stdout') : true;
  const wantStderr = attach.length ? attach.includes('stderr') : true;
  let stream: HijackedStream | null = null;
  if (wantStdin || wantStdout || wantStderr) {
    try {
      stream = await client.containerAttach(id, {
        stream: true,
        stdin: wantStdin,
        stdout: wantStdout,
        stderr: wantStderr,
        detachKeys: (f['detach-keys'] as string) || undefined,
      });
    } catch (e) {
      throw runStyleError(e, 'run');
    }
  }
  const autoRemove = f.rm as boolean;
  const wait = client.containerWait(id, autoRemove ? 'removed' : 'next-exit');
  try {
    await wait.headers;
  } catch (e) {
    stream?.destroy();
    throw runStyleError(e, 'run');
  }
  const outputDone = stream ? pipeOutput(stream, ctx, tty) : Promise.resolve();
  const stopStdin = stream && wantStdin && stream.input ? forwardStdin(stream, tty) : () => {};
  const stopSignals = !tty && (f['sig-proxy'] as boolean) ? proxySignals(client, id) : () => {};
  try {
    await client.containerStart(id);
  } catch (e) {
    stopStdin();
    stopSignals();
    stream?.destroy();
    throw runStyleError(e, 'run', startErrorStatus(e));
  }
  const stopTty = tty ? monitorTty(client, id, (h, w) => client.containerResize(id, h, w)) : () => {};
  await outputDone;
  stopStdin();
  stopTty();
  let code = 0;
  try {
    const r = await wait.result;
    if (r.Error && r.Error.Message) ctx.err.write(`${PROG}: Error response from daemon: ${r.Error.Message}\n`);
    code = r.StatusCode;
  } catch (e) {
    stopSignals();
    throw runStyleError(e, 'run');
  }
  stopSignals();
  return code;
}

async function runCreate(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const id = await createContainer(ctx, client, p, false);
  ctx.out.write(id + '\n');
  return 0;
}

/* ------------------------------------------------------- simple per-arg */

/** Run fn per argument, printing each result; errors are collected and reported at the end (exit 1). */
async function eachArg(ctx: Ctx, names: string[], fn: (name: string) => Promise<string | null | void>): Promise<number> {
  const errs: string[] = [];
  for (const n of names) {
    try {
      const out = await fn(n);
      if (out !== null) ctx.out.write((out ?? n) + '\n');
    } catch (e) {
      errs.push(errorText(e));
    }
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
}

async function runStart(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const attach = p.flags.attach as boolean;
  const interactive = p.flags.interactive as boolean;
  if (attach || interactive) {
    if (p.args.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
    const name = p.args[0];
    const info = await client.containerInspect(name);
    const tty = !!info.Config?.Tty;
    const stream = await client.containerAttach(info.Id, {
      stream: true,
      stdin: interactive && !!info.Config?.OpenStdin,
      stdout: true,
      stderr: true,
      detachKeys: (p.flags['detach-keys'] as string) || undefined,
    });
    const wait = client.containerWait(info.Id, 'next-exit');
    await wait.headers.catch(() => {});
    const done = pipeOutput(stream, ctx, tty);
    const stopStdin = interactive && info.Config?.OpenStdin ? forwardStdin(stream, tty) : () => {};
    const stopSignals = !tty ? proxySignals(client, info.Id) : () => {};
    try {
      await client.containerStart(info.Id);
    } catch (e) {
      stopStdin();
      stopSignals();
      stream.destroy();
      throw new StatusError(startErrorStatus(e) === 125 ? 1 : startErrorStatus(e), errorText(e));
    }
    await done;
    stopStdin();
    stopSignals();
    const r = await wait.result.catch(() => ({ StatusCode: 0 }));
    return r.StatusCode;
  }
  const failedNames: string[] = [];
  for (const n of p.args) {
    try {
      await client.containerStart(n, { detachKeys: (p.flags['detach-keys'] as string) || undefined });
      ctx.out.write(n + '\n');
    } catch (e) {
      ctx.err.write(errorText(e) + '\n');
      failedNames.push(n);
    }
  }
  if (failedNames.length) throw new StatusError(1, `Error: failed to start containers: ${failedNames.join(', ')}`);
  return 0;
}

async function runStop(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const t = p.changed.has('timeout') ? (p.flags.timeout as number) : undefined;
  const signal = (p.flags.signal as string) || undefined;
  return eachArg(ctx, p.args, async (n) => {
    await client.containerStop(n, { timeout: t, signal });
  });
}

async function runRestart(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const t = p.changed.has('timeout') ? (p.flags.timeout as number) : undefined;
  const signal = (p.flags.signal as string) || undefined;
  return eachArg(ctx, p.args, async (n) => {
    await client.containerRestart(n, { timeout: t, signal });
  });
}

async function runKill(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const signal = (p.flags.signal as string) || undefined;
  return eachArg(ctx, p.args, async (n) => {
    await client.containerKill(n, signal);
  });
}

async function runRm(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const force = p.flags.force as boolean;
  return eachArg(ctx, p.args, async (n) => {
    const name = n.replace(/^\/+/, '');
    if (!name) throw new Error('Container name cannot be empty');
    try {
      await client.containerRemove(name, { force, volumes: p.flags.volumes as boolean, link: p.flags.link as boolean });
    } catch (e) {
      if (force && isNotFound(e)) return null;
      throw e;
    }
  });
}

async function runWait(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return eachArg(ctx, p.args, async (n) => {
    const r = await client.containerWait(n, 'not-running').result;
    return String(r.StatusCode);
  });
}

/* ------------------------------------------------------------------ ps */

export function displayablePorts(ports: Port[] | null | undefined): string {
  if (!ports || !ports.length) return '';
  const sorted = [...ports].sort((a, b) => {
    if ((a.PrivatePort ?? 0) !== (b.PrivatePort ?? 0)) return (a.PrivatePort ?? 0) - (b.PrivatePort ?? 0);
    if ((a.Type ?? '') !== (b.Type ?? '')) return (a.Type ?? '') < (b.Type ?? '') ? -1 : 1;
    return (a.IP ?? '') < (b.IP ?? '') ? -1 : (a.IP ?? '') > (b.IP ?? '') ? 1 : 0;
  });
  // group consecutive ports into ranges per (IP, type, public offset)
  const groups = new Map<string, Array<{ priv: number; pub: number }>>();
  const order: string[] = [];
  const out: string[] = [];
  for (const p of sorted) {
    const ip = p.IP ?? '';
    const key = p.PublicPort ? `${ip.includes(':') ? `[${ip}]` : ip}:` : '';
    const gkey = `${key}|${p.Type}`;
    if (!groups.has(gkey)) {
      groups.set(gkey, []);
      order.push(gkey);
    }
    groups.get(gkey)!.push({ priv: p.PrivatePort, pub: p.PublicPort ?? 0 });
  }
  for (const gkey of order) {
    const [hostPart, type] = gkey.split('|');
    const list = groups.get(gkey)!;
    let i = 0;
    while (i < list.length) {
      let j = i;
      while (
        j + 1 < list.length &&
        list[j + 1].priv === list[j].priv + 1 &&
        (hostPart === '' || list[j + 1].pub === list[j].pub + 1)
      )
        j++;
      const priv = i === j ? `${list[i].priv}` : `${list[i].priv}-${list[j].priv}`;
      if (hostPart) {
        const pub = i === j ? `${list[i].pub}` : `${list[i].pub}-${list[j].pub}`;
        out.push(`${hostPart}${pub}->${priv}/${type}`);
      } else out.push(`${priv}/${type}`);
      i = j + 1;
    }
  }
  return out.join(', ');
}

export class ContainerContext {
  static readonly goType = '*formatter.ContainerContext';
  constructor(
    private readonly c: ContainerSummary,
    private readonly trunc: boolean,
    private readonly now = Date.now(),
  ) {}
  get ID(): string {
    return this.trunc ? truncateId(this.c.Id) : this.c.Id;
  }
  get Names(): string {
    const names = (this.c.Names ?? [])
      .map((n) => n.replace(/^\//, ''))
      .filter((n) => !this.trunc || !n.includes('/'));
    return names.join(',');
  }
  get Image(): string {
    let image = this.c.Image ?? '';
    if (!image) return '<no image>';
    if (this.trunc) {
      if (this.c.ImageID && truncateId(this.c.ImageID) === truncateId(image)) return truncateId(image);
      if (isSha256Digest(image)) return truncateId(image);
      const at = image.indexOf('@');
      if (at >= 0) image = image.slice(0, at);
    }
    return image;
  }
  get Command(): string {
    const cmd = this.c.Command ?? '';
    return goQuote(this.trunc ? ellipsis(cmd, 20) : cmd);
  }
  get CreatedAt(): string {
    return goTimeString(this.c.Created);
  }
  get RunningFor(): string {
    return humanDuration(this.now - this.c.Created * 1000) + ' ago';
  }
  get Ports(): string {
    return displayablePorts(this.c.Ports);
  }
  get State(): string {
    return this.c.State ?? '';
  }
  get Status(): string {
    return this.c.Status ?? '';
  }
  get Size(): string {
    if (this.c.SizeRw === undefined && this.c.SizeRootFs === undefined) return '0B';
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const sv = humanSizeWithPrecision(this.c.SizeRootFs ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${sv})` : srw;
  }
  get Labels(): string {
    const l = this.c.Labels ?? {};
    return Object.keys(l)
      .sort()
      .map((k) => `${k}=${l[k]}`)
      .join(',');
  }
  Label(name: string): string {
    return (this.c.Labels ?? {})[name] ?? '';
  }
  get Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const name = m.Name || m.Source || '';
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }
  get LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => (m as { Driver?: string }).Driver === 'local').length);
  }
  get Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(',');
  }
  get RunningForRaw(): number {
    return this.c.Created;
  }
  toJSON(): Record<string, string> {
    return {
      Command: this.Command,
      CreatedAt: this.CreatedAt,
      ID: this.ID,
      Image: this.Image,
      Labels: this.Labels,
      LocalVolumes: this.LocalVolumes,
      Mounts: this.Mounts,
      Names: this.Names,
      Networks: this.Networks,
      Platform: null as unknown as string,
      Ports: this.Ports,
      RunningFor: this.RunningFor,
      Size: this.Size,
      State: this.State,
      Status: this.Status,
    };
  }
}

const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

async function runPs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  let limit = f.last as number;
  if (f.latest && limit === -1) limit = 1;
  const quiet = f.quiet as boolean;
  let size = f.size as boolean;
  let format = f.format as string;
  if (format && format !== 'table' && format !== 'json' && !quiet) {
    // docker/cli pre-executes the template against an empty context (errors early, detects .Size)
    const { parseFormat, Template } = await import('../format/template.js');
    const pf = parseFormat(format, '');
    let tmpl;
    try {
      tmpl = new Template(pf.template);
    } catch (e) {
      throw new StatusError(1, `failed to parse template: ${(e as Error).message}`);
    }
    try {
      tmpl.execute(new ContainerContext({ Id: '', Names: [], Image: '', ImageID: '', Command: '', Created: 0, Ports: [], Labels: {}, State: '', Status: '' }, true));
    } catch (e) {
      throw new StatusError(1, `failed to execute template: ${(e as Error).message}`);
    }
    if (/\.Size\b/.test(pf.template)) size = true;
  }
  const client = await ctx.client();
  const filters = parseFilters(f.filter as string[]);
  const list = await client.containerList({
    all: (f.all as boolean) || limit > 0,
    limit: limit > 0 ? limit : undefined,
    size: size && !quiet,
    filters,
  });
  const trunc = !(f['no-trunc'] as boolean);
  if (quiet) format = '{{.ID}}';
  let def = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
  if (size) def += '\t{{.Size}}';
  if (format === '' || format === 'table') format = def;
  const now = Date.now();
  writeFormatted(ctx.out, format, def, list.map((c) => new ContainerContext(c, trunc, now)), PS_HEADERS);
  return 0;
}

/* ---------------------------------------------------------------- logs */

async function runLogs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const info = await client.containerInspect(p.args[0]);
  const res = await client.containerLogs(info.Id, {
    follow: f.follow as boolean,
    stdout: true,
    stderr: true,
    since: f.since ? getTimestamp(f.since as string) : undefined,
    until: f.until ? getTimestamp(f.until as string) : undefined,
    timestamps: f.timestamps as boolean,
    tail: f.tail as string,
    details: f.details as boolean,
  });
  await pipeOutput({ output: res }, ctx, !!info.Config?.Tty);
  return 0;
}

/* ------------------------------------------------------------- inspect */

async function runContainerInspect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const items: unknown[] = [];
  const errors: string[] = [];
  for (const n of p.args) {
    try {
      items.push(await client.containerInspect(n, { size: p.flags.size as boolean }));
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  writeInspect(ctx.out, items, p.flags.format as string);
  if (errors.length) throw new StatusError(1, errors.join('\n'));
  return 0;
}

async function runInspectAny(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const type = p.flags.type as string;
  if (type && !['container', 'image'].includes(type)) throw new StatusError(1, `"${type}" is not a valid value for --type`);
  const items: unknown[] = [];
  const errors: string[] = [];
  for (const n of p.args) {
    let found: unknown;
    let lastErr: unknown;
    if (!type || type === 'container') {
      try {
        found = await client.containerInspect(n, { size: p.flags.size as boolean });
      } catch (e) {
        if (!isNotFound(e)) lastErr = e;
      }
    }
    if (found === undefined && !lastErr && (!type || type === 'image')) {
      try {
        found = await client.imageInspect(n);
      } catch (e) {
        if (!isNotFound(e)) lastErr = e;
      }
    }
    if (found !== undefined) items.push(found);
    else if (lastErr) errors.push(errorText(lastErr));
    else errors.push(type ? `Error: No such ${type}: ${n}` : `Error: No such object: ${n}`);
  }
  writeInspect(ctx.out, items, p.flags.format as string);
  if (errors.length) throw new StatusError(1, errors.join('\n'));
  return 0;
}

/* ---------------------------------------------------------------- exec */

async function runExec(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [container, ...cmd] = p.args;
  const client = await ctx.client();
  const tty = f.tty as boolean;
  const interactive = f.interactive as boolean;
  const detach = f.detach as boolean;
  if (tty && interactive && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const env = envFromList(f.env as string[]);
  for (const file of f['env-file'] as string[]) env.push(...envFromList(await readLinesFile(file, 'env')));
  const body: ExecCreateBody = {
    User: (f.user as string) || '',
    Privileged: f.privileged as boolean,
    Tty: tty,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Detach: detach,
    DetachKeys: (f['detach-keys'] as string) || '',
    Env: env.length ? env : null,
    WorkingDir: (f.workdir as string) || '',
    Cmd: cmd,
  };
  if (tty && process.stdout.isTTY) body.ConsoleSize = [process.stdout.rows || 0, process.stdout.columns || 0];
  const { Id } = await client.execCreate(container, body);
  if (detach) {
    const s = await client.execStart(Id, { Detach: true, Tty: tty });
    s.destroy();
    return 0;
  }
  const stream = await client.execStart(Id, { Detach: false, Tty: tty, ConsoleSize: body.ConsoleSize });
  const done = pipeOutput(stream, ctx, tty);
  const stopStdin = interactive && stream.input ? forwardStdin(stream, tty) : () => {};
  if (!interactive) stream.closeWrite();
  await done;
  stopStdin();
  const info = await client.execInspect(Id);
  return Number(info.ExitCode ?? 0);
}

/* ------------------------------------------------------------- registry */

const TIMEOUT_FLAGS: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
];

export const commands: Record<string, CommandDef> = {
  commit: commitCommand,
  run: {
    spec: {
      use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
      short: 'Create and run a new container from an image',
      aliases: ['container run', 'run'],
      flags: RUN_FLAGS,
      interspersed: false,
      minArgs: 1,
    },
    run: runRun,
  },
  create: {
    spec: {
      use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
      short: 'Create a new container',
      aliases: ['container create', 'create'],
      flags: CREATE_FLAGS,
      interspersed: false,
      minArgs: 1,
    },
    run: runCreate,
  },
  start: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Start one or more stopped containers',
      aliases: ['container start', 'start'],
      flags: [
        { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
        { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
        { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
      ],
      minArgs: 1,
    },
    run: runStart,
  },
  stop: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Stop one or more running containers',
      aliases: ['container stop', 'stop'],
      flags: TIMEOUT_FLAGS,
      minArgs: 1,
    },
    run: runStop,
  },
  restart: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Restart one or more containers',
      aliases: ['container restart', 'restart'],
      flags: TIMEOUT_FLAGS,
      minArgs: 1,
    },
    run: runRestart,
  },
  kill: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Kill one or more running containers',
      aliases: ['container kill', 'kill'],
      flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
      minArgs: 1,
    },
    run: runKill,
  },
  wait: {
    spec: {
      use: 'CONTAINER [CONTAINER...]',
      short: 'Block until one or more containers stop, then print their exit codes',
      aliases: ['container wait', 'wait'],
      flags: [],
      minArgs: 1,
    },
    run: runWait,
  },
  rm: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Remove one or more containers',
      aliases: ['container rm', 'container remove', 'rm'],
      flags: [
        { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
        { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
        { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
      ],
      minArgs: 1,
    },
    run: runRm,
  },
  ps: {
    spec: {
      use: '[OPTIONS]',
      short: 'List containers',
      aliases: ['container ls', 'container list', 'container ps', 'ps'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
        { name: 'filter', short: 'f', type: 'list', typeName: 'filter', usage: 'Filter output based on conditions provided' },
        { name: 'format', type: 'string', usage: FORMAT_USAGE },
        { name: 'last', short: 'n', type: 'int', def: -1, usage: 'Show n last created containers (includes all states)' },
        { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
        { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
        { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
      ],
      maxArgs: 0,
    },
    run: runPs,
  },
  logs: {
    spec: {
      use: '[OPTIONS] CONTAINER',
      short: 'Fetch the logs of a container',
      aliases: ['container logs', 'logs'],
      flags: [
        { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
        { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
        { name: 'since', type: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
        { name: 'tail', short: 'n', type: 'string', def: 'all', usage: 'Number of lines to show from the end of the logs' },
        { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
        { name: 'until', type: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runLogs,
  },
  inspect: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: 'Display detailed information on one or more containers',
      flags: [
        { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_USAGE },
        { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
      ],
      minArgs: 1,
    },
    run: runContainerInspect,
  },
  'inspect-any': {
    spec: {
      use: '[OPTIONS] NAME|ID [NAME|ID...]',
      short: 'Return low-level information on Docker objects',
      flags: [
        { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_USAGE },
        { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
        { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
      ],
      minArgs: 1,
    },
    run: runInspectAny,
  },
  exec: {
    spec: {
      use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
      short: 'Execute a command in a running container',
      aliases: ['container exec', 'exec'],
      flags: [
        { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
        { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
        { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables' },
        { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
        { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
        { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
        { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
        { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
        { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
      ],
      interspersed: false,
      minArgs: 2,
    },
    run: runExec,
  },
};
