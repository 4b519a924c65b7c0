/**
 * The data root's permissions, as dockerd sets them: the root itself 0711 (others may traverse to
 * what is meant to be shared, such as volumes, but not list it), and `containers/` and `layers/`
 * 0710 root:root (dockerd's `containers` and `overlay2`): they hold the containers' OCI specs
 * (their environment, often secrets), setuid binaries of image layers and device nodes that
 * containers made, none of which a local user may reach. A data root made by an older version is
 * fixed at start: closing the top folders makes everything below them unreachable.
 */
import { chmod, chown, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

export const DATA_ROOT_MODE = 0o711;
export const PRIVATE_DIR_MODE = 0o710;
/** Files that may hold secrets (a container's config.json and record): owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** The folders under the data root that only root may enter. */
export const PRIVATE_DIRS = ['containers', 'layers'] as const;

/** Create the data root and its private folders, or tighten them if they exist (mkdir's mode obeys the umask and never changes an existing folder). */
export async function prepareDataRoot(root: string): Promise<void> {
  await ensureDir(root, DATA_ROOT_MODE);
  for (const name of PRIVATE_DIRS) await ensureDir(join(root, name), PRIVATE_DIR_MODE);
}

/** mkdir with a mode that holds whatever the umask or an earlier version left. */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  await chown(dir, 0, 0);
  await chmod(dir, mode);
}

/**
 * Write a file only root can read (a container's OCI spec holds its environment): 0600 from its
 * creation, and an existing one (from an older version) is narrowed before the new content goes in.
 */
export async function writePrivateFile(path: string, data: string): Promise<void> {
  const fh = await open(path, 'w', PRIVATE_FILE_MODE);
  try {
    await fh.chmod(PRIVATE_FILE_MODE);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}
