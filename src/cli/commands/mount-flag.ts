// --mount and -v as docker/cli reads them client-side (opts/mount.go, run's volume handling).
import { resolve } from 'node:path';
import type { Mount } from '../../client/index.js';

/** A --mount value's error; the caller prints `invalid argument "<v>" for "--mount" flag: <msg>`. */
export class MountFlagError extends Error {}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: 64m, 1g, 512k, 1024 (binary units). */
function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** encoding/csv's reading of one line: fields split at commas, double quotes group. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseMountFlag(value: string, cwd = process.cwd()): Mount {
  const m: Mount = { Type: 'volume' };
  const vol = () => (m.VolumeOptions ??= {});
  const bind = () => (m.BindOptions ??= {});
  const tmpfs = () => (m.TmpfsOptions ??= {});
  const driver = () => (vol().DriverConfig ??= { Name: '' });
  const setMap = (map: Record<string, string>, kv: string) => {
    const i = kv.indexOf('=');
    map[i >= 0 ? kv.slice(0, i) : kv] = i >= 0 ? kv.slice(i + 1) : '';
  };
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const val = eq >= 0 ? field.slice(eq + 1) : '';
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') { m.ReadOnly = true; continue; }
      if (key === 'volume-nocopy') { vol().NoCopy = true; continue; }
      if (key === 'bind-nonrecursive') { bind().NonRecursive = true; continue; }
      throw new MountFlagError(`invalid field '${field}' must be a key=value pair`);
    }
    const bool = () => {
      const b = parseBool(val);
      if (b === undefined) throw new MountFlagError(`invalid value for ${key}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type': m.Type = val.toLowerCase(); break;
      case 'source': case 'src':
        m.Source = val === '.' || val.startsWith('./') ? resolve(cwd, val) : val;
        break;
      case 'target': case 'dst': case 'destination': m.Target = val; break;
      case 'readonly': case 'ro': m.ReadOnly = bool(); break;
      case 'consistency': m.Consistency = val.toLowerCase(); break;
      case 'bind-propagation': bind().Propagation = val.toLowerCase(); break;
      case 'bind-nonrecursive': bind().NonRecursive = bool(); break;
      case 'volume-driver': driver().Name = val; break;
      case 'volume-subpath': vol().Subpath = val; break;
      case 'volume-label': setMap(vol().Labels ??= {}, val); break;
      case 'volume-opt': setMap(driver().Options ??= {}, val); break;
      case 'volume-nocopy': vol().NoCopy = bool(); break;
      case 'tmpfs-size': {
        const n = ramInBytes(val);
        if (n === undefined) throw new MountFlagError(`invalid value for ${key}: ${val}`);
        tmpfs().SizeBytes = n;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val)) throw new MountFlagError(`invalid value for ${key}: ${val}`);
        tmpfs().Mode = parseInt(val, 8);
        break;
      }
      default: throw new MountFlagError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Type) throw new MountFlagError('type is required');
  if (!m.Target) throw new MountFlagError('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new MountFlagError(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new MountFlagError(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new MountFlagError(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  return m;
}

/**
 * `-v` values: those with a source (`src:dst[:mode]`) become HostConfig.Binds (a `./rel` host
 * path made absolute), a bare destination becomes an anonymous volume in Config.Volumes.
 */
export function splitVolumeFlags(values: string[], cwd = process.cwd()): { binds: string[]; volumes: Record<string, object> } {
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    if (i <= 0) {
      volumes[v] = {};
      continue;
    }
    let host = v.slice(0, i);
    if (host === '.' || host === '..' || host.startsWith('./') || host.startsWith('../')) host = resolve(cwd, host);
    binds.push(host + v.slice(i));
  }
  return { binds, volumes };
}
