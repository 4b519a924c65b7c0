/**
 * Registry authentication: WWW-Authenticate challenge parsing, the Docker token flow
 * (https://distribution.github.io/distribution/spec/auth/token/), and Basic auth.
 */
import type { AuthConfig } from '../images/types.js';
import { UnauthorizedError } from '../errors.js';
import { TokenError, parseRegistryErrors, RegistryHttpError } from './errors.js';
import { httpRequest, readBody } from './http.js';

export interface Challenge {
  /** Lower-cased scheme: 'bearer', 'basic'. */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse one or more challenges from WWW-Authenticate header values (RFC 7235):
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 * Parameter names are lower-cased; quoted values may contain commas and backslash escapes.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (!header) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    let current: Challenge | undefined;
    const skipWs = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
    const token = () => {
      const start = i;
      while (i < s.length && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(s[i]!)) i++;
      return s.slice(start, i);
    };
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') { i++; continue; }
      const word = token();
      if (!word) { i++; continue; }
      skipWs();
      if (s[i] === '=' && current) {
        // auth-param
        i++;
        skipWs();
        let val = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            val += s[i];
            i++;
          }
          i++; // closing quote
        } else {
          const start = i;
          while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
          val = s.slice(start, i);
        }
        current.params[word.toLowerCase()] = val;
      } else {
        // a new challenge (scheme); a token68 after it (Basic abc==) is ignored
        current = { scheme: word.toLowerCase(), params: {} };
        out.push(current);
        if (s[i] !== ',' && i < s.length) {
          const save = i;
          const t = token();
          skipWs();
          if (t && s[i] === '=') i = save; // it was a param name: parse it as such
          else while (i < s.length && s[i] !== ',') i++;
        }
      }
    }
  }
  return out;
}

/** Decoded username/password from an AuthConfig (username/password or base64 `auth`). */
export function basicCredentials(auth?: AuthConfig): { username: string; password: string } | undefined {
  if (!auth) return undefined;
  if (auth.username) return { username: auth.username, password: auth.password ?? '' };
  if (auth.auth) {
    const raw = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i > 0) return { username: raw.slice(0, i), password: raw.slice(i + 1) };
  }
  return undefined;
}

function basicHeader(c: { username: string; password: string }): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

interface CachedToken {
  token: string;
  expires: number;
}

export interface TokenAnswer extends CachedToken {
  /** An OAuth2 refresh token (asked for with offline_token=true): what /auth returns as IdentityToken. */
  refreshToken?: string;
}

export interface TokenRequest {
  realm: string;
  service: string;
  scopes: string[];
  auth?: AuthConfig;
  insecureTLS?: boolean;
  timeoutMs?: number;
  /** Ask for a refresh token (`offline_token=true`, `client_id`), as dockerd's login does. */
  offline?: { clientId: string };
}

/**
 * The message of a refused token request, as docker/distribution's HandleErrorResponse words it:
 * the registry's error entries, Docker Hub's `{"details": …}`, else `unauthorized: authentication required`.
 */
function tokenRefusal(body: Buffer): string {
  const first = parseRegistryErrors(body)[0];
  if (first) return RegistryHttpError.entryText(first);
  try {
    const v = JSON.parse(body.toString('utf8')) as { details?: unknown };
    if (typeof v.details === 'string' && v.details) return `unauthorized: ${v.details}`;
  } catch { /* not JSON */ }
  return 'unauthorized: authentication required';
}

/**
 * One request to a token endpoint (https://distribution.github.io/distribution/spec/auth/token/):
 * the OAuth2 refresh-token grant with an identity token, else a GET with Basic credentials (or none).
 * A 401/403 is a TokenError (UNAUTHORIZED) carrying the endpoint's reason.
 */
export async function requestToken(r: TokenRequest): Promise<TokenAnswer> {
  const creds = basicCredentials(r.auth);
  const http = { insecureTLS: r.insecureTLS, timeoutMs: r.timeoutMs };
  let res;
  if (r.auth?.identitytoken) {
    // OAuth2 refresh-token grant, as Docker does with an identity token.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r.auth.identitytoken, client_id: r.offline?.clientId ?? 'docker', service: r.service });
    if (r.offline) form.set('access_type', 'offline');
    if (r.scopes.length) form.set('scope', r.scopes.join(' '));
    res = await httpRequest(r.realm, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
      ...http,
    });
  } else {
    const url = new URL(r.realm);
    if (r.service) url.searchParams.set('service', r.service);
    for (const s of r.scopes) url.searchParams.append('scope', s);
    if (creds) url.searchParams.set('account', creds.username);
    if (r.offline && creds) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', r.offline.clientId);
    }
    const headers: Record<string, string> = {};
    if (creds) headers.Authorization = basicHeader(creds);
    res = await httpRequest(url.href, { headers, ...http });
  }
  const body = await readBody(res.body, 1024 * 1024);
  if (res.status === 401 || res.status === 403) throw new TokenError(tokenRefusal(body));
  if (res.status < 200 || res.status >= 300) {
    throw new TokenError(`token request to ${r.realm} failed: HTTP ${res.status}`);
  }
  let v: { token?: string; access_token?: string; refresh_token?: string; expires_in?: number; issued_at?: string };
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TokenError(`token endpoint ${r.realm} returned invalid JSON`);
  }
  const token = v.token || v.access_token;
  if (!token) throw new TokenError(`token endpoint ${r.realm} returned no token`);
  const ttl = Math.max(60, Number(v.expires_in) || 60);
  const issued = v.issued_at ? Date.parse(v.issued_at) : NaN;
  const start = Number.isFinite(issued) ? Math.min(issued, Date.now()) : Date.now();
  // Renew a little early.
  return { token, expires: start + ttl * 1000 - 5000, refreshToken: typeof v.refresh_token === 'string' && v.refresh_token ? v.refresh_token : undefined };
}

/** distribution's basic handler without credentials (ErrNoBasicAuthCredentials). */
export class NoBasicCredentialsError extends UnauthorizedError {
  constructor() {
    super('no basic auth credentials');
    this.name = 'NoBasicCredentialsError';
  }
}

/**
 * Turns a 401 challenge into an Authorization header value for one registry endpoint, caching
 * tokens per (realm, service, scope) until they expire.
 */
export class Authenticator {
  private tokens = new Map<string, CachedToken>();
  /** The challenge last seen from this endpoint, so later requests authenticate up front. */
  private challenge: Challenge | undefined;

  constructor(
    private readonly auth: AuthConfig | undefined,
    private readonly opts: { insecureTLS?: boolean; timeoutMs?: number } = {},
  ) {}

  /** The Authorization header to send before any 401 (from a remembered challenge). */
  async headerFor(scope: string): Promise<string | undefined> {
    if (!this.challenge) return this.auth?.registrytoken ? `Bearer ${this.auth.registrytoken}` : undefined;
    return this.answer(this.challenge, scope, false);
  }

  /** React to a 401: remember its challenge and produce the header for a retry (undefined: cannot). */
  async onUnauthorized(wwwAuthenticate: string | string[] | undefined, scope: string): Promise<string | undefined> {
    const challenges = parseChallenges(wwwAuthenticate);
    const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!ch) return undefined;
    this.challenge = ch;
    return this.answer(ch, scope, true);
  }

  private async answer(ch: Challenge, scope: string, fresh: boolean): Promise<string | undefined> {
    if (ch.scheme === 'basic') {
      const c = basicCredentials(this.auth);
      if (!c) throw new NoBasicCredentialsError();
      return basicHeader(c);
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (this.auth?.registrytoken) return `Bearer ${this.auth.registrytoken}`;
    const realm = ch.params.realm;
    if (!realm) throw new TokenError('bearer challenge without a realm');
    const service = ch.params.service ?? '';
    // Scopes the registry asked for plus ours (it may ask for more, e.g. on cross-repo mounts).
    const scopes = [...new Set([scope, ...(ch.params.scope ? ch.params.scope.split(' ') : [])].filter(Boolean))];
    const key = `${realm}\n${service}\n${scopes.join(' ')}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now() && !fresh) return `Bearer ${cached.token}`;
    if (cached && cached.expires > Date.now() && fresh) {
      // A 401 with a cached token means it was not good enough; fetch a new one.
      this.tokens.delete(key);
    }
    const token = await this.fetchToken(realm, service, scopes);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private fetchToken(realm: string, service: string, scopes: string[]): Promise<CachedToken> {
    return requestToken({ realm, service, scopes, auth: this.auth, insecureTLS: this.opts.insecureTLS, timeoutMs: this.opts.timeoutMs });
  }
}
