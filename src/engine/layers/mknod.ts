/**
 * Device nodes and fifos. Node has no mknod(2); these are rare in layers (overlay whiteouts,
 * /dev entries in old images), so we spawn coreutils `mknod`.
 */
import { hostCommand } from '../host/command.js';

export type NodeKind = 'c' | 'b' | 'p';

export function mknod(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  return hostCommand('mknod', args, { timeoutMs: 30_000, label: `mknod ${path}` }).then(() => undefined);
}

/** An overlay whiteout: a character device 0:0. */
export function mkWhiteout(path: string): Promise<void> {
  return mknod(path, 'c', 0, 0, 0);
}
