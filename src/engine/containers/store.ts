import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../host/command.js';
import { fsyncDir, writeJsonAtomic } from '../../util/atomic.js';
import { mountsUnder } from '../mountinfo.js';
import { InvalidParameterError, NotFoundError } from '../errors.js';
import { isPlainObject, parseJsonOrUndefined } from '../corrupt-file.js';
import { logFailure } from '../log-failure.js';
import type { ContainerRecord } from './types.js';

const TRASH_PREFIX = '.removed-';

/**
 * rm -rf that never reaches through a mount: anything still mounted under a removed container's
 * folder (a rootfs left mounted by a crash) is detached first, and if that fails the tree stays
 * for the next start rather than deleting through the mount.
 */
async function removeTree(dir: string): Promise<void> {
  try {
    for (const m of await mountsUnder(dir)) {
      // A failure shows in the check below, which then keeps the tree.
      await runCommand('umount', ['-l', m]).catch(() => undefined);
    }
    if ((await mountsUnder(dir)).length) return;
    await rm(dir, { recursive: true, force: true });
  } catch { /* left for the next start */ }
}

/**
 * Container records: one folder per container (containers/<id>/) holding config.v2.json,
 * written atomically, plus an in-memory index by id and by name.
 */
export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  /** Records deleted from this store (the objects themselves: a late save of one is refused). */
  private readonly removed = new WeakSet<ContainerRecord>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /**
   * Load every complete record. Folders without a record are leftovers of a crashed create: they
   * are removed here, never through a mount under them (a rootfs or volume left mounted), and
   * kept for the next start when that mount cannot be detached. Returns the leftovers' ids.
   */
  async load(): Promise<{ leftovers: string[] }> {
    const leftovers: string[] = [];
    let entries: string[] = [];
    try { entries = await readdir(this.root); } catch { return { leftovers }; }
    for (const id of entries) {
      if (id.startsWith(TRASH_PREFIX)) {
        await removeTree(join(this.root, id));
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      const file = join(this.root, id, 'config.v2.json');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          leftovers.push(id);
          await removeTree(join(this.root, id));
        } else {
          logFailure(`skipping container ${id}; its folder is kept`)(e);
        }
        continue;
      }
      // The record is written atomically, so a damaged one is not a crashed create: never delete
      // the container's files over it; skip it and keep the folder for inspection.
      const rec = parseJsonOrUndefined(text);
      if (!isPlainObject(rec) || rec['Id'] !== id || typeof rec['Name'] !== 'string') {
        logFailure(`skipping container ${id}`)(new Error(`${file} is not a valid container record; the folder is kept for inspection`));
        continue;
      }
      this.index(rec as unknown as ContainerRecord);
    }
    return { leftovers };
  }

  private index(rec: ContainerRecord): void {
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
  }

  async save(rec: ContainerRecord): Promise<void> {
    // A stop, rename or exit racing an rm must not bring the container back: the write would
    // recreate its folder (a ghost record on disk) and the index entry. It is gone: a 404.
    const gone = () => new NotFoundError(`No such container: ${rec.Id}`);
    if (this.removed.has(rec)) throw gone();
    try {
      await writeJsonAtomic(join(this.dir(rec.Id), 'config.v2.json'), rec);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && this.removed.has(rec)) throw gone();
      throw e;
    }
    if (this.removed.has(rec)) {
      await rm(this.dir(rec.Id), { recursive: true, force: true });
      throw gone();
    }
    this.index(rec);
  }

  /** Reserve a name in the index before the record is on disk (create is not atomic otherwise). */
  claimName(name: string, id: string): boolean {
    const holder = this.byName.get(name);
    if (holder && holder !== id) return false;
    this.byName.set(name, id);
    return true;
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  holderOf(name: string): string | undefined {
    return this.byName.get(name);
  }

  /**
   * Remove a container's folder: one atomic rename out of the way (so a crash never leaves a
   * half-deleted container that still has its record), then the files go in the background.
   */
  async delete(rec: ContainerRecord): Promise<void> {
    this.removed.add(rec);
    this.byId.delete(rec.Id);
    this.releaseName(rec.Name, rec.Id);
    const trash = join(this.root, `${TRASH_PREFIX}${rec.Id}`);
    try {
      await rename(this.dir(rec.Id), trash);
      await fsyncDir(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    void removeTree(trash);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref.slice(1) : ref);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const rec of this.byId.values()) {
      if (rec.Id.startsWith(ref)) {
        if (found) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
        found = rec;
      }
    }
    return found;
  }

  get(ref: string): ContainerRecord {
    if (!ref) throw new NotFoundError('No such container: ');
    const rec = this.find(ref);
    if (!rec) throw new NotFoundError(`No such container: ${ref}`);
    return rec;
  }
}
