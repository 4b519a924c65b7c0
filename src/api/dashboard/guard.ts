/**
 * Who may use the dashboard's endpoints. The dashboard drives the Engine API (root-equivalent),
 * so every request must come from this machine's browser, from the dashboard's own page:
 *
 * - Host must name the loopback address and our port (`127.0.0.1:PORT` or `localhost:PORT`): a
 *   DNS-rebinding page (evil.example resolving to 127.0.0.1) sends its own name and is refused.
 * - Origin, when the browser sends one (every fetch/XHR that is not a plain GET, every
 *   WebSocket), must be the dashboard's own origin; a state-changing request without Origin is
 *   refused. `Sec-Fetch-Site` other than `same-origin`/`none` is refused (cookies are not
 *   port-scoped: a page on another 127.0.0.1 port is "same-site" and would carry the cookie).
 * - The per-install token, from the `berth_dashboard` cookie (set when the URL printed by
 *   `berth dashboard` is opened) or an `X-Berth-Token` header, compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const COOKIE = 'berth_dashboard';
export const TOKEN_HEADER = 'x-berth-token';

export interface Refusal { status: 401 | 403 | 421; message: string }

/** The origins the dashboard's page may have on `port`. */
export function dashboardOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/** Host and Origin checks, done before anything else (static files included). */
export function checkSite(headers: IncomingHttpHeaders, method: string, port: number): Refusal | undefined {
  const host = headers.host;
  if (!host || !dashboardOrigins(port).includes(`http://${host.toLowerCase()}`)) {
    return { status: 421, message: `the dashboard answers only to http://127.0.0.1:${port} (Host ${JSON.stringify(host ?? '')} refused)` };
  }
  const origin = headers.origin;
  if (origin !== undefined && !dashboardOrigins(port).includes(origin.toLowerCase())) {
    return { status: 403, message: `cross-origin request refused (Origin ${JSON.stringify(origin)})` };
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site ${JSON.stringify(site)})` };
  }
  const safe = method === 'GET' || method === 'HEAD';
  if (!safe && origin === undefined) {
    return { status: 403, message: `${method} without an Origin header refused` };
  }
  return undefined;
}

/** The token the request carries (header first, then cookie). */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const h = headers[TOKEN_HEADER];
  if (typeof h === 'string' && h) return h;
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The full check of an API or WebSocket request. */
export function checkApiRequest(headers: IncomingHttpHeaders, method: string, port: number, token: string): Refusal | undefined {
  const site = checkSite(headers, method, port);
  if (site) return site;
  if (!tokenMatches(presentedToken(headers), token)) {
    return { status: 401, message: 'the dashboard token is missing or wrong: open the URL that `berth dashboard` prints' };
  }
  return undefined;
}

/** The Set-Cookie value that keeps the token in this browser: HttpOnly, this host only, strict. */
export function tokenCookie(token: string): string {
  return `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000`;
}
