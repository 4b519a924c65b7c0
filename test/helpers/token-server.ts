/**
 * Registries that want credentials, for login/pull/push/search tests:
 *
 * - startBasicAuthRegistry(): Debian's docker-registry with `auth: htpasswd` (bcrypt hashes made
 *   by libcrypt through python3's crypt module: no extra package);
 * - startTokenAuthRegistry(): docker-registry with `auth: token` and a tiny token server in this
 *   process, issuing ES256 JWTs signed with a throw-away key whose self-signed certificate is the
 *   registry's `rootcertbundle` (the token carries it in `x5c`). It grants what is asked to a known
 *   user, nothing to anyone else (an anonymous token without access, as Docker Hub), and refuses
 *   wrong passwords with Docker Hub's `{"details": "incorrect username or password"}`.
 *
 * Both share one storage with a plain registry (`open`) that the fixtures are pushed to without
 * credentials.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushFixtures, startRegistry, type TestRegistry } from './registry.js';

const execFileP = promisify(execFile);

export interface AuthRegistry {
  /** The registry that wants credentials. */
  reg: TestRegistry;
  /** The same storage without auth (fixtures pushed there). */
  open: TestRegistry;
  user: string;
  password: string;
  /** Token requests seen (token registries only): their query strings and whether they were authenticated. */
  tokenRequests: Array<{ query: URLSearchParams; user?: string }>;
  stop(): Promise<void>;
}

/** A bcrypt hash ($2b$) from libcrypt, which docker-registry's htpasswd reader accepts. */
async function bcrypt(password: string): Promise<string> {
  const { stdout } = await execFileP('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<5)))', password]);
  const hash = stdout.trim();
  if (!hash.startsWith('$2')) throw new Error(`libcrypt made no bcrypt hash: ${hash}`);
  return hash;
}

async function withOpenRegistry(images: string[], start: (storage: string) => Promise<Omit<AuthRegistry, 'open' | 'stop'> & { stopExtra?: () => Promise<void> }>): Promise<AuthRegistry> {
  const storage = await mkdtemp(join(tmpdir(), 'berth-auth-registry-'));
  const open = await startRegistry({ storage });
  try {
    if (images.length) await pushFixtures(open.host, images);
    const r = await start(storage);
    return {
      ...r,
      open,
      async stop() {
        await r.reg.stop();
        await r.stopExtra?.();
        await open.stop();
        await rm(storage, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await open.stop();
    await rm(storage, { recursive: true, force: true });
    throw e;
  }
}

export function startBasicAuthRegistry(opts: { images?: string[]; user?: string; password?: string } = {}): Promise<AuthRegistry> {
  const user = opts.user ?? 'tester';
  const password = opts.password ?? `pw-${randomBytes(4).toString('hex')}`;
  return withOpenRegistry(opts.images ?? ['busybox'], async (storage) => {
    const file = join(storage, 'htpasswd');
    await writeFile(file, `${user}:${await bcrypt(password)}\n`);
    const reg = await startRegistry({ storage, extraConfig: ['auth:', '  htpasswd:', '    realm: berth-test', `    path: ${file}`] });
    return { reg, user, password, tokenRequests: [] };
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * `refreshTokens`: a login (`offline_token=true`) also gets an OAuth2 refresh token, which the
 * refresh-token grant (POST) takes instead of the password, as Docker Hub's identity tokens.
 */
export function startTokenAuthRegistry(opts: { images?: string[]; user?: string; password?: string; refreshTokens?: boolean } = {}): Promise<AuthRegistry> {
  const user = opts.user ?? 'tester';
  const password = opts.password ?? `pw-${randomBytes(4).toString('hex')}`;
  return withOpenRegistry(opts.images ?? ['busybox'], async (storage) => {
    const keyFile = join(storage, 'token.key');
    const certFile = join(storage, 'token.crt');
    await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=berth-test-token-issuer']);
    const key = createPrivateKey(await readFile(keyFile));
    const certDer = new X509Certificate(await readFile(certFile)).raw;
    const service = 'berth-test-registry';
    const issuer = 'berth-test-issuer';
    const tokenRequests: AuthRegistry['tokenRequests'] = [];

    const issue = (access: Array<{ type: string; name: string; actions: string[] }>, subject: string) => {
      const now = Math.floor(Date.now() / 1000);
      const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
      const claims = { iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64url(sig)}`;
    };

    const refreshTokens = new Map<string, string>();
    const grant = (res: http.ServerResponse, who: string | undefined, scopes: string[], offline: boolean) => {
      const access = who
        ? scopes.flatMap((s) => s.split(' ')).filter(Boolean).map((s) => {
          const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
          return { type, name, actions: actions.split(',') };
        })
        : [];
      const token = issue(access, who ?? '');
      const body: Record<string, unknown> = { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
      if (offline && who && opts.refreshTokens) {
        const rt = `rt-${randomBytes(12).toString('hex')}`;
        refreshTokens.set(rt, who);
        body.refresh_token = rt;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };

    const server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://token');
      if (req.method === 'POST') {
        // OAuth2 refresh-token grant: the form's refresh_token stands for the user.
        let form = '';
        req.on('data', (c: Buffer) => { form += c.toString('utf8'); });
        req.on('end', () => {
          const f = new URLSearchParams(form);
          const who = f.get('grant_type') === 'refresh_token' ? refreshTokens.get(f.get('refresh_token') ?? '') : undefined;
          tokenRequests.push({ query: f, user: who });
          if (!who) {
            res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'invalid refresh token' }));
            return;
          }
          grant(res, who, f.get('scope') ? [f.get('scope')!] : [], f.get('access_type') === 'offline');
        });
        return;
      }
      let who: string | undefined;
      const authz = req.headers.authorization;
      if (authz?.startsWith('Basic ')) {
        const raw = Buffer.from(authz.slice(6), 'base64').toString('utf8');
        const i = raw.indexOf(':');
        if (raw.slice(0, i) !== user || raw.slice(i + 1) !== password) {
          tokenRequests.push({ query: u.searchParams });
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
        who = user;
      }
      tokenRequests.push({ query: u.searchParams, user: who });
      grant(res, who, u.searchParams.getAll('scope'), u.searchParams.get('offline_token') === 'true');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const stopServer = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
    try {
      const reg = await startRegistry({
        storage,
        extraConfig: ['auth:', '  token:', `    realm: http://127.0.0.1:${port}/token`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${certFile}`],
      });
      return { reg, user, password, tokenRequests, stopExtra: stopServer };
    } catch (e) {
      await stopServer();
      throw e;
    }
  });
}
