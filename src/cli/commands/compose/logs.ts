// Service logs as docker compose prints them: each line prefixed with the container's name,
// padded to the longest, "name  | line", coloured per service on a terminal.
import type { ContainerSummary, EngineClient } from '../../../client/index.js';
import { StdDemuxer } from '../../../util/stdcopy.js';
import type { Ctx } from '../../context.js';
import { nameOf, serviceOf } from './state.js';

// Compose v2's palette order: the basic colours, then their bright variants.
const COLORS = [36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91];

export interface LogOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  prefix?: boolean;
  color?: boolean;
}

export class LogPrinter {
  private readonly width: number;
  private readonly colors = new Map<string, number>();
  constructor(
    private readonly ctx: Ctx,
    names: string[],
    private readonly opts: LogOptions,
  ) {
    this.width = Math.max(0, ...names.map((n) => n.length));
  }
  private prefix(name: string, service: string): string {
    if (this.opts.prefix === false) return '';
    const text = `${name.padEnd(this.width)}  | `;
    if (!this.opts.color) return text;
    if (!this.colors.has(service)) this.colors.set(service, COLORS[this.colors.size % COLORS.length]);
    return `\x1b[${this.colors.get(service)}m${text}\x1b[0m`;
  }
  /** A line writer for one container: buffers partial lines, prefixes complete ones. */
  writer(name: string, service: string, stream: 'out' | 'err' = 'out'): { write(b: Buffer): void; end(): void } {
    let pending = '';
    const target = stream === 'err' ? this.ctx.err : this.ctx.out;
    const pre = this.prefix(name, service);
    return {
      write: (b: Buffer) => {
        pending += b.toString('utf8');
        let i;
        while ((i = pending.indexOf('\n')) >= 0) {
          target.write(pre + pending.slice(0, i + 1));
          pending = pending.slice(i + 1);
        }
      },
      end: () => {
        if (pending) target.write(pre + pending + '\n');
        pending = '';
      },
    };
  }
  /** A notice about a container in the stream, as Compose prints it ("p-web-1 exited with code 0"). */
  notice(name: string, text: string): void {
    this.ctx.out.write(`${name} ${text}\n`);
  }
}

/** Stream one container's log through the printer; resolves when the stream ends. */
export async function streamLogs(client: EngineClient, printer: LogPrinter, c: ContainerSummary, opts: LogOptions, signal?: AbortSignal): Promise<void> {
  const name = nameOf(c);
  const service = serviceOf(c);
  let res;
  let tty = false;
  try {
    tty = !!(await client.containerInspect(c.Id)).Config?.Tty;
    res = await client.containerLogs(c.Id, { follow: opts.follow, stdout: true, stderr: true, tail: opts.tail || 'all', timestamps: opts.timestamps, since: opts.since, until: opts.until }, signal);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || signal?.aborted) return;
    throw e;
  }
  const out = printer.writer(name, service);
  const demux = new StdDemuxer((_s, payload) => out.write(payload));
  await new Promise<void>((resolve) => {
    res.on('data', (chunk: Buffer) => (tty ? out.write(chunk) : demux.push(chunk)));
    res.on('end', () => resolve());
    res.on('close', () => resolve());
    res.on('error', () => resolve());
  });
  out.end();
}
