/**
 * Host device nodes for the OCI spec: `--device` (a node, or every node under a folder) and
 * `--privileged` (every node of the host's /dev), read as moby's devices.DeviceFromPath /
 * HostDevices do. Each becomes a `linux.devices` entry (crun makes the node) and a device cgroup
 * rule allowing it with the given permissions.
 */
import { readdir, realpath, stat, lstat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SystemError } from '../errors.js';

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** Linux's dev_t split (new_encode_dev's inverse, as glibc's major()/minor()). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev % 2 ** 32;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfff00);
  return { major, minor };
}

async function deviceAt(path: string, inContainer: string): Promise<OciDevice | undefined> {
  const st = await lstat(path);
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return { path: inContainer, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

const gatherError = (path: string, why: string) =>
  new SystemError(`error gathering device information while adding custom device "${path}": ${why}`);

/** `--device host[:container]`: one node, or the nodes of a folder (symlinks resolved first). */
export async function devicesFromPath(onHost: string, inContainer: string): Promise<OciDevice[]> {
  let resolved: string;
  try {
    resolved = await realpath(onHost);
  } catch {
    throw gatherError(onHost, 'no such file or directory');
  }
  const st = await stat(resolved);
  if (!st.isDirectory()) {
    const d = await deviceAt(resolved, inContainer);
    if (!d) throw gatherError(onHost, 'not a device node');
    return [d];
  }
  const out: OciDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        const d = await deviceAt(p, join(inContainer, relative(resolved, p)));
        if (d) out.push(d);
      }
    }
  };
  await walk(resolved);
  return out;
}

/** Folders of /dev that HostDevices skips, and nodes the runtime sets up itself. */
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
const SKIP_NODES = new Set(['/dev/console', '/dev/ptmx']);

/** Every device node of the host's /dev (for --privileged). */
export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p);
      } else if ((e.isCharacterDevice() || e.isBlockDevice()) && !SKIP_NODES.has(p)) {
        const d = await deviceAt(p, p).catch(() => undefined);
        if (d) out.push(d);
      }
    }
  };
  await walk(root);
  return out;
}
