// stats: live (or --no-stream) resource usage per container, computed as docker/cli does.
import type { ContainerStats } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { bytesSize, humanSizeWithPrecision } from '../../util/units.js';
import { truncateId } from '../../wire/reference.js';
import { errorText, FORMAT_FLAG, writeFormatted } from './common.js';
import { SUMMARY } from '../summaries.js';

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

export const commands: Record<string, CommandDef> = {
  stats: {
    spec: {
      use: '[OPTIONS] [CONTAINER...]',
      short: SUMMARY.stats,
      aliases: ['container stats', 'stats'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Include stopped containers (only running ones by default)' },
        FORMAT_FLAG,
        { name: 'no-stream', type: 'bool', usage: 'Print one sample and exit instead of streaming' },
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
      ],
    },
    run: runStats,
  },
};
