/**
 * Device nodes and fifos. Node has no mknod(2), so coreutils `mknod` makes them: one process per
 * node (mknod), or one shell for many (mknodAll). Starting a process from the daemon costs 50 ms
 * or more here (fork copies a large process's page tables), and a layer may hold a dozen devices
 * (/dev of a debootstrap'd base) or hundreds of whiteouts.
 */
import { hostCommand } from '../host/command.js';

export type NodeKind = 'c' | 'b' | 'p';

export interface NodeSpec { path: string; kind: NodeKind; mode: number; major?: number; minor?: number }

function spec(n: NodeSpec): string[] {
  const args = [n.path, n.kind, (n.mode & 0o7777).toString(8)];
  if (n.kind !== 'p') args.push(String(n.major ?? 0), String(n.minor ?? 0));
  return args;
}

export function mknod(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  return hostCommand('mknod', args, { timeoutMs: 30_000, label: `mknod ${path}` }).then(() => undefined);
}

/** The shell's loop over its arguments: path kind mode [major minor], stopping at the first failure. */
const MKNOD_LOOP = 'while [ $# -gt 0 ]; do if [ "$2" = p ]; then mknod -m "$3" -- "$1" p || exit 1; shift 3; '
  + 'else mknod -m "$3" -- "$1" "$2" "$4" "$5" || exit 1; shift 5; fi; done';

/** Makes every node, in order, with one shell (the paths go as arguments: nothing is parsed). */
export async function mknodAll(nodes: readonly NodeSpec[]): Promise<void> {
  if (nodes.length === 0) return;
  if (nodes.length === 1) {
    const n = nodes[0]!;
    return mknod(n.path, n.kind, n.mode, n.major, n.minor);
  }
  await hostCommand('sh', ['-c', MKNOD_LOOP, 'sh', ...nodes.flatMap(spec)], { timeoutMs: 60_000, label: `mknod (${nodes.length} nodes)` });
}
