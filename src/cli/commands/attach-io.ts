// The terminal side of an attached container or exec: demultiplexed output, stdin forwarding,
// signal proxying and TTY resizing (docker/cli's hijack.go, signals.go, tty.go).
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { EngineClient, HijackedStream } from '../../client/index.js';
import { StdDemuxer } from '../../util/stdcopy.js';
import type { Ctx } from '../context.js';
import type { FlagSpec } from '../flags.js';
import { errorText } from './common.js';

/** --detach-keys of run, start, attach and exec: the key sequence that leaves the container running. */
export const DETACH_KEYS_FLAG: FlagSpec = { name: 'detach-keys', type: 'string', usage: 'Key sequence that detaches from the container' };

/** docker/cli runStartContainerErr / toStatusError exit codes: 127 not found, 126 cannot invoke, else 125. */
export function startErrorStatus(err: unknown): number {
  const msg = errorText(err);
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) return 127;
  if (/permission denied|is a directory/.test(msg)) return 126;
  return 125;
}

/** Copy a container's output to ours: raw with a TTY, else demultiplexed (stdcopy) to stdout/stderr. */
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

/**
 * The local terminal in raw mode as docker/cli sets it (term.MakeRaw, cfmakeraw): no echo, no
 * line editing, no signals from keys, and no output processing. Node's setRawMode keeps OPOST and
 * ONLCR on, so the container's `\r\n` reached the screen as `\r\r\n`; stty finishes the job on
 * the same terminal (our stdin). setRawMode(false) later restores the state saved before.
 */
function setRawTerminal(): void {
  process.stdin.setRawMode(true);
  // loaded here, not at module load: child_process costs every run/exec/attach start-up
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  spawnSync('stty', ['raw', '-echo'], { stdio: [process.stdin, 'ignore', 'ignore'] });
}

/** Send our stdin to the container (raw mode with a TTY); returns the function that stops it. */
export function forwardStdin(stream: HijackedStream, tty: boolean): () => void {
  const stdin = process.stdin;
  let raw = false;
  if (tty && stdin.isTTY) {
    setRawTerminal();
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

/** Pass the signals we receive on to the container (run/attach --sig-proxy); returns the undo. */
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

/** Keep the container's TTY the size of ours: now, and on every SIGWINCH. */
export function monitorTty(resize: (h: number, w: number) => Promise<unknown>): () => void {
  if (!process.stdout.isTTY) return () => {};
  const doResize = () => {
    resize(process.stdout.rows || 24, process.stdout.columns || 80).catch(() => {}); // best effort, as docker/cli
  };
  doResize();
  process.on('SIGWINCH', doResize);
  return () => process.off('SIGWINCH', doResize);
}
