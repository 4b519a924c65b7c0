/**
 * Berth's own volume export and import (Docker has neither: docker/cli#1436), served as
 * `GET`/`PUT /volumes/{name}/archive`. Export is a tar of the volume's content (entries relative
 * to its root, no root entry, as `docker export` writes a root); import unpacks one into the
 * volume, creating a missing volume (local driver, no options) first. The volume's folder is read
 * and written through descriptors (layers/safe-tar.ts, layers/safe-extract.ts): a container that
 * uses it cannot steer either to a host path, and an archive with `..` or absolute names, a
 * symlink to write through, a hardlink out or a device node is refused with a 400 naming the entry.
 * Import refuses a volume a running container uses (409): its files would change under it.
 * Entries replace what the volume holds at the same names; the rest of the volume stays.
 */
import { ConflictError } from '../errors.js';
import { openRoot } from '../layers/fd-path.js';
import { safeExtract, type SafeExtractResult } from '../layers/safe-extract.js';
import { contentsTar } from '../layers/safe-tar.js';
import { logFailure } from '../log-failure.js';
import type { VolumeService } from './service.js';

export class VolumeArchive {
  constructor(private readonly volumes: VolumeService, private readonly runningUsers: (name: string) => string[]) {}

  /** The tar of a volume's content; read it to the end (or return()) to release the volume. */
  async export(name: string): Promise<AsyncGenerator<Buffer>> {
    this.volumes.get(name); // 404 `get x: no such volume`
    const path = await this.volumes.mount(name);
    const volumes = this.volumes;
    let root;
    try {
      root = await openRoot(path);
    } catch (e) {
      await volumes.release(name).catch(logFailure(`releasing volume ${name}`));
      throw e;
    }
    const dir = root;
    return (async function* (): AsyncGenerator<Buffer> {
      try {
        yield* contentsTar(dir);
      } finally {
        await dir.close();
        await volumes.release(name).catch(logFailure(`releasing volume ${name}`));
      }
    })();
  }

  /** Unpack `content` into the volume `name` (made when missing). */
  async import(name: string, content: AsyncIterable<Uint8Array>): Promise<SafeExtractResult> {
    const running = this.volumes.has(name) ? this.runningUsers(name) : [];
    if (running.length) throw new ConflictError(`import ${name}: volume is in use by running container(s) - [${running.join(' ')}]`);
    if (!this.volumes.has(name)) await this.volumes.create({ Name: name });
    const path = await this.volumes.mount(name);
    try {
      const root = await openRoot(path);
      try {
        return await safeExtract(root, content, { devices: false, display: (rel) => `${name}:/${rel}` });
      } finally {
        await root.close();
      }
    } finally {
      await this.volumes.release(name).catch(logFailure(`releasing volume ${name}`));
    }
  }
}
