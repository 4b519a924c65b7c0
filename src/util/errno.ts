/**
 * A full disk reported as dockerd reports it: Go's *os.PathError text, `<op> <path>: <reason>`
 * (`write /var/lib/berth/content/ingest/…: no space left on device`), where Node says
 * `ENOSPC: no space left on device, write`. Only out-of-space errors are rewritten; the error keeps
 * its `code`, and the original is its `cause`.
 */
const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT']);

export function isOutOfSpace(e: unknown): boolean {
  return OUT_OF_SPACE.has((e as NodeJS.ErrnoException)?.code ?? '');
}

/** `e` as a path error on `path` (Node's own path wins when it named one); other errors unchanged. */
export function outOfSpaceError(e: unknown, path: string): unknown {
  if (!isOutOfSpace(e)) return e;
  const err = e as NodeJS.ErrnoException;
  // Node: "ENOSPC: no space left on device, write" or "…, open '/path'"
  const reason = /^[A-Z0-9_]+: (.*?)(?:, [a-z_]+(?: '.*')?)?$/s.exec(err.message)?.[1] ?? err.message;
  const op = err.syscall ?? 'write';
  const out = new Error(`${op} ${err.path ?? path}: ${reason}`, { cause: e }) as NodeJS.ErrnoException;
  out.code = err.code;
  out.errno = err.errno;
  out.syscall = op;
  out.path = err.path ?? path;
  return out;
}
