/**
 * `X-Docker-Container-Path-Stat`: dockerd's ContainerPathStat {name, size, mode, mtime,
 * linkTarget} as JSON, base64 (standard alphabet). `mode` is a Go os.FileMode: the permission
 * bits plus Go's own type bits (not the st_mode S_IF* ones), since the CLIs test it with Go's
 * IsDir() and ModeSymlink; `mtime` is Go's RFC 3339 with nanoseconds.
 */
import type { Stats } from 'node:fs';

export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

// Go's io/fs mode bits
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_NAMED_PIPE = 2 ** 25;
const MODE_SOCKET = 2 ** 24;
const MODE_SETUID = 2 ** 23;
const MODE_SETGID = 2 ** 22;
const MODE_CHAR_DEVICE = 2 ** 21;
const MODE_STICKY = 2 ** 20;

/** st_mode → Go's os.FileMode (as os.Lstat's Mode()). */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += MODE_DIR;
  else if (st.isSymbolicLink()) m += MODE_SYMLINK;
  else if (st.isBlockDevice()) m += MODE_DEVICE;
  else if (st.isCharacterDevice()) m += MODE_DEVICE + MODE_CHAR_DEVICE;
  else if (st.isFIFO()) m += MODE_NAMED_PIPE;
  else if (st.isSocket()) m += MODE_SOCKET;
  if (st.mode & 0o4000) m += MODE_SETUID;
  if (st.mode & 0o2000) m += MODE_SETGID;
  if (st.mode & 0o1000) m += MODE_STICKY;
  return m;
}

/** Whether a Go os.FileMode is a directory (for clients reading the header). */
export function goModeIsDir(mode: number): boolean {
  return mode >= MODE_DIR;
}

/** Whether a Go os.FileMode is a symlink. */
export function goModeIsSymlink(mode: number): boolean {
  return Math.floor(mode / MODE_SYMLINK) % 2 === 1;
}

export function decodePathStat(header: string): ContainerPathStat {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ContainerPathStat;
}

/** Go's time.Time JSON: RFC 3339, nanoseconds without trailing zeros, `Z` for UTC. */
export function goTime(st: Stats): string {
  const ns = BigInt(Math.round(st.mtimeMs * 1e6));
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  const f = frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f}Z`;
}

export function pathStat(name: string, st: Stats, linkTarget = ''): ContainerPathStat {
  return { name, size: st.size, mode: goFileMode(st), mtime: goTime(st), linkTarget };
}

export function encodePathStat(s: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}
