// The archive file a command sends (load -i, import FILE): opened before the request, so a
// missing file is docker/cli's `open <path>: no such file or directory`.
import { createReadStream, type ReadStream } from 'node:fs';
import { StatusError } from '../context.js';

export async function openArchive(path: string): Promise<ReadStream> {
  // 1 MiB reads: per-chunk costs dominate an upload of 64 KiB chunks on a loaded machine.
  const s = createReadStream(path, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    s.once('open', () => resolve());
    s.once('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      reject(new StatusError(1, `open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`));
    });
  });
  return s;
}
