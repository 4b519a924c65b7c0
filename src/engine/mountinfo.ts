import { readFile } from 'node:fs/promises';

/** /proc/self/mountinfo escapes space, tab, newline and backslash as octal. */
function mountinfoEscape(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

/** Mount points at or below `dir` in the daemon's mount namespace (deepest first). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const esc = mountinfoEscape(dir.replace(/\/+$/, ''));
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m === esc || m.startsWith(esc + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Whether something is mounted exactly at `path`. */
export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountsUnder(path)).includes(mountinfoEscape(path.replace(/\/+$/, '')));
}
