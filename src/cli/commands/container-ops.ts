// Container commands beyond the lifecycle: attach, rename, pause, unpause, top, stats, container prune.
import type { ContainerStats, EngineClient } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { tabwrite } from '../format/tabwriter.js';
import { bytesSize, humanSize, humanSizeWithPrecision } from '../../util/units.js';
import { errorText, FORMAT_USAGE, writeFormatted } from './common.js';
import { truncateId } from '../../wire/reference.js';
import { forwardStdin, monitorTty, pipeOutput, proxySignals } from './container.js';

/* -------------------------------------------------------------- attach */

async function runAttach(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const name = p.args[0];
  // As docker/cli: the wait goes out first, so an exit during the attach is not missed.
  const wait = client.containerWait(name, 'not-running');
  const check = async () => {
    const c = await client.containerInspect(name);
    if (!c.State.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
    if (c.State.Restarting) throw new StatusError(1, 'You cannot attach to a restarting container, wait until it is running');
    return c;
  };
  const c = await check();
  const tty = !!c.Config.Tty;
  const stdin = !(f['no-stdin'] as boolean) && !!c.Config.OpenStdin;
  if (stdin && tty && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const stopSignals = (f['sig-proxy'] as boolean) && !tty ? proxySignals(client, c.Id) : () => {};
  try {
    const stream = await client.containerAttach(c.Id, {
      stream: true, stdin, stdout: true, stderr: true, detachKeys: (f['detach-keys'] as string) || undefined,
    });
    try {
      await check();
    } catch (e) {
      stream.destroy();
      throw e;
    }
    const stopTty = tty ? monitorTty(client, c.Id, (h, w) => client.containerResize(c.Id, h, w)) : () => {};
    const done = pipeOutput(stream, ctx, tty);
    const stopStdin = stdin && stream.input ? forwardStdin(stream, tty) : () => {};
    await done;
    stopStdin();
    stopTty();
    // The stream ended: the container stopped, or the detach keys were read (it still runs).
    const result = await Promise.race([
      wait.result.then((r) => r, () => undefined),
      new Promise<'detached'>((r) => setTimeout(() => r('detached'), 1500).unref()),
    ]);
    if (result === 'detached') throw new StatusError(1, 'read escape sequence');
    if (!result) return 0;
    if (result.Error?.Message) throw new StatusError(125, result.Error.Message);
    return result.StatusCode;
  } finally {
    stopSignals();
  }
}

/* ---------------------------------------------------------- rename, pause */

async function runRename(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const [oldName, newName] = p.args;
  const client = await ctx.client();
  try {
    await client.containerRename(oldName, newName);
  } catch (e) {
    ctx.err.write(errorText(e) + '\n');
    throw new StatusError(1, `Error: failed to rename container named ${oldName}`);
  }
  return 0;
}

async function eachContainer(ctx: Ctx, names: string[], fn: (n: string) => Promise<unknown>): Promise<number> {
  const errs: string[] = [];
  for (const n of names) {
    try {
      await fn(n);
      ctx.out.write(n + '\n');
    } catch (e) {
      errs.push(errorText(e));
    }
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
}

/* ----------------------------------------------------------------- top */

async function runTop(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const list = await client.containerTop(p.args[0], p.args.slice(1));
  let text = list.Titles.join('\t') + '\n';
  for (const proc of list.Processes ?? []) text += proc.join('\t') + '\n';
  ctx.out.write(tabwrite(text, { minwidth: 20, padding: 3 }));
  return 0;
}

/* --------------------------------------------------------------- prune */

/** prompt.Confirm: the question and ` [y/N] `, then one line of stdin; only y/Y says yes. */
export async function confirm(ctx: Ctx, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) finish(buf.slice(0, i));
    };
    const finish = (s: string) => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      resolve(s);
    };
    const onEnd = () => finish(buf);
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.resume();
  });
  return line.trim().toLowerCase() === 'y';
}

/** `-f k=v` prune filters (the CLI passes them through; the daemon checks the keys). */
export function pruneFilters(list: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) throw new StatusError(125, `invalid argument "${item}" for "--filter" flag: bad format of filter (expected name=value)`);
    (out[item.slice(0, i).trim().toLowerCase()] ??= []).push(item.slice(i + 1));
  }
  return out;
}

/** The container part of `container prune` and `system prune`: [space, output]. */
export async function pruneContainers(client: EngineClient, filters: Record<string, string[]>): Promise<[number, string]> {
  const r = await client.containersPrune(filters);
  const ids = r.ContainersDeleted ?? [];
  if (!ids.length) return [0, ''];
  return [r.SpaceReclaimed ?? 0, `Deleted Containers:\n${ids.map((id) => id + '\n').join('')}`];
}

async function runContainerPrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const filters = pruneFilters(p.flags.filter as string[]);
  if (!(p.flags.force as boolean) && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) {
    return 0;
  }
  const client = await ctx.client();
  const [space, output] = await pruneContainers(client, filters);
  if (output) ctx.out.write(output + '\n');
  ctx.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
  return 0;
}

/* --------------------------------------------------------------- stats */

/** One row of `docker stats`, computed from a stats object as docker/cli does. */
export interface StatsRow {
  container: string;
  id: string;
  name: string;
  cpu: number;
  mem: number;
  memLimit: number;
  memPerc: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
  valid: boolean;
}

export function statsRow(container: string, s: ContainerStats): StatsRow {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const m = s.memory_stats ?? {};
  const usage = m.usage ?? 0;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file;
  const mem = inactive !== undefined && inactive < usage ? usage - inactive : usage;
  const memLimit = m.limit ?? 0;
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRx += n.rx_bytes;
    netTx += n.tx_bytes;
  }
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') blkRead += e.value;
    else if (op === 'write') blkWrite += e.value;
  }
  return {
    container, id: s.id ?? '', name: s.name ?? '', cpu, mem, memLimit, memPerc: memLimit ? (mem / memLimit) * 100 : 0,
    netRx, netTx, blkRead, blkWrite, pids: s.pids_stats?.current ?? 0, valid: true,
  };
}

class StatsContext {
  constructor(private readonly r: StatsRow, private readonly trunc: boolean) {}
  get Container(): string { return this.r.container; }
  get ID(): string { return this.trunc ? truncateId(this.r.id) : this.r.id; }
  get Name(): string { return this.r.name.length > 1 ? this.r.name.replace(/^\//, '') : '--'; }
  get CPUPerc(): string { return this.r.valid ? `${this.r.cpu.toFixed(2)}%` : '--'; }
  get MemUsage(): string { return this.r.valid ? `${bytesSize(this.r.mem)} / ${bytesSize(this.r.memLimit)}` : '-- / --'; }
  get MemPerc(): string { return this.r.valid ? `${this.r.memPerc.toFixed(2)}%` : '--'; }
  get NetIO(): string { return this.r.valid ? `${humanSizeWithPrecision(this.r.netRx, 3)} / ${humanSizeWithPrecision(this.r.netTx, 3)}` : '--'; }
  get BlockIO(): string { return this.r.valid ? `${humanSizeWithPrecision(this.r.blkRead, 3)} / ${humanSizeWithPrecision(this.r.blkWrite, 3)}` : '--'; }
  get PIDs(): string { return this.r.valid ? String(this.r.pids) : '--'; }
  toJSON(): Record<string, string> {
    return {
      BlockIO: this.BlockIO, CPUPerc: this.CPUPerc, Container: this.Container, ID: this.ID, MemPerc: this.MemPerc,
      MemUsage: this.MemUsage, Name: this.Name, NetIO: this.NetIO, PIDs: this.PIDs,
    };
  }
}

const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

async function runStats(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const noStream = f['no-stream'] as boolean;
  const trunc = !(f['no-trunc'] as boolean);
  let format = (f.format as string) || STATS_TABLE;
  if (format === 'table') format = STATS_TABLE;
  const client = await ctx.client();
  const abort = new AbortController();
  const rows = new Map<string, StatsRow>();
  const order: string[] = [];
  const errors = new Map<string, string>();
  const firsts: Promise<void>[] = [];

  const watch = (container: string) => {
    if (rows.has(container) || errors.has(container)) return;
    order.push(container);
    rows.set(container, { container, id: container, name: '', cpu: 0, mem: 0, memLimit: 0, memPerc: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 0, valid: false });
    firsts.push((async () => {
      try {
        for await (const s of client.containerStats(container, { stream: !noStream, signal: abort.signal })) {
          rows.set(container, statsRow(container, s));
          if (noStream) break;
        }
      } catch (e) {
        if (!abort.signal.aborted) {
          errors.set(container, errorText(e));
          rows.delete(container);
        }
      }
    })());
  };
  const print = () => {
    const items = order.filter((c) => rows.has(c)).map((c) => new StatsContext(rows.get(c)!, trunc));
    if (!noStream) ctx.out.write('\x1b[2J\x1b[H');
    writeFormatted(ctx.out, format, STATS_TABLE, items, STATS_HEADERS);
  };

  if (p.args.length) {
    for (const c of p.args) watch(c);
  } else {
    for (const c of await client.containerList({ all: f.all as boolean })) watch(c.Id);
    if (!noStream) {
      // New containers join, removed ones leave, as `docker stats` follows the events.
      void (async () => {
        try {
          for await (const e of client.events({ filters: { type: ['container'] }, signal: abort.signal })) {
            if (e.Action === 'start' || (e.Action === 'create' && f.all)) watch(e.Actor.ID);
            if (e.Action === 'destroy' || (e.Action === 'die' && !f.all)) {
              rows.delete(e.Actor.ID);
              const i = order.indexOf(e.Actor.ID);
              if (i >= 0) order.splice(i, 1);
            }
          }
        } catch { /* aborted */ }
      })();
    }
  }
  if (noStream) {
    await Promise.all(firsts);
    abort.abort();
    if (p.args.length && errors.size === p.args.length) throw new StatusError(1, [...errors.values()].join('\n'));
    print();
    if (errors.size) throw new StatusError(1, [...errors.values()].join('\n'));
    return 0;
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (p.args.length && errors.size === p.args.length) {
        clearInterval(timer);
        resolve();
        return;
      }
      print();
    }, 500);
    process.once('SIGINT', () => { clearInterval(timer); resolve(); });
  });
  abort.abort();
  if (errors.size) throw new StatusError(1, [...errors.values()].join('\n'));
  return 0;
}

/* ------------------------------------------------------------- registry */

const PRUNE_FILTER: FlagSpec = { name: 'filter', type: 'list', typeName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' };

export const commands: Record<string, CommandDef> = {
  attach: {
    spec: {
      use: '[OPTIONS] CONTAINER',
      short: 'Attach local standard input, output, and error streams to a running container',
      aliases: ['container attach', 'attach'],
      flags: [
        { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
        { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
        { name: 'sig-proxy', type: 'bool', def: true, usage: 'Proxy all received signals to the process' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runAttach,
  },
  rename: {
    spec: { use: 'CONTAINER NEW_NAME', short: 'Rename a container', aliases: ['container rename', 'rename'], flags: [], minArgs: 2, maxArgs: 2 },
    run: runRename,
  },
  pause: {
    spec: { use: 'CONTAINER [CONTAINER...]', short: 'Pause all processes within one or more containers', aliases: ['container pause', 'pause'], flags: [], minArgs: 1 },
    run: async (ctx, p) => eachContainer(ctx, p.args, async (n) => (await ctx.client()).containerPause(n)),
  },
  unpause: {
    spec: { use: 'CONTAINER [CONTAINER...]', short: 'Unpause all processes within one or more containers', aliases: ['container unpause', 'unpause'], flags: [], minArgs: 1 },
    run: async (ctx, p) => eachContainer(ctx, p.args, async (n) => (await ctx.client()).containerUnpause(n)),
  },
  top: {
    spec: { use: 'CONTAINER [ps OPTIONS]', short: 'Display the running processes of a container', aliases: ['container top', 'top'], flags: [], interspersed: false, minArgs: 1 },
    run: runTop,
  },
  stats: {
    spec: {
      use: '[OPTIONS] [CONTAINER...]',
      short: 'Display a live stream of container(s) resource usage statistics',
      aliases: ['container stats', 'stats'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
        { name: 'format', type: 'string', usage: FORMAT_USAGE },
        { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
        { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
      ],
    },
    run: runStats,
  },
  prune: {
    spec: {
      use: '[OPTIONS]',
      short: 'Remove all stopped containers',
      flags: [PRUNE_FILTER, { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' }],
      maxArgs: 0,
    },
    run: runContainerPrune,
  },
};
