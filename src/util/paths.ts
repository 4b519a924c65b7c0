import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The project's root (the folder holding package.json), found from this module's own location,
 * so it works both from src/ under tsx and from the bundled dist/*.mjs files.
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('berth: cannot find the project root (package.json)');
    dir = up;
  }
  root = dir;
  return dir;
}

/** The berth-shim binary: $BERTH_SHIM, else native/shim/berth-shim under the project root. */
export function shimBinary(): string {
  return process.env.BERTH_SHIM ?? join(projectRoot(), 'native', 'shim', 'berth-shim');
}
