// The berth CLI's dispatch: global flags, then the command's module, imported lazily, then its run.
import { FlagError, parseFlags, renderHelp, usageLine, type CommandSpec, type FlagSpec, type ParsedFlags } from './flags.js';
import { CLI_VERSION, GIT_COMMIT, PROG, StatusError, type CommandDef, type Ctx } from './context.js';
import { join } from 'node:path';
import { resolveHost } from '../client/resolve.js';
import { defaultCertPath } from '../client/config-dir.js';
import type { TlsFlags } from '../client/tls.js';
import { SUMMARY, type SummaryKey } from './summaries.js';

/** The command modules, each loaded only when one of its commands runs (a chunk of its own in the bundle). */
type Module =
  | 'run' | 'lifecycle' | 'ps' | 'logs' | 'exec' | 'inspect' | 'commit' | 'container-state' | 'stats'
  | 'image' | 'system' | 'df' | 'events' | 'prune' | 'network' | 'volume' | 'update'
  | 'save' | 'load' | 'import' | 'dashboard'
  | 'cp' | 'diff-export'
  | 'login' | 'search'
  | 'build'
  | 'compose';

const MODULES: Record<Module, () => Promise<{ commands: Record<string, CommandDef> }>> = {
  run: () => import('./commands/run.js'),
  lifecycle: () => import('./commands/lifecycle.js'),
  ps: () => import('./commands/ps.js'),
  logs: () => import('./commands/logs.js'),
  exec: () => import('./commands/exec.js'),
  inspect: () => import('./commands/inspect.js'),
  commit: () => import('./commands/commit.js'),
  'container-state': () => import('./commands/container-state.js'),
  stats: () => import('./commands/stats.js'),
  image: () => import('./commands/image.js'),
  system: () => import('./commands/system.js'),
  df: () => import('./commands/df.js'),
  events: () => import('./commands/events.js'),
  prune: () => import('./commands/prune.js'),
  network: () => import('./commands/network.js'),
  volume: () => import('./commands/volume.js'),
  update: () => import('./commands/update.js'),
  save: () => import('./commands/save.js'),
  load: () => import('./commands/load.js'),
  import: () => import('./commands/import.js'),
  dashboard: () => import('./commands/dashboard.js'),
  cp: () => import('./commands/cp.js'),
  'diff-export': () => import('./commands/diff-export.js'),
  login: () => import('./commands/login.js'),
  search: () => import('./commands/search.js'),
  build: () => import('./commands/build.js'),
  compose: () => import('./commands/compose/index.js'),
};

/** Where a command lives: [module, command key in that module]. */
type Target = [Module, string];

/** Commands of one module under the names that invoke them: { name: key } → { name: [module, key] }. */
function inModule(m: Module, names: Record<string, string>): Record<string, Target> {
  return Object.fromEntries(Object.entries(names).map(([name, key]) => [name, [m, key]]));
}

/** Top-level commands. */
const TOP: Record<string, Target> = {
  ...inModule('run', { run: 'run', create: 'create' }),
  ...inModule('lifecycle', { start: 'start', stop: 'stop', restart: 'restart', kill: 'kill', wait: 'wait', rm: 'rm' }),
  ...inModule('ps', { ps: 'ps' }),
  ...inModule('logs', { logs: 'logs' }),
  ...inModule('exec', { exec: 'exec' }),
  ...inModule('inspect', { inspect: 'inspect-any' }),
  ...inModule('image', { images: 'images', pull: 'pull', tag: 'tag', push: 'push', history: 'history', rmi: 'rmi' }),
  ...inModule('commit', { commit: 'commit' }),
  ...inModule('system', { version: 'version', info: 'info' }),
  ...inModule('container-state', { attach: 'attach', rename: 'rename', pause: 'pause', unpause: 'unpause', top: 'top' }),
  ...inModule('stats', { stats: 'stats' }),
  ...inModule('update', { update: 'update' }),
  ...inModule('events', { events: 'events' }),
  ...inModule('network', { port: 'port' }),
  ...inModule('save', { save: 'save' }),
  ...inModule('load', { load: 'load' }),
  ...inModule('import', { import: 'import' }),
  ...inModule('dashboard', { dashboard: 'dashboard' }),
  ...inModule('cp', { cp: 'cp' }),
  ...inModule('diff-export', { diff: 'diff', export: 'export' }),
  ...inModule('login', { login: 'login', logout: 'logout' }),
  ...inModule('search', { search: 'search' }),
  ...inModule('build', { build: 'build' }),
  ...inModule('compose', { compose: 'compose' }),
};

/** Management commands: their subcommands (aliases included) and the help lines of those shown. */
const MGMT: Record<string, { short: string; subs: Record<string, Target>; docs: Record<string, string> }> = {
  container: {
    short: 'Work with containers',
    subs: {
      ...inModule('commit', { commit: 'commit' }),
      ...inModule('run', { create: 'create', run: 'run' }),
      ...inModule('exec', { exec: 'exec' }),
      ...inModule('inspect', { inspect: 'inspect' }),
      ...inModule('lifecycle', { kill: 'kill', restart: 'restart', rm: 'rm', remove: 'rm', start: 'start', stop: 'stop', wait: 'wait' }),
      ...inModule('logs', { logs: 'logs' }),
      ...inModule('ps', { ls: 'ps', list: 'ps', ps: 'ps' }),
      ...inModule('container-state', { attach: 'attach', pause: 'pause', unpause: 'unpause', rename: 'rename', top: 'top' }),
      ...inModule('stats', { stats: 'stats' }),
      ...inModule('update', { update: 'update' }),
      ...inModule('prune', { prune: 'container-prune' }),
      ...inModule('cp', { cp: 'cp' }),
      ...inModule('diff-export', { diff: 'diff', export: 'export' }),
    },
    docs: {
      commit: SUMMARY.commit,
      create: SUMMARY.create,
      exec: SUMMARY.exec,
      inspect: SUMMARY['container inspect'],
      kill: SUMMARY.kill,
      logs: SUMMARY.logs,
      ls: SUMMARY.ps,
      restart: SUMMARY.restart,
      rm: SUMMARY.rm,
      run: SUMMARY.run,
      start: SUMMARY.start,
      stop: SUMMARY.stop,
      wait: SUMMARY.wait,
      attach: SUMMARY.attach,
      pause: SUMMARY.pause,
      prune: SUMMARY['container prune'],
      rename: SUMMARY.rename,
      stats: SUMMARY.stats,
      top: SUMMARY.top,
      unpause: SUMMARY.unpause,
      update: SUMMARY.update,
      cp: SUMMARY.cp,
      diff: SUMMARY.diff,
      export: SUMMARY.export,
    },
  },
  builder: {
    short: 'Work with image builds',
    subs: { ...inModule('build', { build: 'build' }), ...inModule('prune', { prune: 'builder-prune' }) },
    docs: { build: SUMMARY.build, prune: SUMMARY['builder prune'] },
  },
  image: {
    short: 'Work with images',
    subs: {
      ...inModule('image', { history: 'history', push: 'push', inspect: 'inspect', ls: 'images', list: 'images', pull: 'pull', rm: 'rmi', remove: 'rmi', tag: 'tag' }),
      ...inModule('prune', { prune: 'image-prune' }),
      ...inModule('save', { save: 'save' }),
      ...inModule('load', { load: 'load' }),
      ...inModule('import', { import: 'import' }),
      ...inModule('build', { build: 'build' }),
    },
    docs: {
      build: SUMMARY.build,
      history: SUMMARY.history,
      inspect: SUMMARY['image inspect'],
      ls: SUMMARY.images,
      prune: SUMMARY['image prune'],
      pull: SUMMARY.pull,
      push: SUMMARY.push,
      rm: SUMMARY.rmi,
      tag: SUMMARY.tag,
      save: SUMMARY.save,
      load: SUMMARY.load,
      import: SUMMARY.import,
    },
  },
  volume: {
    short: 'Work with volumes',
    subs: {
      ...inModule('volume', { create: 'create', inspect: 'inspect', ls: 'ls', list: 'ls', rm: 'rm', remove: 'rm' }),
      ...inModule('volume', { export: 'export', import: 'import' }),
      ...inModule('prune', { prune: 'volume-prune' }),
    },
    docs: {
      create: SUMMARY['volume create'],
      inspect: SUMMARY['volume inspect'],
      ls: SUMMARY['volume ls'],
      prune: SUMMARY['volume prune'],
      rm: SUMMARY['volume rm'],
      export: SUMMARY['volume export'],
      import: SUMMARY['volume import'],
    },
  },
  network: {
    short: 'Work with networks',
    subs: {
      ...inModule('network', {
        connect: 'network-connect', create: 'network-create', disconnect: 'network-disconnect', inspect: 'network-inspect',
        ls: 'network-ls', list: 'network-ls', rm: 'network-rm', remove: 'network-rm',
      }),
      ...inModule('prune', { prune: 'network-prune' }),
    },
    docs: {
      connect: SUMMARY['network connect'],
      create: SUMMARY['network create'],
      disconnect: SUMMARY['network disconnect'],
      inspect: SUMMARY['network inspect'],
      ls: SUMMARY['network ls'],
      prune: SUMMARY['network prune'],
      rm: SUMMARY['network rm'],
    },
  },
  system: {
    short: 'Look after Berth itself: disk use, events, checks, cleanup',
    subs: {
      ...inModule('system', { info: 'info', check: 'check' }),
      ...inModule('df', { df: 'df' }),
      ...inModule('events', { events: 'events' }),
      ...inModule('prune', { prune: 'system-prune' }),
    },
    docs: {
      check: 'Find and repair damage in the data root and leftovers on the host',
      df: SUMMARY['system df'],
      events: SUMMARY.events,
      info: SUMMARY.info,
      prune: SUMMARY['system prune'],
    },
  },
};

/** docker's global options. The TLS ones apply to tcp:// hosts (src/client/tls.ts). */
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', usage: "Directory of the client's configuration files" },
  { name: 'context', short: 'c', type: 'string', usage: 'Context to connect through (Berth knows only "default")' },
  { name: 'debug', short: 'D', type: 'bool', usage: 'Print debugging output' },
  { name: 'host', short: 'H', type: 'list', usage: 'Address of the daemon to talk to (unix:// or tcp://)' },
  { name: 'log-level', short: 'l', type: 'string', def: 'info', usage: 'How much to log: "debug", "info", "warn", "error" or "fatal"' },
  { name: 'tls', type: 'bool', usage: 'Connect over TLS (--tlsverify turns this on as well)' },
  { name: 'tlscacert', type: 'string', def: join(defaultCertPath(), 'ca.pem'), usage: 'CA certificate; trust only servers it signed' },
  { name: 'tlscert', type: 'string', def: join(defaultCertPath(), 'cert.pem'), usage: 'Client certificate file for TLS' },
  { name: 'tlskey', type: 'string', def: join(defaultCertPath(), 'key.pem'), usage: "Client certificate's private key file for TLS" },
  { name: 'tlsverify', type: 'bool', usage: "Connect over TLS and check the server's certificate" },
  { name: 'version', short: 'v', type: 'bool', usage: 'Print the version and exit' },
];

/** The TLS flags a user gave (unset ones come from the environment, as docker/cli's). */
function tlsFlags(g: ParsedFlags): TlsFlags {
  const given = <T>(name: string): T | undefined => (g.changed.has(name) ? g.flags[name] as T : undefined);
  return { tls: given('tls'), tlsverify: given('tlsverify'), tlscacert: given('tlscacert'), tlscert: given('tlscert'), tlskey: given('tlskey') };
}

function topHelp(): string {
  const summaries = (names: SummaryKey[]): Array<[string, string]> => names.map((n) => [n, SUMMARY[n]]);
  const cmds = summaries(['run', 'exec', 'ps', 'pull', 'push', 'images', 'build', 'logs', 'inspect', 'version', 'info', 'login', 'logout', 'search']);
  const mg: Array<[string, string]> = Object.entries(MGMT).map(([k, v]) => [k, v.short]);
  const other = summaries([
    'commit', 'cp', 'create', 'dashboard', 'diff', 'export', 'history', 'kill', 'restart', 'rm', 'rmi', 'start', 'stop', 'tag',
    'update', 'wait', 'save', 'load', 'import',
  ]);
  const list = (xs: Array<[string, string]>, w: number) => xs.map(([a, b]) => `  ${a.padEnd(w)}${b}`).join('\n');
  return (
    `Usage:  ${PROG} [OPTIONS] COMMAND\n\nBerth runs and manages containers; it talks to berthd over the Docker Engine API\n\n` +
    `Common Commands:\n${list(cmds, 12)}\n\nManagement Commands:\n${list(mg, 12)}\n\n` +
    `Commands:\n${list(other, 12)}\n\nGlobal Options:\n` +
    renderGlobal(GLOBAL_FLAGS) +
    `\nFor the options of one command: '${PROG} COMMAND --help'.\n`
  );
}

function renderGlobal(flags: FlagSpec[]): string {
  const spec: CommandSpec = { path: '', use: '', short: '', flags };
  const h = renderHelp(PROG, spec);
  return h.slice(h.indexOf('Options:\n') + 'Options:\n'.length);
}

function mgmtHelp(name: string): string {
  const m = MGMT[name];
  const lines = Object.entries(m.docs).map(([sub, d]) => `  ${sub.padEnd(11)} ${d}`);
  return `Usage:  ${PROG} ${name} COMMAND\n\n${m.short}\n\nCommands:\n${lines.join('\n')}\n\nFor the options of one command: '${PROG} ${name} COMMAND --help'.\n`;
}

/** cobra Args validators from docker/cli (cli/required.go); all exit 1. */
function argsError(spec: CommandSpec, n: number): string | null {
  const path = `${PROG} ${spec.path}`;
  const usage = `\n\nUsage:  ${usageLine(PROG, spec)}\n\n`;
  const run = `${usage}Run '${path} --help' for more information`;
  const plural = (k: number) => (k === 1 ? 'argument' : 'arguments');
  const min = spec.minArgs ?? 0;
  const max = spec.maxArgs ?? Infinity;
  if (min === max) {
    if (n === min) return null;
    if (min === 0) return `'${path}' accepts no arguments${run}`;
    return `'${path}' requires ${min} ${plural(min)}${run}`;
  }
  if (max !== Infinity && min > 0 && (n < min || n > max)) return `'${path}' requires at least ${min} and at most ${max} ${plural(max)}${run}`;
  if (n < min) return `'${path}' requires at least ${min} ${plural(min)}${usage}See '${path} --help' for more information`;
  if (n > max) return `'${path}' requires at most ${max} ${plural(max)}${run}`;
  return null;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic', 'trace'];

/**
 * The global options docker/cli checks before any command: a log level it knows, and a context:
 * Berth has only the "default" one (the host from -H or the environment), never with -H.
 */
function globalSettingsError(g: ParsedFlags): string | undefined {
  const level = g.flags['log-level'] as string;
  if (!LOG_LEVELS.includes(level.toLowerCase())) return `Unable to parse logging level: ${level}`;
  const context = g.flags.context as string;
  if (!g.changed.has('context')) return undefined;
  if ((g.flags.host as string[]).length) return 'conflicting options: cannot specify both --host and --context';
  if (context !== 'default') return `Failed to initialize: unable to resolve ${PROG} endpoint: context "${context}": context not found`;
  return undefined;
}

/** Output streams of one invocation (the process's own, or a test's). */
export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

/** Run one berth command line; resolves with its exit status. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const { out, err } = io;
  let g;
  try {
    g = parseFlags({ flags: GLOBAL_FLAGS, interspersed: false }, argv);
  } catch (e) {
    if (e instanceof FlagError) {
      err.write(`${e.message}\n\nUsage:  ${PROG} [OPTIONS] COMMAND [ARG...]\n\nRun '${PROG} --help' for more information\n`);
      return 125;
    }
    throw e;
  }
  if (g.flags.version) {
    out.write(`Berth version ${CLI_VERSION}, build ${GIT_COMMIT}\n`);
    return 0;
  }
  const hosts = g.flags.host as string[];
  const settingsError = globalSettingsError(g);
  if (settingsError) {
    err.write(settingsError + '\n');
    return 1;
  }
  const ctx: Ctx = {
    host: resolveHost(hosts.length ? hosts[hosts.length - 1] : undefined),
    debug: (g.flags.debug as boolean) || g.flags['log-level'] === 'debug',
    configDir: (g.flags.config as string) || undefined,
    out,
    err,
    client: async () => {
      const { EngineClient } = await import('../client/index.js');
      const flags = tlsFlags(g);
      // tls.js (and node:fs with it) only when something asks for TLS: most commands never do
      const wanted = Object.values(flags).some((v) => v !== undefined) || !!process.env.DOCKER_TLS || !!process.env.DOCKER_TLS_VERIFY;
      if (!wanted) return new EngineClient({ host: ctx.host });
      const { loadClientTls, tlsSettings } = await import('../client/tls.js');
      const tls = tlsSettings(flags);
      return new EngineClient({ host: ctx.host, tls: tls && loadClientTls(tls) });
    },
  };
  let args = g.args;
  if (args.length === 0) {
    out.write(topHelp());
    return 0;
  }
  let name = args[0];
  let target: Target;
  let path: string;
  if (name === 'help') {
    args = [...args.slice(1), '--help'];
    if (args.length === 1) {
      out.write(topHelp());
      return 0;
    }
    name = args[0];
  }
  if (Object.hasOwn(MGMT, name)) {
    const m = MGMT[name];
    const sub = args[1];
    if (!sub || sub === '--help' || sub === '-h') {
      out.write(mgmtHelp(name));
      return 0;
    }
    if (!Object.hasOwn(m.subs, sub)) {
      if (sub.startsWith('-')) {
        err.write(`unknown flag: ${sub}\n\nUsage:  ${PROG} ${name} COMMAND\n\nRun '${PROG} ${name} --help' for more information\n`);
        return 125;
      }
      err.write(`${PROG}: unknown command: ${PROG} ${name} ${sub}\n\nUsage:  ${PROG} ${name}\n\nRun '${PROG} ${name} --help' for more information\n`);
      return 1;
    }
    target = m.subs[sub];
    path = `${name} ${sub}`;
    args = args.slice(2);
  } else if (Object.hasOwn(TOP, name)) {
    target = TOP[name];
    path = name;
    args = args.slice(1);
  } else {
    err.write(`${PROG}: unknown command: ${PROG} ${name}\n\nRun '${PROG} --help' for more information\n`);
    return 1;
  }

  const [module, key] = target;
  const mod = await MODULES[module]();
  const def = mod.commands[key];
  const spec: CommandSpec = { ...def.spec, path };
  let parsed;
  try {
    parsed = parseFlags(spec, args);
  } catch (e) {
    if (e instanceof FlagError) {
      err.write(`${e.message}\n\nUsage:  ${usageLine(PROG, spec)}\n\nRun '${PROG} ${path} --help' for more information\n`);
      return 125;
    }
    throw e;
  }
  // `compose --help` lists its subcommands too: compose prints its own help.
  if (parsed.help && path !== 'compose') {
    out.write(renderHelp(PROG, spec));
    return 0;
  }
  const ae = argsError(spec, parsed.args.length);
  if (ae) {
    err.write(`${PROG}: ${ae}\n`);
    return 1;
  }
  try {
    const code = await def.run(ctx, parsed, spec);
    return code ?? 0;
  } catch (e) {
    return reportError(e, ctx);
  }
}

function reportError(e: unknown, ctx: Ctx): number {
  if (e instanceof StatusError) {
    if (e.message) ctx.err.write(e.message.endsWith('\n') ? e.message : e.message + '\n');
    return e.status;
  }
  const anyE = e as { name?: string; message?: string; statusCode?: number };
  if (anyE && anyE.name === 'ApiError') {
    ctx.err.write(`Error response from daemon: ${anyE.message}\n`);
    return 1;
  }
  if (anyE && (anyE.name === 'ConnectionError' || anyE.name === 'JSONMessageError' || anyE.name === 'TemplateError')) {
    ctx.err.write(`${anyE.message}\n`);
    return 1;
  }
  ctx.err.write(`${anyE && anyE.message ? anyE.message : String(e)}\n`);
  if (ctx.debug && e instanceof Error && e.stack) ctx.err.write(e.stack + '\n');
  return 1;
}
