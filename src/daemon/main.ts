import { chmod, chown, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Server } from 'node:http';
import { createApiServer } from '../api/server.js';
import { ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION } from '../api/version.js';
import { Engine } from '../engine/engine.js';
import { isBerthError } from '../engine/errors.js';
import { runCommand } from '../engine/host/command.js';
import { ensureHostReady } from '../engine/runtime/index.js';
import { loadConfig, parseDaemonArgs, socketPath, usage, UsageError } from './config.js';

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} berthd: ${msg}\n`);
}

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
async function listen(server: Server, path: string): Promise<void> {
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

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseDaemonArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(125);
  }
  if (parsed.help) {
    process.stdout.write(usage());
    return;
  }
  const config = loadConfig(parsed.flags);
  if (process.getuid?.() !== 0) {
    log('berthd needs to run as root');
    process.exit(1);
  }
  await ensureHostReady();
  const engine = await Engine.open({
    dataRoot: config.dataRoot,
    registryMirrors: config.registryMirrors,
    insecureRegistries: config.insecureRegistries,
    network: config.network,
    engineVersion: ENGINE_VERSION,
    apiVersion: MAX_API_VERSION,
    minApiVersion: MIN_API_VERSION,
  });
  const sockets = config.hosts.map(socketPath);
  const servers: Server[] = [];
  for (const path of sockets) {
    const server = createApiServer(engine);
    await listen(server, path);
    servers.push(server);
  }
  await mkdir(dirname(config.pidFile), { recursive: true });
  await writeFile(config.pidFile, `${process.pid}\n`);
  log(`API listening on ${sockets.join(', ')} (data root ${config.dataRoot})`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down; running containers keep running under their shims`);
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
    await engine.close();
    for (const path of sockets) await rm(path, { force: true });
    await rm(config.pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined);
  // A hijacked client vanishing mid-write must not take the daemon down.
  process.on('SIGPIPE', () => undefined);
  // A background task's failure (a best-effort teardown, a DNS answer) is logged, not fatal: the
  // API stays up; what such a task left half-done is reconciled at the next start.
  process.on('unhandledRejection', (reason) => {
    log(`background task failed: ${reason instanceof Error ? reason.stack : String(reason)}`);
  });
  process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_DESTROYED') {
      log(`client connection error ignored: ${err.message}`);
      return;
    }
    // Anything else may have left state inconsistent: exit; containers keep running and the
    // next start reconciles.
    log(`fatal: ${err.stack ?? err}`);
    process.exit(1);
  });
}

main().catch((e) => {
  if (e instanceof UsageError) process.stderr.write(`${e.message}\n`);
  else if (isBerthError(e)) log(`failed to start: ${e.message}`);
  else log(`failed to start: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
