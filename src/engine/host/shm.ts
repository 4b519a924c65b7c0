/**
 * A shareable container's /dev/shm (`--ipc shareable`), as dockerd keeps it: a tmpfs mounted on
 * the host in the container's folder, bound into the container and into those that join its IPC
 * (`--ipc container:<x>`); unmounted when the container stops (runtime cleanup).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isMountPoint } from '../mountinfo.js';
import { hostCommand } from './command.js';

export const SHM_DIR = 'shm';

export async function mountShareableShm(path: string, sizeBytes: number | undefined): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (await isMountPoint(path)) return; // still mounted from a run a crash cut short
  const size = sizeBytes && sizeBytes > 0 ? sizeBytes : 64 * 1024 * 1024;
  await hostCommand('mount', ['-t', 'tmpfs', '-o', `mode=1777,size=${size},nosuid,nodev,noexec`, 'shm', path]);
}

/** The container folder's shareable /dev/shm, if mounted: unmounted (lazily, as a joiner may hold it). */
export async function unmountShareableShm(containerDir: string): Promise<void> {
  const path = join(containerDir, SHM_DIR);
  // Only shareable containers have the folder: the others skip the mount table read at every exit.
  if (existsSync(path) && (await isMountPoint(path))) await hostCommand('umount', ['-l', path]);
}
