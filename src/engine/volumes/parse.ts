/**
 * Mount specifications as dockerd reads them (moby volume/mounts/linux_parser.go): `-v` strings
 * (HostConfig.Binds, Config.Volumes), `--mount` objects (HostConfig.Mounts) and `--tmpfs`
 * (HostConfig.Tmpfs), with Docker's validation and error messages. Pure: no disk access except
 * the one existence check a `--mount type=bind` source gets (through `exists`).
 */
import { posix } from 'node:path';
import { InvalidParameterError } from '../errors.js';
import type { MountPoint, MountType } from './types.js';

/** HostConfig.Mounts[i] as the API sends it. */
export interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated', 'default']);

export const DEFAULT_PROPAGATION = 'rprivate';

/** linuxValidMountMode: comma-separated, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts[0]++;
    else if (LABEL_MODES.has(o)) counts[1]++;
    else if (PROPAGATION_MODES.has(o)) counts[2]++;
    else if (COPY_MODES.has(o)) counts[3]++;
    else if (CONSISTENCY_MODES.has(o)) counts[4]++;
    else return false;
  }
  return counts.every((c) => c <= 1);
}

const modeHas = (mode: string, set: Set<string>) => mode.split(',').find((o) => set.has(o));

function errInvalidSpec(raw: string): InvalidParameterError {
  return new InvalidParameterError(`invalid volume specification: '${raw}'`);
}

class MountConfigError extends InvalidParameterError {
  constructor(type: string, msg: string) { super(`invalid mount config for type "${type}": ${msg}`); }
}

function validateAbsolute(p: string): string | undefined {
  return posix.isAbsolute(p.replace(/\\/g, '/')) ? undefined : `invalid mount path: '${p}' mount path must be absolute`;
}

/**
 * Check a mount spec as dockerd's validateMountConfig does. `exists` is asked about a bind
 * source only when given (HostConfig.Mounts; `-v` creates missing host paths instead).
 */
export function validateMountSpec(m: MountSpec, exists?: (path: string) => boolean): void {
  const type = m.Type ?? '';
  const fail = (msg: string) => { throw new MountConfigError(type, msg); };
  if (!m.Target) fail('field Target must not be empty');
  if (posix.normalize(m.Target!.replace(/\\/g, '/')).replace(/\/+$/, '') === '') fail("invalid specification: destination can't be '/'");
  const abs = validateAbsolute(m.Target!);
  if (abs) fail(abs);
  switch (type) {
    case 'bind': {
      if (!m.Source) fail('field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION_MODES.has(prop)) fail(`invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) fail('field VolumeOptions must not be specified');
      if (m.TmpfsOptions) fail('field TmpfsOptions must not be specified');
      const a = validateAbsolute(m.Source!);
      if (a) fail(a);
      if (exists && !exists(m.Source!)) fail(`bind source path does not exist: ${m.Source}`);
      break;
    }
    case 'volume': {
      if (m.BindOptions) fail('field BindOptions must not be specified');
      if (m.TmpfsOptions) fail('field TmpfsOptions must not be specified');
      if (m.VolumeOptions?.Subpath) fail('volume subpaths are not supported');
      if (m.ReadOnly && !m.Source) fail('must not set ReadOnly mode when using anonymous volumes');
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== 'local') {
        throw new InvalidParameterError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      }
      break;
    }
    case 'tmpfs':
      if (m.BindOptions) fail('field BindOptions must not be specified');
      if (m.VolumeOptions) fail('field VolumeOptions must not be specified');
      if (m.Source) fail('field Source must not be specified');
      tmpfsData(m.TmpfsOptions, !!m.ReadOnly);
      break;
    default:
      fail('mount type unknown');
  }
}

/** ConvertTmpfsOptions: `ro`, `mode=<octal>`, `size=<n>[kmg]` with the largest exact suffix. */
export function tmpfsData(opt: MountSpec['TmpfsOptions'], readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (opt?.Mode) {
    if (!Number.isInteger(opt.Mode) || opt.Mode < 0) throw new MountConfigError('tmpfs', `invalid tmpfs mode: ${opt.Mode}`);
    out.push(`mode=${opt.Mode.toString(8)}`);
  }
  if (opt?.SizeBytes) {
    let size = opt.SizeBytes;
    if (!Number.isInteger(size) || size < 0) throw new MountConfigError('tmpfs', `invalid tmpfs size: ${size}`);
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) { size /= d; suffix = s; break; }
    }
    out.push(`size=${size}${suffix}`);
  }
  return out.join(',');
}

/** A validated spec → the container's mount point (parseMountSpec). Volume names are checked by the caller. */
export function mountPointFromSpec(m: MountSpec, mode = ''): MountPoint {
  const type = m.Type as MountType;
  const mp: MountPoint = {
    Type: type,
    Source: '',
    Destination: posix.normalize(m.Target!.replace(/\\/g, '/')).replace(/(.)\/+$/, '$1'),
    Mode: mode,
    RW: !m.ReadOnly,
    Propagation: '',
  };
  if (type === 'volume') {
    mp.Name = m.Source || '';
    mp.Anonymous = !m.Source;
    mp.Driver = 'local';
    mp.CopyData = !m.VolumeOptions?.NoCopy;
  } else if (type === 'bind') {
    mp.Source = posix.normalize(m.Source!).replace(/(.)\/+$/, '$1');
    mp.Propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
    if (m.BindOptions?.NonRecursive) mp.NonRecursive = true;
  } else {
    mp.TmpfsData = tmpfsData(m.TmpfsOptions, !!m.ReadOnly);
  }
  return mp;
}

/**
 * `-v` / Binds: `name:/p[:mode]`, `/host:/p[:mode]`, `/p` (ParseMountRaw). A bind's missing
 * host path is created at start; a named volume is created when missing.
 */
export function parseBind(raw: string): MountPoint {
  const arr = raw.split(':');
  if (arr.length > 3) {
    // SplitN(raw, ":", 4): a fourth part is an error anyway
    throw errInvalidSpec(raw);
  }
  if (arr[0] === '') throw errInvalidSpec(raw);
  const spec: MountSpec = {};
  let mode = '';
  if (arr.length === 1) {
    spec.Target = arr[0];
  } else if (arr.length === 2) {
    // "/foo:rw" is a destination and a mode, which a volume cannot have
    if (validMountMode(arr[1]!)) throw errInvalidSpec(raw);
    spec.Source = arr[0];
    spec.Target = arr[1];
  } else {
    spec.Source = arr[0];
    spec.Target = arr[1];
    mode = arr[2]!;
  }
  if (!validMountMode(mode)) throw new InvalidParameterError(`invalid mode: ${mode}`);
  spec.Type = spec.Source && posix.isAbsolute(spec.Source) ? 'bind' : 'volume';
  spec.ReadOnly = modeHas(mode, RW_MODES) === 'ro';
  if (modeHas(mode, COPY_MODES)) spec.VolumeOptions = { NoCopy: true };
  const prop = modeHas(mode, PROPAGATION_MODES);
  if (prop) spec.BindOptions = { Propagation: prop };
  try {
    // A propagation mode on a volume is accepted by the -v syntax and ignored.
    if (spec.Type === 'volume') {
      validateMountSpec({ ...spec, BindOptions: undefined });
    } else validateMountSpec(spec);
  } catch (e) {
    throw new InvalidParameterError(`${errInvalidSpec(raw).message}: ${(e as Error).message}`);
  }
  const mp = mountPointFromSpec({ ...spec, BindOptions: spec.Type === 'bind' ? spec.BindOptions : undefined }, mode);
  if (mp.Type === 'bind') mp.CreateSource = true;
  // dockerd: a named volume given with -v and no mode shows Mode "z" (setBindModeIfNull)
  if (mp.Type === 'volume' && !mp.Anonymous && mode === '') mp.Mode = 'z';
  return mp;
}

/** `--tmpfs /run:size=64m` (HostConfig.Tmpfs): destination checked as dockerd does. */
export function parseTmpfsEntry(dest: string, data: string): MountPoint {
  const d = dest.replace(/\\/g, '/');
  if (posix.normalize(d).replace(/\/+$/, '') === '') throw new InvalidParameterError("invalid specification: destination can't be '/'");
  const abs = validateAbsolute(d);
  if (abs) throw new InvalidParameterError(abs);
  if (typeof data !== 'string') throw new InvalidParameterError(`invalid tmpfs options for ${dest}`);
  return { Type: 'tmpfs', Source: '', Destination: posix.normalize(d).replace(/(.)\/+$/, '$1'), Mode: '', RW: true, Propagation: '', TmpfsData: data, FromTmpfsFlag: true };
}

/**
 * mount.MergeTmpfsOptions: Docker's defaults first, then the user's; for flag pairs
 * (exec/noexec, suid/nosuid, dev/nodev, ro/rw…) and key=value options the last one wins.
 */
export function mergeTmpfsOptions(options: string[]): string[] {
  const pairs: Record<string, string> = {
    exec: 'x', noexec: 'x', suid: 's', nosuid: 's', dev: 'd', nodev: 'd', ro: 'r', rw: 'r',
    atime: 'a', noatime: 'a', diratime: 'da', nodiratime: 'da', relatime: 'ra', norelatime: 'ra',
    strictatime: 'sa', nostrictatime: 'sa',
  };
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!.trim();
    if (!o) continue;
    const key = pairs[o] ?? (o.includes('=') ? `kv:${o.slice(0, o.indexOf('='))}` : `f:${o}`);
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(o);
  }
  return out;
}

/** `--volumes-from c[:ro|rw]` → [container, mode]. */
export function parseVolumesFrom(spec: string): [string, string] {
  const i = spec.indexOf(':');
  if (i < 0) return [spec, ''];
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw' && !validMountMode(mode)) throw new InvalidParameterError(`invalid mode: ${mode}`);
  return [spec.slice(0, i), mode];
}
