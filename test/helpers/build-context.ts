import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A build context folder `root/name` holding `files` (relative path → text); returns its path. */
export function writeContext(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}
