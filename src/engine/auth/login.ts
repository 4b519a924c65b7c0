/**
 * `POST /auth`: checks credentials against a registry as dockerd's loginV2 does. The registry's
 * `/v2/` is pinged for its challenge; a Bearer challenge is answered by a token request with the
 * credentials (no scope, `offline_token=true`, `client_id=docker`), a Basic one by Basic
 * credentials; then `/v2/` must answer 200. Mirrors never see the credentials.
 */
import type { AuthConfig } from '../images/types.js';
import { BerthError, InvalidParameterError, SystemError, UnauthorizedError } from '../errors.js';
import { basicCredentials, NoBasicCredentialsError, parseChallenges, requestToken } from '../distribution/auth.js';
import { DOCKER_HUB_DOMAIN, resolveEndpoints, type Endpoint, type EndpointConfig } from '../distribution/endpoints.js';
import { discard, httpRequest } from '../distribution/http.js';
import { STATUS_CODES } from 'node:http';

export interface LoginResult {
  Status: string;
  IdentityToken: string;
}

/** dockerd's AuthClientID: the client_id of the token request, so a registry can tell logins apart. */
const AUTH_CLIENT_ID = 'docker';

/**
 * The registry host of a server address ('https://index.docker.io/v1/', 'host:5000', 'http://host/'),
 * as dockerd's parseRegistryHostName (and the index name normalized: index.docker.io → docker.io).
 */
export function registryHostOf(serverAddress: string | undefined): string {
  if (!serverAddress) return DOCKER_HUB_DOMAIN;
  const withScheme = serverAddress.includes('://') ? serverAddress : `https://${serverAddress}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new InvalidParameterError(`invalid server address: unable to parse: parse "${withScheme}": invalid URL`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new InvalidParameterError(`invalid server address "${serverAddress}": unsupported URL scheme "${scheme}": must be "http" or "https"`);
  }
  const host = u.host;
  return host === 'index.docker.io' ? DOCKER_HUB_DOMAIN : host;
}

/** Check the credentials; resolves with dockerd's answer, throws its errors (401 on refused credentials). */
export async function login(auth: AuthConfig, cfg: EndpointConfig & { timeoutMs?: number } = {}): Promise<LoginResult> {
  const host = registryHostOf(auth.serveraddress);
  const endpoints = resolveEndpoints(host, cfg).filter((e) => !e.mirror);
  let last: unknown;
  for (const ep of endpoints) {
    try {
      const token = await loginV2(auth, ep, cfg.timeoutMs ?? 15_000);
      return { Status: 'Login Succeeded', IdentityToken: token };
    } catch (e) {
      // Refused credentials: the next (plain HTTP) endpoint is not tried, as dockerd.
      if (e instanceof UnauthorizedError) throw e;
      last = e;
    }
  }
  if (last instanceof BerthError) throw last;
  throw new SystemError(last instanceof Error ? last.message : String(last), last);
}

async function loginV2(auth: AuthConfig, ep: Endpoint, timeoutMs: number): Promise<string> {
  const url = `${ep.url}/v2/`;
  const http = { insecureTLS: ep.insecureTLS, timeoutMs };
  const ping = await httpRequest(url, http);
  discard(ping.body);
  const challenges = ping.status === 401 ? parseChallenges(ping.headers['www-authenticate']) : [];
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  const basic = challenges.find((c) => c.scheme === 'basic');
  let authorization: string | undefined;
  let identityToken = '';
  try {
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw new SystemError(`Get "${url}": bearer challenge without a realm`);
      const t = await requestToken({ realm, service: bearer.params.service ?? '', scopes: [], auth, ...http, offline: { clientId: AUTH_CLIENT_ID } });
      authorization = `Bearer ${t.token}`;
      identityToken = t.refreshToken ?? auth.identitytoken ?? '';
    } else if (basic) {
      const c = basicCredentials(auth);
      if (!c) throw new NoBasicCredentialsError();
      authorization = 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
    }
  } catch (e) {
    if (e instanceof UnauthorizedError) throw new UnauthorizedError(`Get "${url}": ${e.message}`);
    throw e;
  }
  const res = await httpRequest(url, { ...http, headers: authorization ? { Authorization: authorization } : {} });
  discard(res.body);
  if (res.status !== 200) {
    // dockerd's wording. dockerd answers it as a 500; a refusal (401/403) is a 401 here, so that
    // clients can tell refused credentials from a broken registry (the CLI's "Stored credentials invalid").
    const message = `login attempt to ${url} failed with status: ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd();
    if (res.status === 401 || res.status === 403) throw new UnauthorizedError(message);
    throw new SystemError(message);
  }
  return identityToken;
}
