import { writeFileAtomic } from '../util/atomic.js';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { buildRouter, createApiServer } from '../api/server.js';
import { registerDashboardInfoRoute, type DashboardInfo } from '../api/dashboard/info-route.js';
import { ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION } from '../api/version.js';
import { Engine } from '../engine/engine.js';
import { isBerthError } from '../engine/errors.js';
import { ensureHostReady } from '../engine/runtime/index.js';
import { loadConfig, parseDaemonArgs, socketPath, tcpAddress, usage, UsageError } from './config.js';
import { listenUnix } from './listen-unix.js';
import { listenTcp, loadServerTls } from './listen-tcp.js';

function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} berthd: ${msg}\n`);
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
  // The TLS files are read (and checked) before anything else starts, as dockerd does.
  const tls = config.tlsFiles ? loadServerTls(config.tlsFiles) : undefined;
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
    maxImageLoadSize: config.maxImageLoadSize,
    engineVersion: ENGINE_VERSION,
    apiVersion: MAX_API_VERSION,
    minApiVersion: MIN_API_VERSION,
  });
  // Written whole (atomically) before the API answers: whoever reaches the socket can trust it.
  await mkdir(dirname(config.pidFile), { recursive: true });
  await writeFileAtomic(config.pidFile, `${process.pid}\n`);
  const sockets: string[] = [];
  const servers: Server[] = [];
  let dashboardInfo: DashboardInfo | undefined;
  const router = buildRouter();
  registerDashboardInfoRoute(router, () => dashboardInfo);
  for (const host of config.hosts) {
    const tcp = tcpAddress(host);
    if (tcp) {
      // config.ts lets a tcp:// host through only with mutual TLS.
      const server = createApiServer(engine, router, { tls: tls! });
      await listenTcp(server, tcp);
      servers.push(server);
    } else {
      const path = socketPath(host);
      const server = createApiServer(engine, router);
      await listenUnix(server, path, log);
      servers.push(server);
      sockets.push(path);
    }
  }
  // Imported only when on: the daemon's start is unchanged without a dashboard.
  let closeDashboard = (): void => undefined;
  if (config.dashboard) {
    const { startDashboard } = await import('./dashboard.js');
    const dash = await startDashboard({ engine, router, dataRoot: config.dataRoot, address: config.dashboard, log });
    dashboardInfo = { URL: dash.url, LoginURL: dash.loginUrl };
    closeDashboard = () => dash.close();
    log(`dashboard on ${dash.url} (\`berth dashboard\` prints the link that logs in)`);
  }
  log(`API listening on ${config.hosts.join(', ')}${tls ? ' (tcp with mutual TLS)' : ''} (data root ${config.dataRoot})`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down; running containers keep running under their shims`);
    closeDashboard();
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
