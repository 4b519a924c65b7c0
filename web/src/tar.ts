/** One entry of a tar archive: its path, type ('file', 'dir', 'link', 'symlink', 'other') and size. */
export interface TarEntry { path: string; type: 'file' | 'dir' | 'link' | 'symlink' | 'other'; size: number }

const dec = new TextDecoder();

function field(b: Uint8Array, at: number, len: number): string {
  const s = b.subarray(at, at + len);
  const nul = s.indexOf(0);
  return dec.decode(nul >= 0 ? s.subarray(0, nul) : s);
}

function octal(b: Uint8Array, at: number, len: number): number {
  // base-256 (GNU) for sizes past 8 GiB: the high bit of the first byte
  if (b[at] & 0x80) {
    let n = 0;
    for (let i = at + 1; i < at + len; i++) n = n * 256 + b[i];
    return n;
  }
  return parseInt(field(b, at, len).trim() || '0', 8);
}

/** The entries of a tar (ustar, GNU long names, pax path/size records), in archive order. */
export function listTar(b: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (at + 512 <= b.length) {
    const h = b.subarray(at, at + 512);
    if (h.every((x) => x === 0)) break;
    const flag = String.fromCharCode(h[156] || 48);
    let size = octal(h, 124, 12);
    const body = b.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'L') { longName = field(body, 0, body.length); continue; }
    if (flag === 'x') {
      pax = {};
      for (const rec of dec.decode(body).split('\n')) {
        const m = /^\d+ ([^=]+)=(.*)$/.exec(rec);
        if (m) pax[m[1]] = m[2];
      }
      continue;
    }
    if (flag === 'g') continue;
    const prefix = field(h, 345, 155);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    if (pax.size) size = Number(pax.size);
    longName = undefined;
    pax = {};
    const type = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'dir' : flag === '1' ? 'link' : flag === '2' ? 'symlink' : 'other';
    out.push({ path: name, type, size });
  }
  return out;
}
