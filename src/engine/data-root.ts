/**
 * The data root's permissions, as dockerd sets them: the root itself 0711 (others may traverse to
 * what is meant to be shared, such as volumes, but not list it), and `containers/` and `layers/`
 * 0710 root:root (dockerd's `containers` and `overlay2`): they hold the containers' OCI specs
 * (their environment, often secrets), setuid binaries of image layers and device nodes that
 * containers made, none of which a local user may reach. The stores no container reaches are
 * 0700 (dockerd's `image/`, `network/`, `tmp/`): `images/`, `content/`, `network/`, `events/`;
 * `volumes/` is 0701 as dockerd's (traversable, not listable); `engine-id` 0600 as dockerd's.
 * A data root made by an older version is fixed at start: closing the top folders makes
 * everything below them unreachable.
 */
import { chmod, chown, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const DATA_ROOT_MODE = 0o711;
export const PRIVATE_DIR_MODE = 0o710;
/** Files that may hold secrets (a container's config.json and record): owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** Owner only: folders no container needs to traverse. */
export const OWNER_ONLY_DIR_MODE = 0o700;
/** dockerd's volumes/: others may traverse to a volume's _data, not list the volumes. */
export const VOLUMES_DIR_MODE = 0o701;

/** Every folder Berth keeps under the data root, with its mode. */
export const DATA_ROOT_DIRS: Readonly<Record<string, number>> = {
  containers: PRIVATE_DIR_MODE,
  layers: PRIVATE_DIR_MODE,
  images: OWNER_ONLY_DIR_MODE,
  content: OWNER_ONLY_DIR_MODE,
  network: OWNER_ONLY_DIR_MODE,
  events: OWNER_ONLY_DIR_MODE,
  volumes: VOLUMES_DIR_MODE,
  build: OWNER_ONLY_DIR_MODE,
};

/** Files at the top of the data root, narrowed when they exist (their writers create them so). */
const DATA_ROOT_FILES: Readonly<Record<string, number>> = { 'engine-id': PRIVATE_FILE_MODE };

/** Create the data root and its folders, or tighten them if they exist (mkdir's mode obeys the umask and never changes an existing folder). */
export async function prepareDataRoot(root: string): Promise<void> {
  await ensureDir(root, DATA_ROOT_MODE);
  for (const [name, mode] of Object.entries(DATA_ROOT_DIRS)) await ensureDir(join(root, name), mode);
  for (const [name, mode] of Object.entries(DATA_ROOT_FILES)) {
    const path = join(root, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) await chmod(path, mode);
  }
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
