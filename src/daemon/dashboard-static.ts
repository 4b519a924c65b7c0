/**
 * The dashboard's built files (dist/dashboard, made by `npm run build`), read once at start into
 * memory: only files found there are served, by exact path, so no request path reaches the disk.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Nothing from elsewhere: scripts, styles, fetches and sockets go to this origin only. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface StaticFile { body: Buffer; type: string; immutable: boolean }

export class StaticFiles {
  private constructor(private readonly files: Map<string, StaticFile>) {}

  static async load(dir: string): Promise<StaticFiles> {
    const files = new Map<string, StaticFile>();
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          const rel = '/' + relative(dir, p).split('\\').join('/');
          files.set(rel, {
            body: await readFile(p),
            type: TYPES[extname(p)] ?? 'application/octet-stream',
            // vite puts a content hash in every name under assets/
            immutable: rel.startsWith('/assets/'),
          });
        }
      }
    };
    try { await walk(dir); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return new StaticFiles(files);
  }

  get size(): number { return this.files.size; }

  /** Serve `path` (the index for `/` and for client-side routes); false when there is no such file. */
  serve(path: string, method: string, res: ServerResponse): boolean {
    const f = this.files.get(path) ?? (extname(path) === '' ? this.files.get('/index.html') : undefined);
    if (!f) return false;
    res.writeHead(200, {
      'Content-Type': f.type,
      'Content-Length': String(f.body.length),
      'Cache-Control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(method === 'HEAD' ? undefined : f.body);
    return true;
  }
}
