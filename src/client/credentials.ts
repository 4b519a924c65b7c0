/**
 * Registry credentials in the docker CLI's `config.json` (`--config`, else $DOCKER_CONFIG, else
 * ~/.docker): `auths[server].auth` is base64 `user:password` (an `identitytoken` beside it when the
 * registry gave one). Docker Hub's key is its legacy index address; any other registry's is its
 * host name (older files may hold `http(s)://host`, read too). The rest of the file is kept as is;
 * writes are atomic and the file is 0600. Credential helpers (`credsStore`, `credHelpers`) are not
 * run: a file that names one for a registry is refused rather than bypassed.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerConfigDir } from './config-dir.js';

/** Docker Hub's credential key (registry.IndexServer). */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
  identitytoken?: string;
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
  [k: string]: unknown;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function configDir(override?: string): string {
  return override || dockerConfigDir();
}

export function configPath(dir?: string): string {
  return join(configDir(dir), 'config.json');
}

/** credentials.ConvertToHostname: `https://host:5000/v2/` → `host:5000`. */
export function convertToHostname(address: string): string {
  let s = address;
  if (s.startsWith('http://')) s = s.slice(7);
  else if (s.startsWith('https://')) s = s.slice(8);
  const i = s.indexOf('/');
  return i < 0 ? s : s.slice(0, i);
}

/** The credential key of a registry domain (a parsed reference's): Hub's index address, else the host. */
export function keyForDomain(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? INDEX_SERVER : domain;
}

async function load(dir?: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(configPath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as ConfigFile;
  } catch (e) {
    throw new Error(`loading config file: ${configPath(dir)}: ${(e as Error).message}`);
  }
}

async function save(cfg: ConfigFile, dir?: string): Promise<void> {
  const file = configPath(dir);
  await mkdir(configDir(dir), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(cfg, null, '\t'), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

function helperFor(cfg: ConfigFile, key: string): string | undefined {
  return cfg.credHelpers?.[convertToHostname(key)] ?? cfg.credsStore;
}

function decode(key: string, e: AuthEntry): Credentials {
  let username = '';
  let password = '';
  if (e.auth) {
    const raw = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i >= 0) {
      username = raw.slice(0, i);
      password = raw.slice(i + 1);
    }
  }
  return { username, password, serveraddress: key, ...(e.identitytoken ? { identitytoken: e.identitytoken } : {}) };
}

/** The stored credentials for a key (exact, else any stored key with the same host name), if any. */
export async function getCredentials(key: string, dir?: string): Promise<Credentials | undefined> {
  const cfg = await load(dir);
  const auths = cfg.auths ?? {};
  if (auths[key]) return decode(key, auths[key]!);
  if (key === INDEX_SERVER) return undefined;
  for (const [k, e] of Object.entries(auths)) {
    if (convertToHostname(k) === key) return decode(key, e);
  }
  return undefined;
}

/** Store credentials under `c.serveraddress` (a password is dropped when an identity token replaces it). */
export async function storeCredentials(c: Credentials, dir?: string): Promise<void> {
  const cfg = await load(dir);
  const helper = helperFor(cfg, c.serveraddress);
  if (helper) throw new Error(`Error saving credentials: credential helper "docker-credential-${helper}" is configured in ${configPath(dir)}: berth does not run credential helpers`);
  const entry: AuthEntry = {};
  if (c.username || c.password) entry.auth = Buffer.from(`${c.username}:${c.password}`).toString('base64');
  if (c.identitytoken) entry.identitytoken = c.identitytoken;
  cfg.auths = { ...(cfg.auths ?? {}), [c.serveraddress]: entry };
  await save(cfg, dir);
}

/** Remove the entries under these keys; resolves with the keys that were there. */
export async function eraseCredentials(keys: string[], dir?: string): Promise<string[]> {
  const cfg = await load(dir);
  const gone = keys.filter((k) => cfg.auths && Object.hasOwn(cfg.auths, k));
  if (!gone.length) return [];
  for (const k of gone) delete cfg.auths![k];
  await save(cfg, dir);
  return gone;
}

/**
 * The X-Registry-Auth header for a registry domain, as the docker CLI sends it: base64url JSON of
 * {username, password, serveraddress[, identitytoken]}; `e30=` ({}) when nothing is stored.
 */
export async function registryAuthHeader(domain: string, dir?: string): Promise<string> {
  let c: Credentials | undefined;
  try {
    c = await getCredentials(keyForDomain(domain), dir);
  } catch {
    c = undefined; // an unreadable config: anonymous, as a pull without login
  }
  if (!c || (!c.username && !c.identitytoken)) return 'e30=';
  const body: Record<string, string> = { username: c.username, password: c.password, serveraddress: c.serveraddress };
  if (c.identitytoken) {
    body.identitytoken = c.identitytoken;
    if (!c.password) delete body.password;
  }
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}
