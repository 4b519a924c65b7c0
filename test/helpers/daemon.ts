/**
 * Start a real berthd on a temp data root and socket for integration tests, and run the berth
 * and docker CLIs against it. Everything made here is removed by stop(), by its own paths and PIDs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { copyFile, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { randomBytes } from 'node:crypto';
import { NetworkManager } from '../../src/engine/network/manager.js';
import { killRecordedProcesses } from './container-procs.js';

export const DOCKER_CLI = '/usr/local/bin/docker';

/**
 * Deliberately long: containers/<64 hex>/shim.sock under it is past the 108-byte limit of unix
 * socket paths, which the shim and the daemon must get around (regression: long --data-root).
 */
const DATA_ROOT = 'a-data-root-with-a-long-name-as-users-pick-them';

export interface RunResult { code: number; stdout: string; stderr: string }

export interface TestDaemon {
  root: string;
  /** The data root's folder name under root. */
  dataRoot: string;
  socket: string;
  host: string;
  pid: number;
  /** This daemon's default bridge interface (never the system's berth0) and its subnet. */
  bridge: string;
  bip: string;
  /** Run `berth ARGS` (the bundled CLI) against this daemon. */
  berth(args: string[], opts?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<RunResult>;
  /** Run the real docker CLI against this daemon. */
  docker(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Stop berthd with SIGTERM (containers keep running), or SIGKILL to simulate a crash. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start berthd again on the same root and socket. */
  restart(): Promise<void>;
  /** Stop the daemon, kill what it started, unmount and remove everything. */
  stop(): Promise<void>;
  log(): Promise<string>;
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the process may exit before reading its stdin
    child.stdin.end(opts.input ?? '');
  });
}

function cliEntry(): string[] {
  const root = projectRoot();
  const bundled = join(root, 'dist', 'berth.mjs');
  if (existsSync(bundled)) return [bundled];
  return ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')];
}

function daemonEntry(): string[] {
  const root = projectRoot();
  const bundled = join(root, 'dist', 'berthd.mjs');
  if (existsSync(bundled)) return [bundled];
  return ['--import', 'tsx', join(root, 'src', 'daemon', 'main.ts')];
}

/** GET /_ping over the socket in this process (a curl per try cost a process spawn each). */
function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ socketPath: socket, path: '/_ping', agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function waitForSocket(socket: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`berthd exited with ${child.exitCode ?? child.signalCode}: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    if (existsSync(socket) && (await ping(socket))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`berthd did not come up: ${await readFile(logFile, 'utf8').catch(() => '')}`);
}

/** `nodeArgs` go to node before the daemon's entry (e.g. a heap-snapshot signal); `extraArgs` to berthd. */
export async function startDaemon(opts: { mirror?: string; extraArgs?: string[]; nodeArgs?: string[] } = {}): Promise<TestDaemon> {
  const root = mkdtempSync('/tmp/bt-');
  // Own bridge, subnet and iptables chains per test daemon: parallel daemons and a system berthd never meet.
  const tag = randomBytes(3).toString('hex');
  const bridge = `bt-${tag}`;
  const octet = 100 + (parseInt(tag.slice(0, 2), 16) % 150);
  const bip = `10.${octet}.${parseInt(tag.slice(2, 4), 16)}.1/24`;
  const socket = join(root, 'berth.sock');
  const logFile = join(root, 'berthd.log');
  const host = `unix://${socket}`;
  const args = [
    ...(opts.nodeArgs ?? []), ...daemonEntry(), '-H', host, '--data-root', join(root, DATA_ROOT), '--pidfile', join(root, 'berthd.pid'),
    '--config-file', join(root, 'daemon.json'),
    '--bridge', bridge, '--bip', bip, '--default-address-pool', `base=10.${octet}.0.0/16,size=24`,
    ...(opts.mirror ? ['--registry-mirror', opts.mirror] : []),
    ...(opts.extraArgs ?? []),
  ];
  let child!: ChildProcess;
  const launch = async () => {
    const { openSync } = await import('node:fs');
    const fd = openSync(logFile, 'a');
    // Tests never leave the machine: Docker Hub goes to a closed loopback port, and any other
    // host a test (or the fuzzer) names is refused before a connection or a DNS query.
    const env = { ...process.env, BERTH_HUB_ENDPOINT: 'http://127.0.0.1:9', BERTH_OUTBOUND: 'loopback' };
    child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], detached: true, env });
    await waitForSocket(socket, child, logFile);
  };
  await launch();

  const env = { ...process.env, BERTH_HOST: host, DOCKER_HOST: host, DOCKER_CONFIG: join(root, 'docker-config') } as Record<string, string>;
  delete env.DOCKER_CONTEXT;

  const daemon: TestDaemon = {
    root, socket, host, dataRoot: DATA_ROOT, bridge, bip,
    get pid() { return child.pid!; },
    berth: (a, o = {}) => run(process.execPath, [...cliEntry(), ...a], { input: o.input, timeoutMs: o.timeoutMs, env: { ...env, ...o.env } }),
    docker: (a, o = {}) => run(DOCKER_CLI, a, { input: o.input, timeoutMs: o.timeoutMs, env }),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    async restart() {
      await launch();
    },
    log: () => readFile(logFile, 'utf8'),
    async stop() {
      await daemon.kill('SIGTERM');
      // BERTH_TEST_LOG=<file>: keep the daemon's log for a post-mortem.
      if (process.env.BERTH_TEST_LOG) await copyFile(logFile, process.env.BERTH_TEST_LOG).catch(() => undefined);
      await cleanupRoot(join(root, DATA_ROOT));
      await cleanupNetwork(join(root, DATA_ROOT), bridge);
      await rm(root, { recursive: true, force: true });
    },
  };
  return daemon;
}

/** The namespaces, bridges and iptables chains of this daemon, by their names (veths go with the namespaces). */
export async function cleanupNetwork(dataRoot: string, bridge: string): Promise<void> {
  let ids: string[] = [];
  try { ids = readdirSync(join(dataRoot, 'containers')); } catch { /* none */ }
  for (const id of ids) await run('ip', ['netns', 'del', NetworkManager.netnsName(id)]).catch(() => undefined);
  let nets: Array<{ bridge?: string }> = [];
  try { nets = JSON.parse(await readFile(join(dataRoot, 'network', 'networks.json'), 'utf8')); } catch { /* none */ }
  for (const b of new Set([bridge, ...nets.map((n) => n.bridge).filter((x): x is string => !!x)])) {
    await run('ip', ['link', 'del', b]).catch(() => undefined);
  }
  await NetworkManager.removeChains(bridge);
}

/** Kill the containers' shims and init processes this daemon started, unmount, remove cgroups. */
async function cleanupRoot(dataRoot: string): Promise<void> {
  const containers = join(dataRoot, 'containers');
  let ids: string[] = [];
  try { ids = readdirSync(containers); } catch { return; }
  for (const id of ids) {
    await killRecordedProcesses(containers, id);
    await run('crun', ['delete', '--force', id]).catch(() => undefined);
    await run('umount', ['-l', join(containers, id, 'rootfs')]).catch(() => undefined);
  }
}

/**
 * A daemon whose Docker Hub mirror is a fresh loopback registry holding the offline images:
 * the usual start of an integration test. stop() stops both.
 */
export async function startDaemonWithMirror(opts: { extraArgs?: string[]; nodeArgs?: string[]; images?: string[] } = {}): Promise<TestDaemon & { registryHost: string }> {
  const { startRegistry, pushFixtures } = await import('./registry.js');
  const registry = await startRegistry();
  try {
    await pushFixtures(registry.host, opts.images);
    const d = await startDaemon({ mirror: `http://${registry.host}`, extraArgs: opts.extraArgs, nodeArgs: opts.nodeArgs });
    const stopDaemon = d.stop;
    return Object.assign(d, {
      registryHost: registry.host,
      async stop() {
        try { await stopDaemon(); } finally { await registry.stop(); }
      },
    });
  } catch (e) {
    await registry.stop();
    throw e;
  }
}

/**
 * The usual set-up of a test file: a daemon with a mirror holding `images`, already pulled
 * (through the docker CLI), and a teardown that removes every container before stopping it.
 */
export async function startDaemonWithImages(images: string[]): Promise<TestDaemon & { registryHost: string }> {
  const d = await startDaemonWithMirror({ images });
  for (const image of images) {
    const r = await d.docker(['pull', image]);
    if (r.code !== 0) {
      await d.stop();
      throw new Error(`pull ${image}: ${r.stderr}`);
    }
  }
  return d;
}

export async function removeContainersAndStop(d: TestDaemon | undefined): Promise<void> {
  const ids = (await d?.docker(['ps', '-aq']).catch(() => undefined))?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await d!.docker(['rm', '-f', ...ids]).catch(() => undefined);
  await d?.stop();
}
