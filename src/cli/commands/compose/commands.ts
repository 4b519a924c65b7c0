// The compose subcommands (Docker Compose v2's names, flags and outputs), each a small function
// over the loaded project and the Engine API client.
import { randomBytes } from 'node:crypto';
import type { ContainerSummary } from '../../../client/index.js';
import { stringify } from 'yaml';
import { StatusError } from '../../context.js';
import type { CommandSpec, FlagSpec, ParsedFlags } from '../../flags.js';
import { forwardStdin, pipeOutput } from '../attach-io.js';
import { errorText, goQuote, ellipsis, isNotFound, renderProgress, writeFormatted } from '../common.js';
import { createFlags, envFromList } from '../create-flags.js';
import { displayablePorts } from '../ps.js';
import { converge, createContainer, removeContainer, waitCondition, waitRunning } from './converge.js';
import { ComposeError } from './errors.js';
import { lsNameFilter, psStatuses } from './filters.js';
import { LogPrinter, streamLogs } from './logs.js';
import type { Project, ServiceConfig } from './model.js';
import { buildImage, ensureImages, ensureNetworks, ensureVolumes, imageId, pullImage } from './resources.js';
import { COMPOSE_VERSION, configHash, imageName, LABEL, sepOf } from './spec.js';
import { parallelLimit, useColor } from './ui.js';
import { dependencyOrder, eachLimit, nameOf, numberOf, progress, projectContainers, selectServices, serviceOf, withDependencies, withRestartDependents, type Opts } from './state.js';

export interface SubCommand {
  spec: CommandSpec;
  /** false: runs without a compose file (ls, version). */
  needsProject?: boolean;
  run(o: Opts, p: ParsedFlags): Promise<number | void>;
}

const TIMEOUT: FlagSpec = { name: 'timeout', short: 't', type: 'int', def: -1, usage: 'Seconds to wait for containers to stop before killing them' };
const timeoutOf = (p: ParsedFlags): number | undefined => (p.changed.has('timeout') ? (p.flags.timeout as number) : undefined);

function parseScale(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m) throw new ComposeError(`invalid --scale option "${item}". Should be SERVICE=NUM`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

async function orphans(o: Opts, remove: boolean, timeout?: number): Promise<void> {
  const known = new Set([...Object.keys(o.project.services), ...Object.keys(o.project.disabled)]);
  const found = (await projectContainers(o.client, o.project.name)).filter((c) => !known.has(serviceOf(c)));
  if (!found.length) return;
  if (remove) {
    for (const c of found) await removeContainer(o, c, timeout);
  } else {
    o.ctx.err.write(`WARN[0000] Found orphan containers (${found.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`);
  }
}

/** Follow the logs of the given services' containers until they all stop (or Ctrl-C). */
async function attachLogs(o: Opts, services: string[], opts: { color: boolean; prefix: boolean; exitOnFirst?: boolean }): Promise<number> {
  const containers = await projectContainers(o.client, o.project.name, { services });
  const printer = new LogPrinter(o.ctx, containers.map(nameOf), { color: opts.color, prefix: opts.prefix });
  const ac = new AbortController();
  let code = 0;
  let interrupted = false;
  const onSig = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    o.ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    ac.abort();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    await Promise.race([
      Promise.all(containers.map(async (c) => {
        await streamLogs(o.client, printer, c, { follow: true, tail: 'all' }, ac.signal);
        if (ac.signal.aborted) return;
        const info = await o.client.containerInspect(c.Id).catch(() => undefined);
        const exit = Number((info?.State as { ExitCode?: number } | undefined)?.ExitCode ?? 0);
        printer.notice(nameOf(c), `exited with code ${exit}`);
        if (opts.exitOnFirst) {
          code = exit;
          ac.abort();
        }
      })),
      new Promise<void>((r) => ac.signal.addEventListener('abort', () => r())),
    ]);
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  if (interrupted || opts.exitOnFirst) {
    await eachLimit(containers, parallelLimit(o.ctx, 8), async (c) => {
      progress(o.ctx, 'Container', nameOf(c), 'Stopping');
      await o.client.containerStop(c.Id).catch(() => undefined);
      progress(o.ctx, 'Container', nameOf(c), 'Stopped');
    });
  }
  return interrupted ? 130 : code;
}

export async function up(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const detach = (f.detach as boolean) || (f.wait as boolean);
  const scale = parseScale(f.scale as string[]);
  for (const s of Object.keys(scale)) if (!o.project.services[s]) throw new ComposeError(`no such service: ${s}`);
  const named = selectServices(o.project, p.args);
  for (const s of named) if (!o.project.services[s.name]) o.project.services[s.name] = s; // named: enabled despite its profile
  const services = f['no-deps'] ? named : withDependencies(o.project, named);
  if ((f['force-recreate'] as boolean) && (f['no-recreate'] as boolean)) throw new ComposeError('--force-recreate and --no-recreate are incompatible');
  if ((f.build as boolean) && (f['no-build'] as boolean)) throw new ComposeError('--build and --no-build are incompatible');
  // Images, networks and volumes do not depend on each other: made side by side.
  await Promise.all([
    ensureImages(o, services, { build: f.build as boolean, noBuild: f['no-build'] as boolean, quietPull: f['quiet-pull'] as boolean, pull: (f.pull as string) || undefined }),
    ensureNetworks(o, services),
    ensureVolumes(o, services),
  ]);
  await orphans(o, f['remove-orphans'] as boolean, timeoutOf(p));
  const existing = await projectContainers(o.client, o.project.name);
  await converge(o, services, existing, {
    forceRecreate: f['force-recreate'] as boolean,
    noRecreate: f['no-recreate'] as boolean,
    noStart: f['no-start'] as boolean,
    scale,
    timeout: timeoutOf(p),
    noDeps: f['no-deps'] as boolean,
  });
  if (f.wait) await waitRunning(o, services, (f['wait-timeout'] as number) || undefined);
  if (detach || f['no-start']) return 0;
  return attachLogs(o, services.map((s) => s.name), {
    color: !(f['no-color'] as boolean) && useColor(o.ctx),
    prefix: !(f['no-log-prefix'] as boolean),
    exitOnFirst: f['abort-on-container-exit'] as boolean,
  });
}

export async function down(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const rmi = f.rmi as string;
  if (rmi && rmi !== 'all' && rmi !== 'local') throw new ComposeError(`invalid value for --rmi: ${rmi}`);
  const timeout = timeoutOf(p);
  const all = await projectContainers(o.client, o.project.name, { oneoff: true });
  const known = new Set([...Object.keys(o.project.services), ...Object.keys(o.project.disabled)]);
  const removeOrphans = f['remove-orphans'] as boolean;
  const targets = all.filter((c) => known.has(serviceOf(c)) || removeOrphans);
  if (!removeOrphans && all.some((c) => !known.has(serviceOf(c)))) await orphans(o, false);
  // Reverse dependency order: dependents stop before what they depend on.
  const order = dependencyOrder([...Object.values(o.project.services), ...Object.values(o.project.disabled)]).map((s) => s.name).reverse();
  const rank = (c: ContainerSummary) => { const i = order.indexOf(serviceOf(c)); return i < 0 ? -1 : i; };
  const levels = new Map<number, ContainerSummary[]>();
  for (const c of targets) levels.set(rank(c), [...(levels.get(rank(c)) ?? []), c]);
  for (const r of [...levels.keys()].sort((a, b) => a - b)) {
    await eachLimit(levels.get(r)!, parallelLimit(o.ctx, 8), (c) => removeContainer(o, c, timeout, f.volumes as boolean));
  }
  for (const [key, n] of Object.entries(o.project.networks)) {
    if (n.external) continue;
    const found = (await o.client.networkList({ name: [n.name] })).filter((x) => x.Name === n.name);
    for (const net of found) {
      if ((net.Labels ?? {})[LABEL.project] !== undefined && (net.Labels ?? {})[LABEL.project] !== o.project.name) continue;
      progress(o.ctx, 'Network', n.name, 'Removing');
      try {
        await o.client.networkRemove(net.Id);
        progress(o.ctx, 'Network', n.name, 'Removed');
      } catch (e) {
        o.ctx.err.write(`WARN[0000] network ${key}: ${errorText(e)}\n`);
      }
    }
  }
  if (f.volumes) {
    for (const v of Object.values(o.project.volumes)) {
      if (v.external) continue;
      try {
        await o.client.volumeInspect(v.name);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      progress(o.ctx, 'Volume', v.name, 'Removing');
      await o.client.volumeRemove(v.name);
      progress(o.ctx, 'Volume', v.name, 'Removed');
    }
  }
  if (rmi) {
    for (const s of Object.values(o.project.services)) {
      if (rmi === 'local' && s.image) continue;
      const name = imageName(o.project, s);
      if (!(await imageId(o.client, name))) continue;
      progress(o.ctx, 'Image', name, 'Removing');
      await o.client.imageRemove(name).catch((e) => o.ctx.err.write(`WARN[0000] ${errorText(e)}\n`));
      progress(o.ctx, 'Image', name, 'Removed');
    }
  }
  return 0;
}

function humanAgo(createdSec: number): string {
  const s = Math.max(0, Date.now() / 1000 - createdSec);
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return `${Math.round(s)} seconds ago`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute ago';
  if (m < 60) return `${m} minutes ago`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour ago';
  if (h < 48) return `${h} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

async function ps(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const statuses = psStatuses(f.status as string[], f.filter as string);
  const services = selectServices(o.project, p.args).map((s) => s.name);
  if (f.services) {
    for (const s of services) o.ctx.out.write(`${s}\n`);
    return 0;
  }
  let list = await projectContainers(o.client, o.project.name, { oneoff: true, services: p.args.length ? services : undefined });
  // Without -a or a status: what is up (running, paused, restarting), as Compose v2.
  if (!f.all && !statuses.length) list = list.filter((c) => c.State !== 'exited' && c.State !== 'created' && c.State !== 'dead');
  if (statuses.length) list = list.filter((c) => statuses.includes(c.State ?? ''));
  if (f.quiet) {
    for (const c of list) o.ctx.out.write(`${c.Id}\n`);
    return 0;
  }
  const rows = list.map((c) => ({
    ID: c.Id,
    Name: nameOf(c),
    Names: nameOf(c),
    Image: c.Image,
    Command: goQuote(ellipsis(c.Command ?? '', 20)),
    Project: o.project.name,
    Service: serviceOf(c),
    CreatedAt: new Date(c.Created * 1000).toISOString(),
    RunningFor: humanAgo(c.Created),
    State: c.State,
    Status: c.Status,
    Health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1]?.replace('health: ', '') ?? '',
    ExitCode: Number(/Exited \((\d+)\)/.exec(c.Status ?? '')?.[1] ?? 0),
    Ports: displayablePorts(c.Ports),
    Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
  }));
  const format = (f.format as string) || 'table';
  if (format === 'json') {
    for (const r of rows) o.ctx.out.write(JSON.stringify(r) + '\n');
    return 0;
  }
  writeFormatted(o.ctx.out, format, '{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}', rows, {
    Name: 'NAME', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', Service: 'SERVICE', RunningFor: 'CREATED', CreatedAt: 'CREATED', Status: 'STATUS', Ports: 'PORTS', State: 'STATE', ID: 'CONTAINER ID', Project: 'PROJECT', Health: 'HEALTH', ExitCode: 'EXIT CODE',
  });
  return 0;
}

async function logs(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const services = selectServices(o.project, p.args).map((s) => s.name);
  const containers = await projectContainers(o.client, o.project.name, { services, oneoff: false });
  const opts = {
    follow: f.follow as boolean,
    tail: (f.tail as string) || 'all',
    timestamps: f.timestamps as boolean,
    since: (f.since as string) || undefined,
    until: (f.until as string) || undefined,
    prefix: !(f['no-log-prefix'] as boolean),
    color: !(f['no-color'] as boolean) && useColor(o.ctx),
  };
  const printer = new LogPrinter(o.ctx, containers.map(nameOf), opts);
  await Promise.all(containers.map((c) => streamLogs(o.client, printer, c, opts)));
  return 0;
}

/** The container of `service` number `index` (exec, top…), running. */
export async function serviceContainer(o: Opts, service: string, index: number): Promise<ContainerSummary> {
  selectServices(o.project, [service]);
  const list = await projectContainers(o.client, o.project.name, { services: [service] });
  const c = list.find((x) => numberOf(x) === index && x.State === 'running');
  if (!c) throw new ComposeError(index === 1 ? `service "${service}" is not running` : `service "${service}" is not running container #${index}`);
  return c;
}

async function exec(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [service, ...cmd] = p.args;
  const c = await serviceContainer(o, service, (f.index as number) || 1);
  const tty = !(f['no-TTY'] as boolean) && !!process.stdin.isTTY;
  const detach = f.detach as boolean;
  const interactive = !detach && (f.interactive as boolean);
  const { Id } = await o.client.execCreate(c.Id, {
    User: (f.user as string) || '', Privileged: f.privileged as boolean, Tty: tty,
    AttachStdin: interactive, AttachStdout: !detach, AttachStderr: !detach, Detach: detach,
    Env: envFromList(f.env as string[]), WorkingDir: (f.workdir as string) || '', Cmd: cmd,
  });
  const stream = await o.client.execStart(Id, { Detach: detach, Tty: tty });
  if (detach) {
    stream.destroy();
    return 0;
  }
  const done = pipeOutput(stream, o.ctx, tty);
  const stopStdin = interactive && stream.input ? forwardStdin(stream, tty) : () => {};
  if (!interactive) stream.closeWrite();
  await done;
  stopStdin();
  const info = await o.client.execInspect(Id);
  return Number(info.ExitCode ?? 0);
}

async function run(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [service, ...cmd] = p.args;
  const svc = selectServices(o.project, [service])[0];
  const s: ServiceConfig = { ...svc };
  if (cmd.length) s.command = cmd;
  if (f.entrypoint) s.entrypoint = [f.entrypoint as string];
  if (f.user) s.user = f.user as string;
  if (f.workdir) s.working_dir = f.workdir as string;
  if ((f.env as string[]).length) s.environment = { ...(s.environment ?? {}), ...Object.fromEntries((f.env as string[]).map((e) => { const i = e.indexOf('='); return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)]; })) };
  if ((f.label as string[]).length) s.labels = { ...(s.labels ?? {}), ...Object.fromEntries((f.label as string[]).map((e) => { const i = e.indexOf('='); return [e.slice(0, i < 0 ? undefined : i), i < 0 ? '' : e.slice(i + 1)]; })) };
  if (!f['service-ports']) s.ports = [];
  if ((f.publish as string[]).length) {
    const { parsePorts } = await import('./canonical.js');
    s.ports = [...(s.ports ?? []), ...parsePorts(f.publish as string[])];
  }
  if ((f.volume as string[]).length) {
    const { parseMount } = await import('./canonical.js');
    s.volumes = [...(s.volumes ?? []), ...(f.volume as string[]).map((v) => parseMount(v, o.project.workingDir))];
  }
  const tty = !(f['no-TTY'] as boolean) && !!process.stdin.isTTY;
  s.tty = tty;
  s.stdin_open = !(f.detach as boolean);
  const deps = f['no-deps'] ? [] : withDependencies(o.project, [svc]).filter((x) => x.name !== svc.name);
  await ensureImages(o, [...deps, s], { build: f.build as boolean, quietPull: f['quiet-pull'] as boolean });
  await ensureNetworks(o, [...deps, s]);
  await ensureVolumes(o, [...deps, s]);
  if (deps.length) {
    await converge(o, deps, await projectContainers(o.client, o.project.name), { scale: {}, noRecreate: true });
    for (const [dep, cfg] of Object.entries(svc.depends_on ?? {})) if (o.project.services[dep]) await waitCondition(o, dep, cfg.condition);
  }
  const name = (f.name as string) || [o.project.name, service, 'run', randomBytes(6).toString('hex')].join(sepOf(o.project));
  const id = await createContainer(o, s, 1, configHash(s), await imageId(o.client, imageName(o.project, s)), {
    oneoff: true,
    name,
    override: (b) => {
      b.Tty = tty;
      b.OpenStdin = s.stdin_open;
      b.AttachStdin = s.stdin_open;
      b.AttachStdout = true;
      b.AttachStderr = true;
      b.StdinOnce = true;
      if (f.rm) b.HostConfig = { ...b.HostConfig, AutoRemove: true };
    },
  });
  if (f.detach) {
    await o.client.containerStart(id);
    o.ctx.out.write(`${name}\n`);
    return 0;
  }
  const stream = await o.client.containerAttach(id, { stream: true, stdin: true, stdout: true, stderr: true });
  const done = pipeOutput(stream, o.ctx, tty);
  const wait = o.client.containerWait(id, f.rm ? 'removed' : 'next-exit');
  await wait.headers;
  await o.client.containerStart(id);
  const stopStdin = stream.input ? forwardStdin(stream, tty) : () => {};
  const result = await wait.result;
  await done;
  stopStdin();
  return Number(result.StatusCode ?? 0);
}

/** Which services a command acts on, and whether orphan containers (no service in the file) too. */
type Selection = (o: Opts, p: ParsedFlags) => { services: string[]; orphans: boolean };
const named: Selection = (o, p) => ({ services: selectServices(o.project, p.args).map((s) => s.name), orphans: false });
/** kill --remove-orphans, without service names: the project's orphan containers are killed too (as Compose). */
const killed: Selection = (o, p) => ({ ...named(o, p), orphans: (p.flags['remove-orphans'] as boolean) && !p.args.length });
/** restart SERVICE: also the services depending on it with `restart: true`, unless --no-deps (as Compose). */
const restarted: Selection = (o, p) => ({ services: p.args.length && !p.flags['no-deps'] ? withRestartDependents(o.project, named(o, p).services) : named(o, p).services, orphans: false });

/** start/stop/restart/kill/pause/unpause: one call per container of the selected services. */
function each(verb: string, past: string, call: (o: Opts, c: ContainerSummary, p: ParsedFlags) => Promise<unknown>, filter: (c: ContainerSummary) => boolean = () => true, select: Selection = named) {
  return async (o: Opts, p: ParsedFlags): Promise<number> => {
    const { services, orphans } = select(o, p);
    const list = (await projectContainers(o.client, o.project.name, orphans ? {} : { services })).filter(filter);
    const order = dependencyOrder(selectServices(o.project, services)).map((s) => s.name);
    if (verb === 'Stopping' || verb === 'Killing') order.reverse();
    const groups = order.map((svc) => list.filter((c) => serviceOf(c) === svc));
    const strays = list.filter((c) => !order.includes(serviceOf(c)));
    for (const group of strays.length ? [strays, ...groups] : groups) {
      await eachLimit(group, parallelLimit(o.ctx, 8), async (c) => {
        progress(o.ctx, 'Container', nameOf(c), verb);
        await call(o, c, p);
        progress(o.ctx, 'Container', nameOf(c), past);
      });
    }
    return 0;
  };
}

async function rm(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const services = selectServices(o.project, p.args).map((s) => s.name);
  let list = await projectContainers(o.client, o.project.name, { services, oneoff: true });
  if (f.stop) {
    for (const c of list.filter((x) => x.State === 'running')) {
      progress(o.ctx, 'Container', nameOf(c), 'Stopping');
      await o.client.containerStop(c.Id);
      progress(o.ctx, 'Container', nameOf(c), 'Stopped');
    }
    list = await projectContainers(o.client, o.project.name, { services, oneoff: true });
  }
  const stopped = list.filter((c) => c.State !== 'running' && c.State !== 'paused' && c.State !== 'restarting');
  if (!stopped.length) {
    o.ctx.err.write('No stopped containers\n');
    return 0;
  }
  if (!f.force && process.stdin.isTTY) {
    o.ctx.out.write(`Going to remove ${stopped.map(nameOf).join(', ')}\n? Are you sure? (y/N) `);
    const answer = await new Promise<string>((r) => process.stdin.once('data', (d) => r(String(d).trim())));
    process.stdin.pause();
    if (!/^y(es)?$/i.test(answer)) return 0;
  }
  for (const c of stopped) {
    progress(o.ctx, 'Container', nameOf(c), 'Removing');
    await o.client.containerRemove(c.Id, { volumes: f.volumes as boolean });
    progress(o.ctx, 'Container', nameOf(c), 'Removed');
  }
  return 0;
}

async function top(o: Opts, p: ParsedFlags): Promise<number> {
  const services = selectServices(o.project, p.args).map((s) => s.name);
  const list = (await projectContainers(o.client, o.project.name, { services })).filter((c) => c.State === 'running');
  const { tabwrite } = await import('../../format/tabwriter.js');
  for (const c of list) {
    const t = await o.client.containerTop(c.Id);
    o.ctx.out.write(`${nameOf(c)}\n`);
    o.ctx.out.write(tabwrite([t.Titles.join('\t'), ...(t.Processes ?? []).map((r) => r.join('\t'))].join('\n') + '\n', { padding: 3 }));
    o.ctx.out.write('\n');
  }
  return 0;
}

async function images(o: Opts, p: ParsedFlags): Promise<number> {
  const services = selectServices(o.project, p.args).map((s) => s.name);
  const list = await projectContainers(o.client, o.project.name, { services });
  const { humanSizeWithPrecision } = await import('../../../util/units.js');
  const rows = [];
  for (const c of list) {
    let repo = c.Image ?? '';
    let tag = '';
    let size = 0;
    let id = c.ImageID ?? '';
    try {
      const info = await o.client.imageInspect(c.ImageID ?? c.Image ?? '');
      size = Number(info.Size ?? 0);
      id = info.Id;
      const t = (info.RepoTags ?? [])[0];
      if (t) { const i = t.lastIndexOf(':'); repo = t.slice(0, i); tag = t.slice(i + 1); }
    } catch { /* image gone: show what the container says */ }
    rows.push({ ContainerName: nameOf(c), Repository: repo, Tag: tag, ID: id.replace(/^sha256:/, '').slice(0, 12), Size: humanSizeWithPrecision(size, 3) });
  }
  if (p.flags.quiet) {
    for (const r of new Set(rows.map((r) => r.ID))) o.ctx.out.write(`${r}\n`);
    return 0;
  }
  writeFormatted(o.ctx.out, (p.flags.format as string) || 'table', '{{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}', rows, {
    ContainerName: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE',
  });
  return 0;
}

async function ls(o: Opts, p: ParsedFlags): Promise<number> {
  const matchName = lsNameFilter(p.flags.filter as string[]);
  const list = await o.client.containerList({ all: true, filters: { label: [LABEL.project] } });
  const projects = new Map<string, { states: Map<string, number>; files: string }>();
  for (const c of list) {
    const name = c.Labels?.[LABEL.project] ?? '';
    const e = projects.get(name) ?? { states: new Map(), files: c.Labels?.[LABEL.configFiles] ?? '' };
    e.states.set(c.State ?? '', (e.states.get(c.State ?? '') ?? 0) + 1);
    projects.set(name, e);
  }
  let rows = [...projects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([Name, e]) => ({
    Name,
    Status: [...e.states.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '),
    ConfigFiles: e.files,
  }));
  if (!p.flags.all) rows = rows.filter((r) => r.Status.includes('running'));
  rows = rows.filter((r) => matchName(r.Name));
  if (p.flags.quiet) {
    for (const r of rows) o.ctx.out.write(`${r.Name}\n`);
    return 0;
  }
  const format = (p.flags.format as string) || 'table';
  if (format === 'json') {
    o.ctx.out.write(JSON.stringify(rows) + '\n');
    return 0;
  }
  writeFormatted(o.ctx.out, format, '{{.Name}}\t{{.Status}}\t{{.ConfigFiles}}', rows, { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' });
  return 0;
}

async function pull(o: Opts, p: ParsedFlags): Promise<number> {
  const services = selectServices(o.project, p.args).filter((s) => s.image);
  let failed = false;
  await eachLimit(services, parallelLimit(o.ctx, 4), async (s) => {
    try {
      await pullImage(o, s, p.flags.quiet as boolean);
    } catch (e) {
      if (p.flags['ignore-pull-failures']) { o.ctx.err.write(`WARN[0000] ${s.name}: ${errorText(e)}\n`); return; }
      failed = true;
      throw new ComposeError(`Error response from daemon: ${errorText(e)}`);
    }
  });
  return failed ? 1 : 0;
}

async function push(o: Opts, p: ParsedFlags): Promise<number> {
  for (const s of selectServices(o.project, p.args)) {
    if (!s.image) continue;
    const ref = s.image;
    const colon = ref.lastIndexOf(':');
    const [name, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
    progress(o.ctx, 'Image', ref, 'Pushing');
    try {
      const res = await o.client.imagePushStream(name, tag);
      await renderProgress(res, undefined);
    } catch (e) {
      if (p.flags['ignore-push-failures']) continue;
      throw new ComposeError(`Error response from daemon: ${errorText(e)}`);
    }
    progress(o.ctx, 'Image', ref, 'Pushed');
  }
  return 0;
}

async function build(o: Opts, p: ParsedFlags): Promise<number> {
  for (const s of selectServices(o.project, p.args)) {
    if (!s.build) continue;
    await buildImage(o, s, { noCache: p.flags['no-cache'] as boolean, pull: p.flags.pull as boolean, quiet: p.flags.quiet as boolean });
  }
  return 0;
}

/** The model as YAML (or JSON), internal fields left out, services sorted. */
export function renderConfig(project: Project, format: string): string {
  const services: Record<string, unknown> = {};
  for (const name of Object.keys(project.services).sort()) {
    const { name: _n, ...rest } = project.services[name];
    const nets = rest.networks && Object.keys(rest.networks).length ? rest.networks : { default: null };
    services[name] = { ...rest, networks: nets };
  }
  const model: Record<string, unknown> = { name: project.name, services };
  if (Object.keys(project.networks).length) model.networks = project.networks;
  if (Object.keys(project.volumes).length) model.volumes = project.volumes;
  if (Object.keys(project.configs).length) model.configs = project.configs;
  if (Object.keys(project.secrets).length) model.secrets = project.secrets;
  return format === 'json' ? JSON.stringify(model, null, 2) + '\n' : stringify(model, { lineWidth: 0, aliasDuplicateObjects: false });
}

async function config(o: Opts, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  if (f.quiet) return 0;
  const write = (xs: string[]) => { for (const x of xs) o.ctx.out.write(`${x}\n`); return 0; };
  if (f.services) return write(Object.keys(o.project.services));
  if (f.volumes) return write(Object.keys(o.project.volumes));
  if (f.networks) return write(Object.keys(o.project.networks));
  if (f.profiles) return write([...new Set([...Object.values(o.project.services), ...Object.values(o.project.disabled)].flatMap((s) => s.profiles ?? []))].sort());
  if (f.images) return write(Object.values(o.project.services).map((s) => imageName(o.project, s)));
  if (f.hash) {
    const want = (f.hash as string) === '*' ? Object.keys(o.project.services) : (f.hash as string).split(',');
    return write(want.map((s) => `${s} ${configHash(selectServices(o.project, [s])[0])}`));
  }
  const format = (f.format as string) || 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new ComposeError(`unsupported format "${format}"`);
  const text = renderConfig(o.project, format);
  if (f.output) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f.output as string, text);
  } else o.ctx.out.write(text);
  return 0;
}

const str = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, type: 'string', usage });
const bool = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, type: 'bool', usage });
const list = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, type: 'list', usage });
/** A flag of `berth run` (its words), with Compose's default where Compose has another. */
const runFlag = (name: string, over: Partial<FlagSpec> = {}): FlagSpec => ({ ...createFlags(name)[0], ...over });

export const INDEX_USAGE = 'Which container of the service, when it has several replicas';
export const NO_DEPS: FlagSpec = bool('no-deps', 'Leave alone the services these depend on (not started with them)');
const REMOVE_ORPHANS = bool('remove-orphans', 'Also remove containers of services the Compose file no longer defines');
const NO_COLOR = bool('no-color', 'Print the logs without colour');
const NO_LOG_PREFIX = bool('no-log-prefix', 'Print log lines without the container name in front');
const QUIET_PULL = bool('quiet-pull', 'Pull images without showing progress');
const LIST_FORMAT = (values: string): FlagSpec => str('format', `Output format: ${values}`);
const NAMES_ONLY = (what: string): FlagSpec => bool(what, `Print only the ${what.replace(/s$/, '')} names, one a line`);

export const SUBCOMMANDS: Record<string, SubCommand> = {
  up: {
    spec: {
      use: '[OPTIONS] [SERVICE...]', short: 'Create the containers of services, with the networks and volumes they use, and start them',
      flags: [
        bool('abort-on-container-exit', 'Stop every container as soon as one of them stops (not with -d)'),
        bool('build', 'Build the images first'),
        bool('detach', 'Start the containers in the background and return', 'd'),
        bool('force-recreate', 'Recreate containers even when neither their configuration nor their image changed'),
        bool('no-build', "Never build images, even where a service's policy says to"),
        NO_COLOR,
        NO_DEPS,
        NO_LOG_PREFIX,
        bool('no-recreate', 'Keep containers that exist already instead of recreating them (not with --force-recreate)'),
        bool('no-start', 'Create the containers but leave them stopped'),
        str('pull', 'When to pull images: "always", "missing" or "never"'),
        QUIET_PULL,
        REMOVE_ORPHANS,
        list('scale', "Run NUM containers of SERVICE, given as SERVICE=NUM (wins over the Compose file's scale)"),
        TIMEOUT,
        bool('wait', 'Return once the services are running, or healthy where they have a health check (implies -d)'),
        { name: 'wait-timeout', type: 'int', usage: 'Most seconds --wait waits for the project to be running or healthy' },
      ],
    },
    run: up,
  },
  down: {
    spec: {
      use: '[OPTIONS] [SERVICES]', short: "Stop the project's containers and remove them and its networks",
      flags: [
        REMOVE_ORPHANS,
        str('rmi', 'Also remove the services\' images: "all" of them, or "local" ones only (built ones that have no custom tag)'),
        TIMEOUT,
        bool('volumes', 'Also remove the named volumes the Compose file declares under "volumes" and the anonymous volumes of the containers', 'v'),
      ],
    },
    run: down,
  },
  ps: {
    spec: {
      use: '[OPTIONS] [SERVICE...]', short: "List the project's containers",
      flags: [
        bool('all', 'Include stopped containers, those made by `compose run` too', 'a'),
        LIST_FORMAT('"table", "json" or a Go template'),
        bool('quiet', 'Print container IDs only', 'q'),
        bool('services', 'Print service names only'),
        list('status', 'Only containers in this state: paused, restarting, removing, running, dead, created or exited'),
        str('filter', 'Only containers that match, as status=STATE (the one filter there is)'),
      ],
    },
    run: ps,
  },
  logs: {
    spec: {
      use: '[OPTIONS] [SERVICE...]', short: "Print the log output of the services' containers",
      flags: [
        bool('follow', 'Keep printing new output as it comes', 'f'),
        NO_COLOR,
        NO_LOG_PREFIX,
        str('since', 'Only output after this time: a timestamp such as 2013-01-02T13:23:37Z, or an age such as 42m'),
        { name: 'tail', short: 'n', type: 'string', def: 'all', usage: 'How many lines to print from the end of each container\'s log ("all" for every line)' },
        bool('timestamps', 'Start each line with its timestamp', 't'),
        str('until', 'Only output before this time: a timestamp such as 2013-01-02T13:23:37Z, or an age such as 42m'),
      ],
    },
    run: logs,
  },
  exec: {
    spec: {
      use: '[OPTIONS] SERVICE COMMAND [ARGS...]', short: "Run a command inside a service's running container", interspersed: false, minArgs: 2,
      flags: [
        bool('detach', 'Run the command in the background', 'd'),
        ...createFlags('env'),
        { name: 'index', type: 'int', def: 1, usage: INDEX_USAGE },
        runFlag('interactive', { def: true }),
        bool('no-TTY', "Don't give the command a pseudo-terminal (it gets one by default when STDIN is a terminal)", 'T'),
        bool('privileged', 'Run the command with extended privileges'),
        runFlag('tty', { def: true, hidden: true }),
        ...createFlags('user', 'workdir'),
      ],
    },
    run: exec,
  },
  run: {
    spec: {
      use: '[OPTIONS] SERVICE [COMMAND] [ARGS...]', short: 'Run a one-off command in a new container of a service', interspersed: false, minArgs: 1,
      flags: [
        bool('build', 'Build the image before starting the container'),
        bool('detach', 'Run in the background and print the container ID', 'd'),
        ...createFlags('entrypoint', 'env'),
        runFlag('interactive', { def: true }),
        ...createFlags('label', 'name'),
        bool('no-TTY', "Don't give the container a pseudo-terminal (it gets one by default when STDIN is a terminal)", 'T'),
        { ...NO_DEPS, usage: 'Start only this service, not the services it depends on' },
        ...createFlags('publish'),
        QUIET_PULL,
        bool('rm', 'Delete the container once it exits'),
        bool('service-ports', "Publish the ports the service's configuration declares (left out otherwise)"),
        runFlag('tty', { def: true, hidden: true }),
        ...createFlags('user', 'volume', 'workdir'),
      ],
    },
    run,
  },
  start: { spec: { use: '[SERVICE...]', short: "Start the services' stopped containers", flags: [] }, run: each('Starting', 'Started', (o, c) => o.client.containerStart(c.Id), (c) => c.State !== 'running') },
  stop: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Stop the services' running containers", flags: [TIMEOUT] }, run: each('Stopping', 'Stopped', (o, c, p) => o.client.containerStop(c.Id, { timeout: timeoutOf(p) }), (c) => c.State === 'running' || c.State === 'paused') },
  restart: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Stop the services' containers and start them again", flags: [bool('no-deps', 'Leave alone the services that depend on these with `restart: true` (restarted with them otherwise)'), TIMEOUT] }, run: each('Restarting', 'Started', (o, c, p) => o.client.containerRestart(c.Id, { timeout: timeoutOf(p) }), undefined, restarted) },
  kill: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Send a signal (SIGKILL unless told otherwise) to the services' running containers", flags: [{ ...REMOVE_ORPHANS, usage: 'Also kill the containers of services the Compose file no longer defines' }, { name: 'signal', short: 's', type: 'string', def: 'SIGKILL', usage: 'Signal to send, by name or number' }] }, run: each('Killing', 'Killed', (o, c, p) => o.client.containerKill(c.Id, p.flags.signal as string), (c) => c.State === 'running', killed) },
  pause: { spec: { use: '[SERVICE...]', short: "Freeze every process of the services' containers", flags: [] }, run: each('Pausing', 'Paused', (o, c) => o.client.containerPause(c.Id), (c) => c.State === 'running') },
  unpause: { spec: { use: '[SERVICE...]', short: "Resume the frozen processes of the services' containers", flags: [] }, run: each('Unpausing', 'Unpaused', (o, c) => o.client.containerUnpause(c.Id), (c) => c.State === 'paused') },
  rm: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Delete the services' stopped containers", flags: [bool('force', 'Delete without asking first', 'f'), bool('stop', 'Stop running containers first, then delete them', 's'), bool('volumes', 'Also delete the anonymous volumes of the containers', 'v')] }, run: rm },
  top: { spec: { use: '[SERVICES...]', short: "Show the processes running in the services' containers", flags: [] }, run: top },
  images: { spec: { use: '[OPTIONS] [SERVICE...]', short: "List the images the project's containers were created from", flags: [LIST_FORMAT('"table" or "json"'), bool('quiet', 'Print image IDs only', 'q')] }, run: images },
  ls: { needsProject: false, spec: { use: '[OPTIONS]', short: 'List the Compose projects that have running containers', flags: [bool('all', 'Include projects whose containers are all stopped', 'a'), LIST_FORMAT('"table" or "json"'), bool('quiet', 'Print project names only', 'q'), list('filter', 'Only projects that match, as name=REGEXP (the one filter there is)')], maxArgs: 0 }, run: ls },
  pull: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Fetch the services' images from their registries", flags: [bool('ignore-pull-failures', 'Carry on past images that fail to pull, fetching the rest'), bool('quiet', 'Pull without showing progress', 'q')] }, run: pull },
  push: { spec: { use: '[OPTIONS] [SERVICE...]', short: "Send the services' images to their registries", flags: [bool('ignore-push-failures', 'Carry on past images that fail to push, sending the rest'), bool('quiet', 'Push without showing progress', 'q')] }, run: push },
  build: { spec: { use: '[OPTIONS] [SERVICE...]', short: 'Build the images of the services that have a build section', flags: [bool('no-cache', 'Run every build step again instead of using the cache'), bool('pull', 'Fetch a newer base image even when one is already here'), bool('quiet', 'Print nothing to STDOUT', 'q')] }, run: build },
  config: {
    spec: {
      use: '[OPTIONS] [SERVICE...]', short: 'Check the Compose files and print the model they make, resolved, in canonical form',
      flags: [
        LIST_FORMAT('"yaml" or "json"'),
        str('hash', 'Print the configuration hash of these services (comma-separated, or "*" for all), one a line'),
        NAMES_ONLY('images'),
        NAMES_ONLY('networks'),
        str('output', 'File to write to instead of STDOUT', 'o'),
        NAMES_ONLY('profiles'),
        bool('quiet', 'Only check the configuration; print nothing', 'q'),
        NAMES_ONLY('services'),
        NAMES_ONLY('volumes'),
      ],
    },
    run: config,
  },
  version: {
    needsProject: false,
    spec: { use: '[OPTIONS]', short: 'Show which version of Compose this is', flags: [str('format', 'Output format: "pretty" or "json"', 'f'), bool('short', 'Print the version number alone')], maxArgs: 0 },
    run: async (o, p) => {
      if (p.flags.short) o.ctx.out.write(`${COMPOSE_VERSION}\n`);
      else if (p.flags.format === 'json') o.ctx.out.write(JSON.stringify({ version: `v${COMPOSE_VERSION}` }) + '\n');
      else o.ctx.out.write(`Docker Compose version v${COMPOSE_VERSION} (Berth)\n`);
      return 0;
    },
  },
};

export { StatusError };
