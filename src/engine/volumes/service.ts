/**
 * The local volume driver and the volume store (dockerd's volume/service + volume/local).
 *
 * Layout: `<data root>/volumes/<name>/_data` is the volume's content, `<name>/volume.json` its
 * record (atomic). A volume appears in one rename of a fully made temp folder (`.tmp-*`), and
 * disappears in one rename out of the way (`.trash-*`) before its files are deleted in the
 * background; startup removes leftovers of both. Deletion never follows symlinks (fs.rm lstat's)
 * and refuses a folder that has something mounted below it.
 */
import { randomBytes } from 'node:crypto';
import { hostCommand } from '../host/command.js';
import { rfc3339Seconds } from '../../util/time.js';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../errors.js';
import { boolFilter, checkFilterKeys, matchAny, matchLabels, matchPattern, NO_FILTERS, type FilterArgs } from '../filters.js';
import type { EventBus } from '../events/bus.js';
import { dirSize, parsePruneFilters, pruneMatches } from '../prune.js';
import { writeJsonAtomic, fsyncDir } from '../../util/atomic.js';
import { generateVolumeName, validateVolumeName, VOLUME_NAME } from './names.js';
import { isMountPoint, mountsUnder } from '../mountinfo.js';
import { ANONYMOUS_LABEL, type VolumeInfo, type VolumeUsage } from './types.js';

interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Who uses a volume: the IDs of the containers that reference it (any state), and the running ones. */
export interface VolumeUsers {
  all(name: string): string[];
  running(name: string): string[];
}

const LOCAL_OPTS = new Set(['type', 'device', 'o', 'size']);

export const VOLUME_LIST_FILTERS = ['name', 'driver', 'label', 'dangling'] as const;
export const VOLUME_PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

function run(cmd: string, args: string[]): Promise<string> {
  return hostCommand(cmd, args, { timeoutMs: 60_000 });
}

export class VolumeService {
  private readonly vols = new Map<string, VolumeRecord>();
  private readonly creating = new Map<string, Promise<VolumeRecord>>();
  private readonly removing = new Set<string>();
  private users: VolumeUsers = { all: () => [], running: () => [] };

  constructor(readonly root: string, private readonly events?: EventBus) {}

  /** A container's start and stop with the volume mounted: dockerd's `mount`/`unmount` volume events. */
  usedBy(action: 'mount' | 'unmount', name: string, attributes: Record<string, string>): void {
    this.events?.publish('volume', action, name, { driver: 'local', ...attributes });
  }

  /** Who references volumes (wired by the engine once the container service exists). */
  setUsers(users: VolumeUsers): void { this.users = users; }

  dir(name: string): string { return join(this.root, name); }
  mountpoint(name: string): string { return join(this.root, name, '_data'); }

  /** Load the records; remove half-made and half-deleted folders; adopt bare volume folders. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const ent of await readdir(this.root, { withFileTypes: true })) {
      const path = join(this.root, ent.name);
      if (ent.name.startsWith('.tmp-') || ent.name.startsWith('.trash-')) {
        if ((await mountsUnder(path)).length === 0) await rm(path, { recursive: true, force: true });
        continue;
      }
      if (!ent.isDirectory() || !VOLUME_NAME.test(ent.name)) continue;
      let rec: VolumeRecord;
      try {
        rec = JSON.parse(await readFile(join(path, 'volume.json'), 'utf8')) as VolumeRecord;
        if (rec.Name !== ent.name) rec.Name = ent.name;
      } catch {
        // A folder without its record (made by hand, or by an older layout): adopt it.
        const st = await stat(path);
        rec = { Name: ent.name, Driver: 'local', CreatedAt: rfc3339Seconds(st.mtimeMs), Labels: null, Options: null };
        await mkdir(join(path, '_data'), { recursive: true, mode: 0o755 });
        await writeJsonAtomic(join(path, 'volume.json'), rec);
      }
      this.vols.set(rec.Name, rec);
    }
  }

  has(name: string): boolean { return this.vols.has(name); }

  private info(rec: VolumeRecord): VolumeInfo {
    return { ...rec, Mountpoint: this.mountpoint(rec.Name) };
  }

  get(name: string): VolumeInfo {
    const rec = this.vols.get(name);
    if (!rec) throw new NotFoundError(`get ${name}: no such volume`);
    return this.info(rec);
  }

  /** POST /volumes/create; an existing volume of the same name is returned as it is (dockerd). */
  async create(req: CreateVolumeRequest, opts: { anonymous?: boolean } = {}): Promise<VolumeInfo> {
    const driver = req.Driver || 'local';
    const name = req.Name || generateVolumeName();
    if (driver !== 'local') throw new NotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    validateVolumeName(name);
    const existing = this.vols.get(name);
    if (existing && !this.removing.has(name)) return this.info(existing);
    if (this.removing.has(name)) throw new ConflictError(`create ${name}: volume is being removed`);
    const options = req.DriverOpts && Object.keys(req.DriverOpts).length ? { ...req.DriverOpts } : null;
    validateLocalOpts(name, options);
    for (const [k, v] of Object.entries(req.Labels ?? {})) {
      if (typeof v !== 'string') throw new InvalidParameterError(`invalid label ${k}: value must be a string`);
    }
    const labels = req.Labels && Object.keys(req.Labels).length ? { ...req.Labels } : null;
    const finalLabels = opts.anonymous ? { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' } : labels;
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.make({ Name: name, Driver: 'local', CreatedAt: rfc3339Seconds(Date.now()), Labels: finalLabels, Options: options });
      this.creating.set(name, pending);
      // The error reaches the callers awaiting `pending`; this chain only must not be unhandled.
      pending.finally(() => this.creating.delete(name)).catch(() => undefined);
    }
    return this.info(await pending);
  }

  private async make(rec: VolumeRecord): Promise<VolumeRecord> {
    const tmp = join(this.root, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(join(tmp, '_data'), { recursive: true, mode: 0o755 });
      await writeJsonAtomic(join(tmp, 'volume.json'), rec);
      await rename(tmp, this.dir(rec.Name));
      await fsyncDir(this.root);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw new SystemError(`create ${rec.Name}: ${(e as Error).message}`, e);
    }
    this.vols.set(rec.Name, rec);
    this.events?.publish('volume', 'create', rec.Name, { driver: 'local' });
    return rec;
  }

  /**
   * GET /volumes, sorted by name; filters as dockerd's (volume/service/convert.go): `name` equal or
   * a regular expression matching part of it, `driver` equal (values of one key are alternatives),
   * `label` all must hold, `dangling` a boolean (no container references the volume).
   */
  list(filters: FilterArgs = NO_FILTERS): VolumeInfo[] {
    checkFilterKeys(filters, VOLUME_LIST_FILTERS);
    const dangling = boolFilter(filters, 'dangling');
    const out: VolumeInfo[] = [];
    for (const rec of this.vols.values()) {
      if (this.removing.has(rec.Name)) continue;
      if (!matchAny(filters.get('name'), (v) => matchPattern(v, rec.Name))) continue;
      if (!matchAny(filters.get('driver'), (v) => v === rec.Driver)) continue;
      if (!matchLabels(filters.get('label'), rec.Labels)) continue;
      if (dangling !== undefined && (this.users.all(rec.Name).length === 0) !== dangling) continue;
      out.push(this.info(rec));
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** DELETE /volumes/{name}: 409 while a container references it; `force` ignores a missing volume. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const rec = this.vols.get(name);
    if (!rec || this.removing.has(name)) {
      if (opts.force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const users = this.users.all(name);
    if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(' ')}]`);
    this.removing.add(name);
    try {
      const dir = this.dir(name);
      // A failed umount is caught by the check below, which refuses the removal.
      if (rec.Options && (await mountsUnder(this.mountpoint(name))).length) await run('umount', [this.mountpoint(name)]).catch(() => undefined);
      const below = await mountsUnder(dir);
      if (below.length) throw new SystemError(`remove ${name}: ${below[0]} is still mounted`);
      const trash = join(this.root, `.trash-${randomBytes(8).toString('hex')}`);
      await rename(dir, trash);
      await fsyncDir(this.root).catch(() => undefined); // durability only: the rename is done either way
      this.vols.delete(name);
      // rm never follows symlinks: a link to / inside the volume is removed, not its target.
      void rm(trash, { recursive: true, force: true }).catch(() => undefined);
    } finally {
      this.removing.delete(name);
    }
    this.events?.publish('volume', 'destroy', name, { driver: 'local' });
  }

  /**
   * POST /volumes/prune: unused volumes matching label/label!; from API 1.42 only anonymous ones
   * unless the filter `all=true` is given (dockerd).
   */
  async prune(filters: FilterArgs, apiAtLeast142: boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const f = parsePruneFilters(filters, VOLUME_PRUNE_FILTERS);
    if ((filters.get('all')?.length ?? 0) > 1) throw new InvalidParameterError(`invalid filter 'all=${filters.get('all')!.join(',')}': only one value is expected`);
    const all = !apiAtLeast142 || boolFilter(filters, 'all') === true;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of [...this.vols.values()]) {
      if (this.users.all(rec.Name).length) continue;
      if (!all && !(rec.Labels && ANONYMOUS_LABEL in rec.Labels)) continue;
      if (!pruneMatches(f, 0, rec.Labels)) continue; // volumes have no until: creation time plays no part
      const size = await dirSize(this.mountpoint(rec.Name));
      try {
        await this.remove(rec.Name);
      } catch {
        continue; // in use or gone meanwhile
      }
      deleted.push(rec.Name);
      reclaimed += size;
    }
    this.events?.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** GET /system/df rows: every volume with its size and how many containers reference it, sorted by name. */
  async usage(): Promise<VolumeUsage[]> {
    const out: VolumeUsage[] = [];
    for (const rec of this.vols.values()) {
      out.push({ volume: this.info(rec), size: await dirSize(this.mountpoint(rec.Name)), refCount: this.users.all(rec.Name).length });
    }
    return out.sort((a, b) => a.volume.Name.localeCompare(b.volume.Name));
  }

  /**
   * A container using the volume starts: a volume with `type`/`device` options is mounted on its
   * _data then (the local driver's mount on first use), unless it already is.
   */
  async mount(name: string): Promise<string> {
    const rec = this.vols.get(name);
    if (!rec) throw new NotFoundError(`get ${name}: no such volume`);
    const target = this.mountpoint(name);
    const o = rec.Options;
    if (o && (o.type || o.device) && !(await isMountPoint(target))) {
      if (!existsSync(target)) await mkdir(target, { recursive: true, mode: 0o755 });
      const args = ['-t', o.type || 'none'];
      if (o.o) args.push('-o', o.o);
      args.push('--', o.device || o.type || 'none', target);
      await run('mount', args).catch((e: Error) => {
        throw new SystemError(`error while mounting volume '${target}': ${e.message}`, e);
      });
    }
    return target;
  }

  /** The last running user of a mounted (optioned) volume stopped: unmount it (its data stays elsewhere). */
  async release(name: string): Promise<void> {
    const rec = this.vols.get(name);
    if (!rec?.Options || !(rec.Options.type || rec.Options.device)) return;
    if (this.users.running(name).length) return;
    const target = this.mountpoint(name);
    // Still busy (a process outside a container holds it): it stays mounted until the next release or removal.
    if (await isMountPoint(target)) await run('umount', [target]).catch(() => undefined);
  }
}

/** The local driver's options: type, device, o (and size, which needs quota support). */
function validateLocalOpts(name: string, opts: Record<string, string> | null): void {
  if (!opts) return;
  for (const [k, v] of Object.entries(opts)) {
    if (!LOCAL_OPTS.has(k)) throw new InvalidParameterError(`create ${name}: invalid option: "${k}"`);
    if (typeof v !== 'string') throw new InvalidParameterError(`create ${name}: invalid option: "${k}"`);
    if (/[\0\n]/.test(v)) throw new InvalidParameterError(`create ${name}: invalid option: "${k}"`);
  }
  if (opts.size !== undefined) {
    throw new InvalidParameterError(`create ${name}: quota size requested but no quota support`);
  }
  if ((opts.type || opts.o) && !opts.device && opts.type !== 'tmpfs') {
    throw new InvalidParameterError(`create ${name}: missing required option: "device"`);
  }
  if (opts.device && !opts.type) throw new InvalidParameterError(`create ${name}: missing required option: "type"`);
}
