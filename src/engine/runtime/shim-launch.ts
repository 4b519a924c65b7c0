/**
 * Launching a berth-shim (for a container or an exec) and making sure a failed one is gone:
 * shared by the container runtime (index.ts) and exec (exec.ts).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { SystemError } from '../errors.js';
import { shimBinary } from '../../util/paths.js';
import type { ShimClient } from './shimconn.js';

/** Spawn the shim; resolves with its pid once it reports ready (rootfs mounted, socket listening). */
export function spawnShim(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const bin = shimBinary();
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let out = '';
    let settled = false;
    const settle = (fn: () => void): void => { if (!settled) { settled = true; fn(); } };
    child.on('error', (e: NodeJS.ErrnoException) => settle(() => reject(
      e.code === 'ENOENT'
        ? new SystemError(`berth-shim not found at ${bin} (build it with: make -C native/shim)`, e)
        : new SystemError(`cannot start berth-shim: ${e.message}`, e))));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = out.slice(0, nl);
      child.stdout!.destroy();
      if (line.startsWith('ready ')) settle(() => resolve(Number(line.slice(6))));
      else settle(() => reject(new SystemError(`berth-shim: ${line.replace(/^error /, '')}`)));
    });
    child.stdout!.on('end', () => settle(() => reject(new SystemError(`berth-shim exited without reporting ready${out ? `: ${out}` : ''}`))));
    child.unref();
  });
}

export function waitClose(conn: ShimClient, ms: number): Promise<boolean> {
  if (conn.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    conn.once('lowclose', () => { clearTimeout(t); resolve(true); });
  });
}

/** The shim sets the terminal's size the moment it gets it (crun's own consoleSize comes late). */
export function consoleSizeArgs(proc: { consoleSize?: { height: number; width: number } } | undefined): string[] {
  const size = proc?.consoleSize;
  return size && size.height > 0 && size.width > 0 ? ['--console-size', `${size.height},${size.width}`] : [];
}

/** Whether a berth-shim runs with this pid (a zombie waiting for its reaper does not count). */
export function shimAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false; // no such process
  }
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const state = stat.slice(close + 2, close + 3);
  return comm === 'berth-shim' && state !== 'Z' && state !== 'X';
}

/**
 * After a failed start the shim cleans up and exits: wait for its connection to close, then for
 * the process itself (the connection closes just before its _exit); kill it if it lingers.
 */
export async function reapFailedShim(conn: ShimClient, shimPid: number): Promise<void> {
  await waitClose(conn, 5000);
  conn.close();
  await endShim(shimPid, 1000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Make sure a shim is gone: give it `graceMs` to end on its own (one that reported an exit only
 * flushes its clients and leaves), then SIGKILL it and wait until it is gone. A killed shim does
 * nothing more; one left alive would go on to unmount the rootfs, unlink the socket and write the
 * exit file at paths the container's next start uses.
 */
export async function endShim(pid: number, graceMs: number): Promise<void> {
  for (const until = Date.now() + graceMs; shimAlive(pid) && Date.now() < until;) await sleep(5);
  if (!shimAlive(pid)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; /* it ended meanwhile */ }
  for (let i = 0; i < 2000 && shimAlive(pid); i++) await sleep(5);
}

/**
 * The live container shims (not exec ones) serving the bundle `dir`, found by their command
 * lines: a shim whose start a daemon crash cut short is recorded nowhere else.
 */
export function bundleShims(dir: string): number[] {
  const found: number[] = [];
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { return found; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let args: string[];
    try {
      if (readFileSync(`/proc/${e}/comm`, 'latin1') !== 'berth-shim\n') continue;
      args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch { continue; /* ended meanwhile */ }
    const bundle = args.indexOf('--bundle');
    if (bundle > 0 && args[bundle + 1] === dir && !args.includes('--exec-process') && shimAlive(Number(e))) found.push(Number(e));
  }
  return found;
}
