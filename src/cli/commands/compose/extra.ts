// Compose v2's other subcommands: create, scale (up's convergence without starting / with new
// replica counts), port, wait, events, and attach/cp/stats (the plain commands, with SERVICE
// resolved to the service's container). `watch` is refused.
import type { ContainerSummary } from '../../../client/index.js';
import type { EventMessage } from '../../../wire/types.js';
import type { FlagSpec, ParsedFlags } from '../../flags.js';
import { commands as attachCommands } from '../container-state.js';
import { commands as cpCommands, splitCpArg } from '../cp.js';
import { getTimestamp } from '../common.js';
import { rfc3339NanoFixed } from '../events.js';
import { commands as statsCommands } from '../stats.js';
import { down, INDEX_USAGE, NO_DEPS, serviceContainer, SUBCOMMANDS, up, type SubCommand } from './commands.js';
import { ComposeError } from './errors.js';
import { LABEL } from './spec.js';
import { nameOf, numberOf, progress, projectContainers, selectServices, type Opts } from './state.js';

const bool = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, type: 'bool', usage });
const str = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, type: 'string', usage });
const INDEX: FlagSpec = { name: 'index', type: 'int', def: 0, usage: INDEX_USAGE };

/** up's flags that create also has (Compose v2's create: no -d, --wait, attach options). */
const CREATE_FLAGS = new Set(['build', 'no-build', 'pull', 'quiet-pull', 'force-recreate', 'no-recreate', 'remove-orphans', 'scale']);

/** `create`: up without starting anything. */
async function create(o: Opts, p: ParsedFlags): Promise<number> {
  return up(o, { ...p, flags: { ...p.flags, 'no-start': true, detach: true, wait: false } });
}

/** `scale SERVICE=N...`: converge those services (and, without --no-deps, what they depend on) to N replicas. */
async function scale(o: Opts, p: ParsedFlags): Promise<number> {
  const specs: string[] = [];
  const services: string[] = [];
  for (const arg of p.args) {
    const i = arg.indexOf('=');
    const [key, val] = i < 0 ? ['', ''] : [arg.slice(0, i), arg.slice(i + 1)];
    if (!key || !val) throw new ComposeError(`invalid scale specifier: ${arg}`);
    if (!/^[+-]?\d+$/.test(val)) throw new ComposeError(`invalid scale specifier: can't parse replica value as int: ${arg}`);
    if (Number(val) < 0) throw new ComposeError(`invalid scale specifier: ${arg}`);
    selectServices(o.project, [key]);
    specs.push(`${key}=${Number(val)}`);
    services.push(key);
  }
  return up(o, { ...p, args: services, flags: { ...p.flags, scale: specs, detach: true, wait: false, 'no-start': false } });
}

/** The service's container number `index` (0: the first), whatever its state, for cp and port. */
async function containerOf(o: Opts, service: string, index: number, all = false): Promise<ContainerSummary> {
  selectServices(o.project, [service]);
  const list = await projectContainers(o.client, o.project.name, { services: [service], oneoff: all });
  const c = index > 0 ? list.find((x) => numberOf(x) === index) : list[0];
  if (!c) throw new ComposeError(index > 0 ? `service "${service}" is not running container #${index}` : `no container found for service "${service}"`);
  return c;
}

/** `port SERVICE [PRIVATE_PORT]`: the public address of a published port, or all of them. */
async function port(o: Opts, p: ParsedFlags): Promise<number> {
  const [service, priv] = p.args;
  let want: number | undefined;
  if (priv !== undefined) {
    if (!/^\d+$/.test(priv) || Number(priv) > 65535) throw new ComposeError(`strconv.ParseUint: parsing "${priv}": invalid syntax`);
    want = Number(priv);
  }
  const proto = ((p.flags.protocol as string) || 'tcp').toLowerCase();
  const c = await containerOf(o, service, p.flags.index as number);
  const published = (c.Ports ?? []).filter((x) => x.PublicPort !== undefined && x.PublicPort !== 0);
  if (want === undefined) {
    const filter = p.changed.has('protocol') ? published.filter((x) => x.Type === proto) : published;
    for (const x of filter) o.ctx.out.write(`${x.PrivatePort}/${x.Type} -> ${x.IP ?? '0.0.0.0'}:${x.PublicPort}\n`);
    return 0;
  }
  const hit = published.find((x) => x.PrivatePort === want && x.Type === proto);
  if (!hit) throw new ComposeError(`no port ${want}/${proto} for container ${nameOf(c)}: ${(c.Ports ?? []).map((x) => `${x.PrivatePort}/${x.Type}`).join(', ')}`);
  o.ctx.out.write(`${hit.IP ?? '0.0.0.0'}:${hit.PublicPort}\n`);
  return 0;
}

/** `wait SERVICE...`: block until all their containers stopped; the last one's exit code is ours. */
async function wait(o: Opts, p: ParsedFlags): Promise<number> {
  const services = selectServices(o.project, p.args).map((s) => s.name);
  const list = await projectContainers(o.client, o.project.name, { services, oneoff: true });
  if (!list.length) throw new ComposeError(`no containers for project "${o.project.name}"`);
  let code = 0;
  await Promise.all(list.map(async (c) => {
    const r = await o.client.containerWait(c.Id, 'not-running').result;
    o.ctx.out.write(`container "${c.Id}" exited with status code ${r.StatusCode}\n`);
    code = Number(r.StatusCode ?? 0);
  }));
  if (p.flags['down-project']) await down(o, { flags: { volumes: false, rmi: '', 'remove-orphans': true }, changed: new Set(), args: [], help: false });
  return code;
}

/**
 * An event's time as Compose prints it: Go's "2006-01-02 15:04:05.000000" in local time for the
 * line, time.Time's JSON (RFC 3339 with nanoseconds, trailing zeros trimmed) for --json.
 */
function eventTime(e: EventMessage): { text: string; json: string } {
  const ns = e.timeNano ? BigInt(e.timeNano) : BigInt(e.time) * 1_000_000_000n;
  const fixed = rfc3339NanoFixed(ns);
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)\.(\d{9})(.*)$/.exec(fixed)!;
  const frac = m[3].replace(/0+$/, '');
  return { text: `${m[1]} ${m[2]}.${m[3].slice(0, 6)}`, json: `${m[1]}T${m[2]}${frac ? `.${frac}` : ''}${m[4]}` };
}

/** `events [SERVICE...]`: the project's container events, as Compose prints them (or --json). */
async function events(o: Opts, p: ParsedFlags): Promise<number> {
  const services = p.args.length ? selectServices(o.project, p.args).map((s) => s.name) : undefined;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const stream = o.client.events({
      since: p.flags.since ? getTimestamp(p.flags.since as string) : undefined,
      until: p.flags.until ? getTimestamp(p.flags.until as string) : undefined,
      filters: { type: ['container'], label: [`${LABEL.project}=${o.project.name}`] },
      signal: abort.signal,
    });
    for await (const e of stream) {
      const service = e.Actor?.Attributes?.[LABEL.service];
      if (!service || (services && !services.includes(service))) continue;
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.Actor.Attributes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
        if (!k.startsWith('com.docker.compose.')) attributes[k] = v;
      }
      const t = eventTime(e);
      if (p.flags.json) {
        o.ctx.out.write(JSON.stringify({ action: e.Action, attributes, id: e.Actor.ID, service, time: t.json, type: 'container' }) + '\n');
      } else {
        o.ctx.out.write(`${t.text} container ${e.Action} ${e.Actor.ID} (${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(', ')})\n\n`);
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

/** `attach SERVICE`: `attach` on the service's running container. */
async function attach(o: Opts, p: ParsedFlags): Promise<number> {
  const c = await serviceContainer(o, p.args[0], (p.flags.index as number) || 1);
  return (await attachCommands.attach.run(o.ctx, { ...p, args: [c.Id] }, attachCommands.attach.spec)) ?? 0;
}

/**
 * `cp`: `cp` with SERVICE:PATH turned into the service's container: from a service its first (or
 * --index) container; to a service every one of its containers (or the --index one).
 */
async function cp(o: Opts, p: ParsedFlags): Promise<number> {
  const [a, b] = p.args;
  if (a === '') throw new ComposeError('source can not be empty');
  if (b === '') throw new ComposeError('destination can not be empty');
  const src = splitCpArg(a);
  const dst = splitCpArg(b);
  if (src.container && dst.container) throw new ComposeError('copying between services is not supported');
  if (!src.container && !dst.container) throw new ComposeError('unknown copy direction');
  const service = src.container || dst.container;
  const index = p.flags.index as number;
  const targets = index > 0 || src.container
    ? [await containerOf(o, service, index, p.flags.all as boolean)]
    : await projectContainers(o.client, o.project.name, { services: [selectServices(o.project, [service])[0].name], oneoff: p.flags.all as boolean });
  if (!targets.length) throw new ComposeError(`no container found for service "${service}"`);
  for (const c of targets) {
    const args = src.container ? [`${c.Id}:${src.path}`, b] : [a, `${c.Id}:${dst.path}`];
    const msg = src.container ? `${nameOf(c)}:${src.path} to ${b}` : `${a} to ${nameOf(c)}:${dst.path}`;
    progress(o.ctx, 'Container', nameOf(c), `Copying ${msg}`);
    const code = await cpCommands.cp.run(o.ctx, { ...p, args, flags: { ...p.flags, quiet: true } }, cpCommands.cp.spec);
    if (code) return code;
    progress(o.ctx, 'Container', nameOf(c), `Copied ${msg}`);
  }
  return 0;
}

/** `stats [SERVICE]`: `stats` over the project's (or the service's) containers. */
async function stats(o: Opts, p: ParsedFlags): Promise<number> {
  const services = p.args.length ? selectServices(o.project, p.args).map((s) => s.name) : undefined;
  const list = (await projectContainers(o.client, o.project.name, { services, oneoff: true }))
    .filter((c) => (p.flags.all as boolean) || c.State === 'running');
  // `docker stats` without names would show every container: nothing to show here.
  if (!list.length) return 0;
  return (await statsCommands.stats.run(o.ctx, { ...p, args: list.map((c) => c.Id) }, statsCommands.stats.spec)) ?? 0;
}

export const EXTRA_SUBCOMMANDS: Record<string, SubCommand> = {
  create: {
    spec: { use: '[OPTIONS] [SERVICE...]', short: 'Create the containers of services without starting them', flags: SUBCOMMANDS.up.spec.flags.filter((f) => CREATE_FLAGS.has(f.name)) },
    run: create,
  },
  scale: {
    spec: { use: '[SERVICE=REPLICAS...]', short: 'Change how many containers services run', minArgs: 1, flags: [NO_DEPS] },
    run: scale,
  },
  port: {
    spec: { use: '[OPTIONS] SERVICE [PRIVATE_PORT]', short: "Show a service's published ports, or where one private port is published", minArgs: 1, maxArgs: 2, flags: [INDEX, { name: 'protocol', type: 'string', def: 'tcp', usage: 'Protocol of the port: tcp or udp' }] },
    run: port,
  },
  wait: {
    spec: { use: 'SERVICE [SERVICE...] [OPTIONS]', short: 'Wait until the containers of all (or the named) services stop', minArgs: 1, flags: [bool('down-project', 'Take the project down once the first container stops')] },
    run: wait,
  },
  events: {
    spec: { use: '[OPTIONS] [SERVICE...]', short: "Stream the events of the project's containers as they happen", flags: [bool('json', 'Print each event as a JSON object, one a line'), str('since', 'Only events from this time on'), str('until', 'Stop streaming at this time')] },
    run: events,
  },
  attach: {
    spec: { use: '[OPTIONS] SERVICE', short: "Connect this terminal's input, output and error to a service's running container", minArgs: 1, maxArgs: 1, flags: [...attachCommands.attach.spec.flags, INDEX] },
    run: attach,
  },
  cp: {
    spec: {
      use: '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\tberth compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH', short: 'Copy files or directories between a service container and this host', minArgs: 2, maxArgs: 2,
      flags: [bool('all', 'Include containers made by `compose run`'), ...cpCommands.cp.spec.flags.filter((f) => f.name === 'archive' || f.name === 'follow-link'), INDEX],
    },
    run: cp,
  },
  stats: {
    spec: {
      use: '[OPTIONS] [SERVICE]', short: "Show live CPU, memory, network and block I/O usage of the services' containers", maxArgs: 1,
      flags: statsCommands.stats.spec.flags,
    },
    run: stats,
  },
  watch: {
    spec: { use: '[SERVICE...]', short: "Rebuild or refresh services' containers whenever files of their build context change (not supported by Berth)", flags: [bool('no-up', "Don't build and start the services before watching"), bool('prune', 'Delete dangling images after each rebuild'), bool('quiet', 'Hide the build output')] },
    run: async () => { throw new ComposeError('watch is not supported by Berth: run `up --build` again after a change'); },
  },
};
