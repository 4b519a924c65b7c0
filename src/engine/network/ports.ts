/**
 * Published ports: HostConfig.PortBindings, ExposedPorts and PublishAllPorts (-p, -P) → the
 * bindings to set up, and the two shapes the API reports them in (inspect's
 * NetworkSettings.Ports map and the list's Ports array).
 */
import { InvalidParameterError } from '../errors.js';

export type Proto = 'tcp' | 'udp' | 'sctp';

export interface PortRequest {
  proto: Proto;
  containerPort: number;
  /** '' or 0.0.0.0 = all IPv4 addresses */
  hostIp: string;
  /** first and last acceptable host port; 0/0 = any (an ephemeral one) */
  hostPortStart: number;
  hostPortEnd: number;
}

export interface PortMapping { proto: Proto; containerPort: number; hostIp: string; hostPort: number }

/** "80/tcp", "53/udp", "8080" → port and protocol. */
export function parsePortKey(key: string): { port: number; proto: Proto } {
  const [p, protoRaw = 'tcp'] = key.split('/');
  const proto = protoRaw.toLowerCase();
  const port = Number(p);
  if (!/^\d+$/.test(p) || port < 1 || port > 65535) throw new InvalidParameterError(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new InvalidParameterError(`invalid proto: ${protoRaw}`);
  return { port, proto };
}

/** "", "8080", "8000-8010" → the range (0,0 means any). */
export function parseHostPort(s: string | undefined): [number, number] {
  if (!s) return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s.trim());
  if (!m) throw new InvalidParameterError(`invalid hostPort: ${s}`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw new InvalidParameterError(`invalid hostPort: ${s}`);
  return [a, b];
}

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined;

/**
 * What to publish: explicit bindings, then (with -P) every exposed port not bound yet. A binding
 * without a host address gets `defaultHostIp` (the network's host_binding_ipv4).
 */
export function portRequests(bindings: Bindings, exposed: Record<string, object> | undefined, publishAll: boolean, defaultHostIp = '0.0.0.0'): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, proto } = parsePortKey(key);
    bound.add(`${port}/${proto}`);
    for (const b of list ?? [{}]) {
      const [s, e] = parseHostPort(b.HostPort);
      const hostIp = b.HostIp || defaultHostIp;
      if (hostIp.includes(':')) continue; // IPv6 publishing is not supported (no IPv6 on bridges)
      out.push({ proto, containerPort: port, hostIp, hostPortStart: s, hostPortEnd: e });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, proto } = parsePortKey(key);
      if (bound.has(`${port}/${proto}`)) continue;
      out.push({ proto, containerPort: port, hostIp: defaultHostIp, hostPortStart: 0, hostPortEnd: 0 });
    }
  }
  return out;
}

/** inspect's NetworkSettings.Ports: every exposed or published port; null when not published. */
export function portMap(mappings: PortMapping[], exposed: Record<string, object> | undefined): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposed ?? {})) {
    try {
      const { port, proto } = parsePortKey(key);
      map[`${port}/${proto}`] = null;
    } catch { /* ignore odd keys */ }
  }
  for (const m of mappings) {
    const key = `${m.containerPort}/${m.proto}`;
    (map[key] ??= []).push({ HostIp: m.hostIp, HostPort: String(m.hostPort) });
  }
  return map;
}

/** Inverse of portMap, for re-establishing rules and proxies after a daemon restart. */
export function mappingsOf(map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, list] of Object.entries(map ?? {})) {
    const { port, proto } = parsePortKey(key);
    for (const b of list ?? []) out.push({ proto, containerPort: port, hostIp: b.HostIp, hostPort: Number(b.HostPort) });
  }
  return out;
}
