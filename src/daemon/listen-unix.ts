// The unix socket listener: root:berth 0660 from the moment anyone can reach it.
import { chmod, chown, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Server } from 'node:net';
import { runCommand } from '../engine/host/command.js';

/** Is some process already serving this socket? */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** The socket's group, as dockerd's `docker`: made by scripts/install.sh (`groupadd -f berth`). */
const SOCKET_GROUP = 'berth';

/** The GID of a group by name (through NSS, as getgrnam), or undefined when there is none. */
async function groupId(name: string): Promise<number | undefined> {
  const r = await runCommand('getent', ['group', name]).catch(() => undefined);
  const gid = Number(r?.code === 0 ? r.stdout.split(':')[2] : NaN);
  return Number.isInteger(gid) ? gid : undefined;
}

/**
 * Listen on a unix socket that is root:berth 0660 (root:root without the group) from the moment
 * anyone can reach it: bind inside a fresh 0700 folder next to the final path, set owner and mode
 * there, then rename it into place (a bound socket keeps working under its new name).
 */
export async function listenUnix(server: Server, path: string, log: (msg: string) => void): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  if (await socketInUse(path)) throw new Error(`another daemon is already listening on ${path}`);
  const gid = await groupId(SOCKET_GROUP);
  if (gid === undefined) log(`group ${SOCKET_GROUP} not found: ${path} is root:root 0660 (scripts/install.sh creates the group)`);
  const privateDir = await mkdtemp(join(dir, `.${basename(path)}.`));
  const tmp = join(privateDir, 's');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tmp, () => { server.off('error', reject); resolve(); });
    });
    await chown(tmp, 0, gid ?? 0);
    await chmod(tmp, 0o660);
    await rename(tmp, path); // replaces a stale socket atomically
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}
