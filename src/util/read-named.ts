import { readFileSync } from 'node:fs';

/** Read a file the user named (a certificate, a key); the error says which file and what it is for. */
export function readNamedFile(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`could not read ${what} ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}
