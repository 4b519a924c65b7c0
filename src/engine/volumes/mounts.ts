/**
 * A container's mounts, from its create request to its removal (dockerd's registerMountPoints,
 * createContainerOSSpecificSettings, populateVolumes, setupMounts, removeMountPoints):
 *  - create: `--volumes-from`, Binds, Mounts, Tmpfs, then Config.Volumes (the image's VOLUMEs
 *    included) as anonymous volumes; named volumes are created when missing; an empty volume is
 *    filled with the image's content at its destination (copy-up, owners and modes kept).
 *  - start: missing `-v` host paths are created; volumes with driver options are mounted.
 *  - spec: binds (rbind, ro, propagation rprivate) and tmpfs mounts, parents before children;
 *    a user mount replaces a default one at the same destination (/dev/shm, /etc/hosts…).
 *  - remove: with `rm -v` or `--rm`, the container's anonymous volumes go too.
 */
import { hostCommand } from '../host/command.js';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { InvalidParameterError, SystemError } from '../errors.js';
import type { ContainerRecord } from '../containers/types.js';
import { resolveInRoot, type SpecMount } from '../runtime/spec.js';
import {
  DEFAULT_PROPAGATION, mergeTmpfsOptions, mountPointFromSpec, parseBind, parseTmpfsEntry, parseVolumesFrom,
  validateMountSpec, type MountSpec,
} from './parse.js';
import { validateVolumeName } from './names.js';
import { logFailure } from '../log-failure.js';
import type { VolumeService } from './service.js';
import type { MountPoint } from './types.js';

export interface MountRequest {
  Binds?: unknown;
  Mounts?: unknown;
  Tmpfs?: unknown;
  VolumesFrom?: unknown;
  /** Config.Volumes (the user's and the image's). */
  Volumes?: Record<string, unknown> | null;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The mount points of a create request, validated, without touching volumes (pure but for the
 * bind-source existence check of --mount and the --volumes-from lookup).
 */
export function planMounts(req: MountRequest, deps: { exists(path: string): boolean; mountsOf(ref: string): MountPoint[] }): MountPoint[] {
  const byDest = new Map<string, MountPoint>();
  const dup = (d: string) => new InvalidParameterError(`Duplicate mount point: ${d}`);

  // --volumes-from: the other container's mounts, its mode or the one given
  if (req.VolumesFrom !== undefined && req.VolumesFrom !== null) {
    if (!isStringList(req.VolumesFrom)) throw new InvalidParameterError('invalid JSON: field VolumesFrom must be a list of strings');
    for (const spec of req.VolumesFrom) {
      const [ref, mode] = parseVolumesFrom(spec);
      for (const m of deps.mountsOf(ref)) {
        if (m.Type === 'tmpfs') continue;
        const rw = mode === '' ? m.RW : !mode.split(',').includes('ro');
        byDest.set(m.Destination, { ...m, RW: rw, Mode: mode || m.Mode, Anonymous: false, CopyData: false, CreateSource: false });
      }
    }
  }

  // -v (Binds): override --volumes-from at the same destination
  const fromBinds = new Set<string>();
  if (req.Binds !== undefined && req.Binds !== null) {
    if (!isStringList(req.Binds)) throw new InvalidParameterError('invalid JSON: field Binds must be a list of strings');
    for (const raw of req.Binds) {
      const mp = parseBind(raw);
      if (fromBinds.has(mp.Destination)) throw dup(mp.Destination);
      fromBinds.add(mp.Destination);
      byDest.set(mp.Destination, mp);
    }
  }

  // --mount (Mounts)
  if (req.Mounts !== undefined && req.Mounts !== null) {
    if (!Array.isArray(req.Mounts) || req.Mounts.some((m) => !m || typeof m !== 'object')) {
      throw new InvalidParameterError('invalid JSON: field Mounts must be a list of objects');
    }
    for (const m of req.Mounts as MountSpec[]) {
      validateMountSpec(m, deps.exists);
      const mp = mountPointFromSpec(m);
      if (fromBinds.has(mp.Destination)) throw dup(mp.Destination);
      fromBinds.add(mp.Destination);
      byDest.set(mp.Destination, mp);
    }
  }

  // --tmpfs (Tmpfs)
  if (req.Tmpfs !== undefined && req.Tmpfs !== null) {
    if (typeof req.Tmpfs !== 'object' || Array.isArray(req.Tmpfs)) throw new InvalidParameterError('invalid JSON: field Tmpfs must be an object');
    for (const [dest, data] of Object.entries(req.Tmpfs as Record<string, unknown>)) {
      const mp = parseTmpfsEntry(dest, data as string);
      if (fromBinds.has(mp.Destination)) throw dup(mp.Destination);
      fromBinds.add(mp.Destination);
      byDest.set(mp.Destination, mp);
    }
  }

  // Config.Volumes: anonymous volumes where nothing else is mounted
  for (const raw of Object.keys(req.Volumes ?? {})) {
    if (!posix.isAbsolute(raw)) {
      throw new InvalidParameterError(`invalid volume specification: '${raw}': invalid mount config for type "volume": invalid mount path: '${raw}' mount path must be absolute`);
    }
    const dest = posix.normalize(raw).replace(/(.)\/+$/, '$1');
    if (dest === '/') throw new InvalidParameterError(`invalid volume specification: '${raw}': invalid mount config for type "volume": invalid specification: destination can't be '/'`);
    if (byDest.has(dest)) continue;
    byDest.set(dest, { ...mountPointFromSpec({ Type: 'volume', Target: dest }), Mode: '' });
  }
  return [...byDest.values()];
}

/** Whether an empty volume is filled from the image: volumes only, not `nocopy`, a directory there. */
export function shouldCopyUp(mp: MountPoint, state: { volumeEmpty: boolean; imageHasDir: boolean }): boolean {
  return mp.Type === 'volume' && mp.CopyData !== false && state.volumeEmpty && state.imageHasDir;
}

/** OCI mounts for the user's mount points, parents before children (dockerd's sortMounts). */
export function userSpecMounts(mps: MountPoint[]): SpecMount[] {
  const depth = (d: string) => d.split('/').filter(Boolean).length;
  const sorted = [...mps].sort((a, b) => depth(a.Destination) - depth(b.Destination));
  return sorted.map((m) => {
    if (m.Type === 'tmpfs') {
      const opts = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION, ...(m.TmpfsData ?? '').split(',')]);
      return { destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: opts };
    }
    const opts = [m.NonRecursive ? 'bind' : 'rbind', m.Propagation || DEFAULT_PROPAGATION];
    if (!m.RW) opts.push('ro');
    return { destination: m.Destination, type: 'bind', source: m.Source, options: opts };
  });
}

/** Put the user's mounts into a generated spec: same-destination defaults are dropped first. */
export function applyUserMounts(spec: Record<string, unknown>, mps: MountPoint[] | undefined): void {
  if (!mps?.length) return;
  const dests = new Set(mps.map((m) => m.Destination));
  const mounts = (spec.mounts as SpecMount[] | undefined) ?? [];
  spec.mounts = [...mounts.filter((m) => !dests.has(m.destination)), ...userSpecMounts(mps)];
}

function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  return hostCommand(cmd, args, { cwd, timeoutMs: 300_000, label: cmd });
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try { return (await readdir(dir)).length === 0; } catch { return false; }
}

/** The container hooks the container service calls (wired by the engine). */
export class ContainerMounts {
  /** Volumes referenced by containers still being created (not yet in the store). */
  private readonly pending = new Map<string, Set<string>>();

  constructor(private readonly volumes: VolumeService, private readonly containers: {
    get(ref: string): ContainerRecord;
    list(): ContainerRecord[];
    isRunning(rec: ContainerRecord): boolean;
  }) {
    volumes.setUsers({
      all: (name) => [
        ...this.containers.list().filter((c) => usesVolume(c, name)).map((c) => c.Id),
        ...(this.pending.get(name) ?? []),
      ],
      running: (name) => this.containers.list().filter((c) => this.containers.isRunning(c) && usesVolume(c, name)).map((c) => c.Id),
    });
  }

  /** At create: plan, create the volumes, copy the image's content into empty ones. Sets rec.MountPoints. */
  async create(rec: ContainerRecord, dir: string, req: MountRequest): Promise<void> {
    const mps = planMounts(req, {
      exists: (p) => existsSync(p),
      mountsOf: (ref) => this.containers.get(ref).MountPoints ?? [],
    });
    if (!mps.length) return;
    for (const m of mps) if (m.Type === 'volume' && m.Name) validateVolumeName(m.Name);
    const made: string[] = [];
    const refs: string[] = [];
    try {
      for (const m of mps) {
        if (m.Type !== 'volume') continue;
        if (m.Anonymous && !m.Name) {
          const v = await this.volumes.create({}, { anonymous: true });
          m.Name = v.Name;
          made.push(v.Name);
        } else if (!this.volumes.has(m.Name!)) {
          await this.volumes.create({ Name: m.Name });
        }
        m.Source = this.volumes.mountpoint(m.Name!);
        m.Driver = 'local';
        const set = this.pending.get(m.Name!) ?? new Set<string>();
        set.add(rec.Id);
        this.pending.set(m.Name!, set);
        refs.push(m.Name!);
      }
      rec.MountPoints = mps;
      await this.copyUp(rec, dir, mps);
    } catch (e) {
      this.unpend(rec.Id, refs);
      // Undo: the create's own error is the one to report; a volume that will not go is logged.
      for (const name of made) await this.volumes.remove(name).catch(logFailure(`removing volume ${name} after a failed create`));
      rec.MountPoints = undefined;
      throw e;
    }
  }

  /** The container's record is saved (or its creation failed): it holds its references itself now. */
  created(rec: ContainerRecord): void {
    this.unpend(rec.Id, (rec.MountPoints ?? []).filter((m) => m.Name).map((m) => m.Name!));
  }

  private unpend(id: string, names: string[]): void {
    for (const n of names) {
      const set = this.pending.get(n);
      set?.delete(id);
      if (set && set.size === 0) this.pending.delete(n);
    }
  }

  /** docker's populateVolumes: the image's files at the destination, into each empty volume. */
  private async copyUp(rec: ContainerRecord, dir: string, mps: MountPoint[]): Promise<void> {
    const wanted: MountPoint[] = [];
    for (const m of mps) {
      if (m.Type === 'volume' && m.CopyData !== false && await isEmptyDir(m.Source)) wanted.push(m);
    }
    if (!wanted.length || !rec.LowerDirs.length) return;
    // The image as the container will see it (whiteouts, opaque dirs, symlinks): mount it.
    const target = join(dir, 'rootfs');
    await mountOverlay(rec.LowerDirs, join(dir, 'upper'), join(dir, 'work'), target);
    try {
      for (const m of wanted) {
        const src = await resolveInRoot(target, m.Destination);
        const st = await lstat(src).catch(() => undefined);
        if (m.Anonymous && st && !st.isDirectory()) {
          throw new InvalidParameterError(`cannot mount volume over existing file, file exists ${src}`);
        }
        if (!shouldCopyUp(m, { volumeEmpty: await isEmptyDir(m.Source), imageHasDir: !!st?.isDirectory() })) continue;
        // cp -a: owners, modes, times, links, xattrs; never follows symlinks; the folder's own
        // owner and mode go to the volume's root too.
        await sh('cp', ['-a', '--preserve=all', '--', `${src}/.`, `${m.Source}/`]);
      }
    } finally {
      await sh('umount', [target]).catch(() => sh('umount', ['-l', target]).catch(logFailure(`unmounting the copy-up view ${target}`)));
    }
  }

  /** Before start: missing -v host paths become folders; optioned volumes are mounted. */
  async beforeStart(rec: ContainerRecord): Promise<void> {
    for (const m of rec.MountPoints ?? []) {
      if (m.Type === 'bind' && m.CreateSource && !existsSync(m.Source)) {
        await mkdir(m.Source, { recursive: true, mode: 0o755 });
      } else if (m.Type === 'volume' && m.Name) {
        if (!this.volumes.has(m.Name)) throw new SystemError(`error while mounting volume '${m.Source}': get ${m.Name}: no such volume`);
        await this.volumes.mount(m.Name);
        this.volumes.usedBy('mount', m.Name, { container: rec.Id, destination: m.Destination, 'read/write': String(m.RW), propagation: m.Propagation });
      }
    }
  }

  /** After the container stopped: optioned volumes nobody running uses are unmounted. */
  async afterStop(rec: ContainerRecord): Promise<void> {
    for (const m of rec.MountPoints ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      await this.volumes.release(m.Name).catch(logFailure(`releasing volume ${m.Name}`));
      this.volumes.usedBy('unmount', m.Name, { container: rec.Id });
    }
  }

  /** After removal: with `rm -v` / `--rm` the anonymous volumes go too (skipped while another container uses one). */
  async removed(rec: ContainerRecord, removeVolumes: boolean): Promise<void> {
    this.unpend(rec.Id, (rec.MountPoints ?? []).filter((m) => m.Name).map((m) => m.Name!));
    if (!removeVolumes) return;
    for (const m of rec.MountPoints ?? []) {
      // Another container may use it now (rm -v skips it then, as dockerd); the container's removal goes on.
      if (m.Type === 'volume' && m.Anonymous && m.Name) await this.volumes.remove(m.Name).catch(logFailure(`removing anonymous volume ${m.Name}`));
    }
  }
}

export function usesVolume(c: ContainerRecord, name: string): boolean {
  return !!c.MountPoints?.some((m) => m.Type === 'volume' && m.Name === name);
}

/** Mount an overlay (lowerdir list possibly past a page: relative to a common parent, as the shim). */
export async function mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await mkdir(work, { recursive: true });
  const abs = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`;
  if (abs.length < 3900) {
    await sh('mount', ['-t', 'overlay', '-o', abs, 'overlay', target]);
    return;
  }
  const all = [...lower, upper, work];
  let common = dirname(all[0]!);
  while (!all.every((p) => p.startsWith(common + '/')) && common !== '/') common = dirname(common);
  const rel = (p: string) => relative(common, p);
  await sh('mount', ['-t', 'overlay', '-o', `lowerdir=${lower.map(rel).join(':')},upperdir=${rel(upper)},workdir=${rel(work)}`, 'overlay', target], common);
}
