/**
 * Which base URLs to try for a registry domain, in order, as Docker's registry service does
 * (LookupPullEndpoints): Docker Hub names go to the configured mirrors first and then to the real
 * endpoint; loopback registries speak plain HTTP; `insecure-registries` try HTTPS without
 * certificate verification and then plain HTTP; everything else is HTTPS.
 */
import { isIP } from 'node:net';
import { InvalidParameterError } from '../errors.js';

/** Docker Hub's registry API endpoint: the only public registry host named in Berth's code. */
export const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';
export const DOCKER_HUB_DOMAIN = 'docker.io';
/** Docker Hub's legacy index address: the key clients use for Hub credentials and /info's IndexServerAddress. */
export const DOCKER_HUB_INDEX_SERVER = 'https://index.docker.io/v1/';

export interface Endpoint {
  /** Base URL without trailing slash: 'http://127.0.0.1:5000'. */
  url: string;
  /** A mirror of Docker Hub: any failure before the layers start falls back to the next endpoint. */
  mirror: boolean;
  /** Skip TLS certificate verification. */
  insecureTLS: boolean;
  /** Try the next endpoint when this one cannot be reached at all (insecure https → http). */
  fallbackOnNetworkError: boolean;
}

export interface EndpointConfig {
  /** daemon.json `registry-mirrors`: URLs (scheme optional, https assumed). */
  mirrors?: string[];
  /** daemon.json `insecure-registries`: 'host:port', 'host' or CIDR '10.0.0.0/8'. */
  insecure?: string[];
  /** Override of Docker Hub's endpoint (tests point it at loopback). */
  hubEndpoint?: string;
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const i = domain.lastIndexOf(':');
  return i >= 0 && domain.indexOf(':') === i ? domain.slice(0, i) : domain;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  if (!net || isIP(net) !== 4 || isIP(ip) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

/** Loopback registries (localhost, 127.0.0.0/8, ::1) are insecure by default, as in Docker. */
export function isLoopback(domain: string): boolean {
  const h = hostOf(domain).toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && inCidr(h, '127.0.0.0/8'));
}

export function isInsecure(domain: string, insecure: string[] = []): boolean {
  if (isLoopback(domain)) return true;
  const h = hostOf(domain);
  for (const entry of insecure) {
    const e = entry.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
    if (e.includes('/')) {
      if (inCidr(h, e)) return true;
    } else if (e === domain || e === h) {
      return true;
    }
  }
  return false;
}

/** Normalize a mirror URL: scheme added when missing, trailing slashes and a /v2 suffix removed. */
export function normalizeMirror(raw: string): string {
  let s = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = 'https://' + s;
  const u = new URL(s);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidParameterError(`invalid mirror URL ${raw}: unsupported scheme`);
  let p = u.pathname.replace(/\/+$/, '');
  if (p.endsWith('/v2')) p = p.slice(0, -3);
  return `${u.protocol}//${u.host}${p}`;
}

export function resolveEndpoints(domain: string, cfg: EndpointConfig = {}): Endpoint[] {
  const insecure = cfg.insecure ?? [];
  if (domain === DOCKER_HUB_DOMAIN) {
    const out: Endpoint[] = [];
    for (const m of cfg.mirrors ?? []) {
      const url = normalizeMirror(m);
      const host = new URL(url).host;
      out.push({ url, mirror: true, insecureTLS: url.startsWith('https:') && isInsecure(host, insecure), fallbackOnNetworkError: true });
    }
    const hub = cfg.hubEndpoint ?? process.env.BERTH_HUB_ENDPOINT ?? DOCKER_HUB_ENDPOINT;
    out.push({ url: hub.replace(/\/+$/, ''), mirror: false, insecureTLS: false, fallbackOnNetworkError: false });
    return out;
  }
  if (isLoopback(domain)) {
    return [{ url: `http://${domain}`, mirror: false, insecureTLS: false, fallbackOnNetworkError: false }];
  }
  if (isInsecure(domain, insecure)) {
    return [
      { url: `https://${domain}`, mirror: false, insecureTLS: true, fallbackOnNetworkError: true },
      { url: `http://${domain}`, mirror: false, insecureTLS: false, fallbackOnNetworkError: false },
    ];
  }
  return [{ url: `https://${domain}`, mirror: false, insecureTLS: false, fallbackOnNetworkError: false }];
}
