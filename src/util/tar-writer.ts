/**
 * A small tar writer that produces what Go's archive/tar writes for layers: ustar headers, with a
 * pax extended header only when needed (long names or link targets, ids or sizes past the ustar
 * fields, xattrs as SCHILY.xattr.* with their raw bytes: security.capability is binary).
 * Times are whole seconds, as moby truncates them.
 */

export type WriteEntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface WriteHeader {
  name: string;
  type: WriteEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data (regular files only). */
  size?: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const BLOCK = 512;
const FLAGS: Record<WriteEntryType, string> = {
  file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6',
};

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function fits(n: number, width: number): boolean {
  return n >= 0 && n < 8 ** (width - 1);
}

/** One pax record: "<len> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // ' ' '=' '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** Split a name into ustar prefix (≤155) and name (≤100) at a '/', or null when impossible. */
function splitUstar(name: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  if (Buffer.byteLength(name) > 256) return null;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const p = name.slice(0, i);
    const n = name.slice(i + 1);
    if (Buffer.byteLength(p) <= 155 && Buffer.byteLength(n) <= 100 && n.length > 0) return { prefix: p, name: n };
  }
  return null;
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

function rawHeader(h: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; flag: string; linkname: string; uname: string; gname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'latin1');
  b.write(octal(fits(h.uid, 8) ? h.uid : 0, 8), 108, 'latin1');
  b.write(octal(fits(h.gid, 8) ? h.gid : 0, 8), 116, 'latin1');
  b.write(octal(fits(h.size, 12) ? h.size : 0, 12), 124, 'latin1');
  b.write(octal(fits(h.mtime, 12) ? h.mtime : 0, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(h.flag, 156, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  b.write(octal(h.devmajor, 8), 329, 'latin1');
  b.write(octal(h.devminor, 8), 337, 'latin1');
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(octal(sum, 7) + ' ', 148, 'latin1');
  return b;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/** The header block(s) of one entry: an optional pax header, then the ustar header. */
export function encodeHeader(h: WriteHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const mtime = Math.max(0, Math.floor(h.mtime));
  const linkname = h.linkname ?? '';
  const pax: Buffer[] = [];
  let name = h.name;
  let prefix = '';
  const split = isAscii(h.name) ? splitUstar(h.name) : null;
  if (split) ({ name, prefix } = split);
  else {
    pax.push(paxRecord('path', Buffer.from(h.name)));
    name = Buffer.from(h.name).subarray(0, 100).toString('latin1').replace(/[^\x00-\x7f]/g, '_');
  }
  let link = linkname;
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) {
    pax.push(paxRecord('linkpath', Buffer.from(linkname)));
    link = '';
  }
  if (!fits(h.uid, 8)) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (!fits(h.gid, 8)) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (!fits(size, 12)) pax.push(paxRecord('size', Buffer.from(String(size))));
  if (!fits(mtime, 12)) pax.push(paxRecord('mtime', Buffer.from(String(mtime))));
  if (h.xattrs) {
    for (const k of [...h.xattrs.keys()].sort()) pax.push(paxRecord(`SCHILY.xattr.${k}`, h.xattrs.get(k)!));
  }
  const main = rawHeader({
    name, prefix, mode: h.mode, uid: h.uid, gid: h.gid, size, mtime, flag: FLAGS[h.type], linkname: link,
    uname: h.uname ?? '', gname: h.gname ?? '', devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0,
  });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax);
  const paxName = ('PaxHeaders.0/' + (name || 'entry')).slice(0, 100);
  const ph = rawHeader({
    name: paxName, prefix: '', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime, flag: 'x', linkname: '',
    uname: '', gname: '', devmajor: 0, devminor: 0,
  });
  return Buffer.concat([ph, body, padding(body.length), main]);
}

export function dataPadding(size: number): Buffer {
  return padding(size);
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);
