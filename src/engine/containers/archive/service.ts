/**
 * Files in and out of a container (dockerd's daemon/archive.go, read for facts): `HEAD`/`GET`/`PUT
 * /containers/{id}/archive` (docker cp), `GET /containers/{id}/export` and `/changes`.
 *
 * A running container's root is its mounted overlay (`<dir>/rootfs`); a stopped one's is mounted
 * there for the operation, its next start held until we are done (ContainerService.leaseFiles);
 * a scratch container without layers is its upper dir. Volumes and bind mounts are resolved
 * through (resolve.ts); every path inside is resolved in the container's root, through
 * descriptors, never by the host's own lookup.
 */
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { InvalidParameterError, NotFoundError } from '../../errors.js';
import { hostCommand } from '../../host/command.js';
import { readEtcFile } from '../../host/in-root.js';
import { logFailure } from '../../log-failure.js';
import { openDirAt, openRoot } from '../../layers/fd-path.js';
import { safeExtract } from '../../layers/safe-extract.js';
import { contentsTar, entryTar } from '../../layers/safe-tar.js';
import { resolveUser } from '../../runtime/spec.js';
import { mountOverlay } from '../../volumes/mounts.js';
import { pathStat, type ContainerPathStat } from '../../../wire/path-stat.js';
import type { EventBus } from '../../events/bus.js';
import type { ContainerService } from '../service.js';
import { containerEventAttributes, type ContainerRecord } from '../types.js';
import { containerChanges, type Change } from './changes.js';
import { resolveInContainer, splitPath, type ContainerFs, type FsMount, type Resolved } from './resolve.js';

export interface ExtractRequest {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

/** An archive being streamed: read `body` to the end (or call its return()) to release the container. */
export interface PathArchive {
  stat: ContainerPathStat;
  body: AsyncGenerator<Buffer>;
}

interface OpenFs { rec: ContainerRecord; fs: ContainerFs; done(): Promise<void> }

/** The mounts cp resolves through: volumes and binds (not tmpfs, as dockerd), then the runtime's /etc files. */
function fsMounts(rec: ContainerRecord, dir: string): FsMount[] {
  const out: FsMount[] = [];
  for (const m of rec.MountPoints ?? []) {
    if (m.Type === 'tmpfs' || !m.Source) continue;
    out.push({ dest: splitPath(m.Destination), source: m.Source, rw: m.RW, user: true });
  }
  for (const f of ['hostname', 'hosts', 'resolv.conf']) {
    const dest = ['etc', f];
    if (!out.some((m) => m.dest.join('/') === dest.join('/'))) out.push({ dest, source: join(dir, f), rw: true, user: false });
  }
  return out;
}

/** Go's filepath.Base of the absolute path dockerd builds (PreserveTrailingDotOrSeparator). */
function baseName(path: string): string {
  const comps = path.split('/').filter((c) => c !== '');
  if (path.endsWith('/.') || path === '.') return '.';
  // filepath.Clean drops '.' components and folds '..' lexically
  const clean: string[] = [];
  for (const c of comps) {
    if (c === '.') continue;
    if (c === '..') { clean.pop(); continue; }
    clean.push(c);
  }
  return clean.length ? clean[clean.length - 1]! : '/';
}

/** A final trailing `/` or `/.` makes dockerd's lstat follow a last symlink. */
function followsLast(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.') || path === '.';
}

export class ContainerArchive {
  constructor(private readonly containers: ContainerService, private readonly events: EventBus) {}

  private async open(ref: string): Promise<OpenFs> {
    const lease = await this.containers.leaseFiles(ref);
    const { rec, dir } = lease;
    const rootfs = join(dir, 'rootfs');
    let unmount = false;
    let root = rootfs;
    try {
      if (!lease.running) {
        if (rec.LowerDirs.length === 0) root = join(dir, 'upper');
        else {
          await mountOverlay(rec.LowerDirs, join(dir, 'upper'), join(dir, 'work'), rootfs);
          unmount = true;
        }
      }
    } catch (e) {
      lease.release();
      throw this.mapError(e, ref, '/');
    }
    let finished = false;
    return {
      rec,
      fs: { root, mounts: fsMounts(rec, dir) },
      done: async () => {
        if (finished) return;
        finished = true;
        try {
          if (unmount) {
            await hostCommand('umount', [rootfs], { label: 'umount' })
              .catch(() => hostCommand('umount', ['-l', rootfs], { label: 'umount -l' }))
              .catch(logFailure(`unmounting ${rootfs} after an archive operation`));
          }
        } finally {
          lease.release();
        }
      },
    };
  }

  /**
   * What the file system said, in dockerd's terms where the cause is the request or a container
   * that went away meanwhile (removed under the operation), not the daemon.
   */
  private mapError(e: unknown, ref: string, path: string): unknown {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENAMETOOLONG') return new InvalidParameterError(`${path}: file name too long`);
    if (code === 'ELOOP') return new InvalidParameterError(`${path}: too many levels of symbolic links`);
    if (!(e instanceof NotFoundError) && this.containers.removedOrRemoving(ref)) return new NotFoundError(`No such container: ${ref}`);
    return e;
  }


  private checkPath(path: string): void {
    if (path.includes('\0')) throw new InvalidParameterError(`invalid path ${JSON.stringify(path)}: it contains a NUL byte`);
  }

  private notFound(path: string, ref: string): NotFoundError {
    return new NotFoundError(`Could not find the file ${path} in container ${ref}`);
  }

  /** Resolve like dockerd's ResolvePath + StatPath: the parent followed, the last component as `path` says. */
  private async statIn(o: OpenFs, ref: string, path: string): Promise<{ r: Resolved; stat: ContainerPathStat }> {
    const r = await resolveInContainer(o.fs, path, followsLast(path));
    if (!r.st) {
      await r.close();
      throw this.notFound(path, ref);
    }
    let linkTarget = '';
    if (r.st.isSymbolicLink()) {
      const t = await resolveInContainer(o.fs, path, true);
      linkTarget = '/' + t.path.join('/');
      await t.close();
    }
    return { r, stat: pathStat(baseName(path), r.st, linkTarget) };
  }

  /** HEAD /containers/{id}/archive */
  async stat(ref: string, path: string): Promise<ContainerPathStat> {
    this.checkPath(path);
    const o = await this.open(ref);
    try {
      const { r, stat } = await this.statIn(o, ref, path);
      await r.close();
      return stat;
    } catch (e) {
      throw this.mapError(e, ref, path);
    } finally {
      await o.done();
    }
  }

  /** GET /containers/{id}/archive: the stat and the tar, entries named from the path's base name. */
  async get(ref: string, path: string): Promise<PathArchive> {
    this.checkPath(path);
    const o = await this.open(ref);
    let r: Resolved | undefined;
    try {
      const s = await this.statIn(o, ref, path);
      r = s.r;
      const resolved = r;
      const events = this.events;
      const body = (async function* (): AsyncGenerator<Buffer> {
        try {
          yield* entryTar(resolved.parent, resolved.name, s.stat.name, resolved.st!);
        } finally {
          await resolved.close();
          await o.done();
        }
      })();
      events.publish('container', 'archive-path', o.rec.Id, containerEventAttributes(o.rec));
      return { stat: s.stat, body };
    } catch (e) {
      await r?.close();
      await o.done();
      throw this.mapError(e, ref, path);
    }
  }

  /** PUT /containers/{id}/archive: extract `content` into the directory `path`. */
  async put(ref: string, path: string, req: ExtractRequest, content: AsyncIterable<Uint8Array>): Promise<void> {
    this.checkPath(path);
    const o = await this.open(ref);
    try {
      const r = await resolveInContainer(o.fs, path, true);
      let dir: FileHandle | undefined;
      try {
        if (!r.st) throw this.notFound(path, ref);
        if (!r.st.isDirectory()) throw new InvalidParameterError('extraction point is not a directory');
        if (r.mount && !r.mount.rw) throw new InvalidParameterError('mounted volume is marked read-only');
        if (!r.mount && o.rec.HostConfig.ReadonlyRootfs) throw new InvalidParameterError('container rootfs is marked read-only');
        let owner: { uid: number; gid: number } | undefined;
        if (req.copyUIDGID && o.rec.Config.User) {
          const u = resolveUser(o.rec.Config.User, await readEtcFile(o.fs.root, 'passwd'), await readEtcFile(o.fs.root, 'group'));
          owner = { uid: u.uid, gid: u.gid };
        }
        dir = await openDirAt(r.parent, r.name);
        const at = '/' + r.path.join('/');
        await safeExtract(dir, content, {
          noOverwriteDirNonDir: req.noOverwriteDirNonDir,
          owner,
          devices: true,
          display: (rel) => (at === '/' ? '/' : at + '/') + rel,
        });
      } finally {
        await dir?.close();
        await r.close();
      }
      this.events.publish('container', 'extract-to-dir', o.rec.Id, containerEventAttributes(o.rec));
    } catch (e) {
      throw this.mapError(e, ref, path);
    } finally {
      await o.done();
    }
  }

  /** GET /containers/{id}/export: the container's root filesystem (no volumes), as docker export. */
  async export(ref: string): Promise<AsyncGenerator<Buffer>> {
    const o = await this.open(ref);
    let root: FileHandle;
    try {
      root = await openRoot(o.fs.root);
    } catch (e) {
      await o.done();
      throw this.mapError(e, ref, '/'); // removed meanwhile: a 404, not the ENOENT of its folder (a fuzzed 500)
    }
    this.events.publish('container', 'export', o.rec.Id, containerEventAttributes(o.rec));
    return (async function* (): AsyncGenerator<Buffer> {
      try {
        yield* contentsTar(root);
      } finally {
        await root.close();
        await o.done();
      }
    })();
  }

  /** GET /containers/{id}/changes */
  async changes(ref: string): Promise<Change[]> {
    const rec = this.containers.get(ref);
    return containerChanges(join(this.containers.dir(rec.Id), 'upper'), rec.LowerDirs);
  }
}
