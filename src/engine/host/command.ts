/**
 * The one way the engine runs a host tool (ip, iptables-restore, mount, umount, mknod, ps, crun…).
 * Rare or batched operations only: the hot paths batch their work into one process (network) or
 * hand it to the shim (container start).
 */
import { spawn } from 'node:child_process';
import { HostCommandError } from '../errors.js';

export interface CommandResult { code: number; stdout: string; stderr: string }

export interface CommandOptions {
  /** Written to the tool's stdin, which is then closed (empty when absent). */
  input?: string;
  cwd?: string;
  /** Killed (SIGKILL) after this long; the result then has code 137. */
  timeoutMs?: number;
  /** Output beyond this many bytes per stream is dropped (default 64 MiB). */
  maxBuffer?: number;
  /** The prefix of a failure's message (default: the command line). */
  label?: string;
}

/** Runs the tool and resolves with its exit code and output whatever the exit; a failed spawn rejects. */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const max = opts.maxBuffer ?? 64 << 20;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (d: Buffer) => { if (outLen < max) { out.push(d); outLen += d.length; } });
    child.stderr.on('data', (d: Buffer) => { if (errLen < max) { err.push(d); errLen += d.length; } });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => { if (timer) clearTimeout(timer); reject(new HostCommandError(`${opts.label ?? cmd}: ${e.message}`, -1, '')); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    // A tool that exits without reading its stdin closes the pipe: that is not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the tool; a nonzero exit is a HostCommandError carrying the tool's first words on stderr. Resolves with stdout. */
export async function hostCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) {
    throw new HostCommandError(`${opts.label ?? [cmd, ...args].join(' ')}: ${r.stderr.trim() || `exit status ${r.code}`}`, r.code, r.stderr);
  }
  return r.stdout;
}
