/**
 * A real registry for integration tests: Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1:<free port> with its own config and a temp storage dir, plus the fixture images
 * (hello-world, busybox, layered, platform-test) built once per machine into a cache dir and pushed with skopeo.
 *
 *   const reg = await startRegistry();
 *   await pushFixtures(reg.host);           // 127.0.0.1:<port>/library/{hello-world,busybox,platform-test}:latest
 *   ... daemon with registry-mirrors: [reg.url] ...
 *   await reg.stop();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REGISTRY_BIN = process.env.REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface TestRegistry {
  /** '127.0.0.1:<port>' */
  host: string;
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  /** The registry's storage root (blobs under docker/registry/v2/blobs/sha256/<2>/<hex>/data). */
  storage: string;
  pid: number;
  /** Path of a blob's data file in the registry storage (for corruption tests). */
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

function getStatus(url: string): Promise<number> {
  return new Promise((res) => {
    const req = http.get(url, (r) => { r.resume(); res(r.statusCode ?? 0); });
    req.on('error', () => res(0));
    req.setTimeout(1000, () => { req.destroy(); res(0); });
  });
}

/** `extraConfig`: more lines of the registry's config.yml (an `auth:` section: test/helpers/token-server.ts). */
export async function startRegistry(opts: { storage?: string; extraConfig?: string[] } = {}): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} missing: apt-get install docker-registry`);
  const ownStorage = !opts.storage;
  const storage = opts.storage ?? (await mkdtemp(join(tmpdir(), 'berth-registry-')));
  await mkdir(storage, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(storage, `config-${port}.yml`);
    await writeFile(config, [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'));
    const logFd = openSync(join(storage, `registry-${port}.log`), 'a');
    const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    let exited = false;
    child.on('exit', () => { exited = true; });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && !exited) {
      const status = await getStatus(`${url}/v2/`);
      // 401: a registry with auth is up too.
      if (status === 200 || status === 401) { up = true; break; }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      if (attempt < 2) continue; // the port may have been taken in between
      const log = readFileSync(join(storage, `registry-${port}.log`), 'utf8');
      throw new Error(`docker-registry did not start on ${url}:\n${log.slice(-2000)}`);
    }
    const pid = child.pid!;
    return {
      host: `127.0.0.1:${port}`,
      url,
      port,
      storage,
      pid,
      blobPath(digest: string) {
        const hex = digest.replace(/^sha256:/, '');
        return join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      },
      async stop() {
        if (!exited) {
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
          const t = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
          await gone;
          clearTimeout(t);
        }
        if (ownStorage) await rm(storage, { recursive: true, force: true });
      },
    };
  }
}

/** Key of the fixture inputs: the builder, the hello source and the busybox binary. */
function fixturesKey(): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(ROOT, 'scripts', 'fixtures', 'build-images.mjs')));
  h.update(readFileSync(join(ROOT, 'test', 'fixtures', 'hello', 'hello.c')));
  const bb = process.env.BERTH_BUSYBOX ?? '/bin/busybox';
  const st = statSync(bb);
  h.update(`${bb}:${st.size}:${st.mtimeMs}`);
  return h.digest('hex').slice(0, 16);
}

export interface FixtureDigests {
  hello: string;
  busybox: string;
  layered: string;
  platformTest: string;
}

/** Build the fixture OCI layout once (cached under $BERTH_FIXTURE_CACHE or the temp dir); returns its dir. */
export async function buildFixtures(): Promise<{ dir: string; digests: FixtureDigests }> {
  const cacheRoot = process.env.BERTH_FIXTURE_CACHE ?? join(tmpdir(), 'berth-fixture-cache');
  const dir = join(cacheRoot, `oci-${fixturesKey()}`);
  const digestsFile = join(dir, 'digests.json');
  if (!existsSync(digestsFile)) {
    await mkdir(cacheRoot, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    const { stdout } = await execFileP(process.execPath, [join(ROOT, 'scripts', 'fixtures', 'build-images.mjs'), tmp]);
    await writeFile(join(tmp, 'digests.json'), stdout.trim());
    try {
      await rename(tmp, dir);
    } catch {
      // another test process won the race: use theirs
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return { dir, digests: JSON.parse(readFileSync(digestsFile, 'utf8')) as FixtureDigests };
}

/** Build (cached) and push the fixtures to a loopback registry as library/<name>:latest. */
export async function pushFixtures(host: string, names: string[] = ['hello-world', 'busybox', 'layered', 'platform-test']): Promise<{ dir: string; digests: FixtureDigests }> {
  const built = await buildFixtures();
  await execFileP('bash', [join(ROOT, 'scripts', 'fixtures', 'push-images.sh'), built.dir, host, ...names], { maxBuffer: 16 * 1024 * 1024 });
  return built;
}
