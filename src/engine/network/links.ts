/**
 * Legacy links (`--link name[:alias]`) on the default bridge, as dockerd keeps them: stored as
 * "/child:/parent/alias" in HostConfig.Links, checked at create, and at start turned into an
 * /etc/hosts record (`IP  alias hostname name`) and the environment variables old images read
 * (ALIAS_PORT…, ALIAS_NAME, ALIAS_ENV_…). The child must be running on the default bridge.
 */
import { ConflictError, InvalidParameterError } from '../errors.js';
import type { ExtraHost } from './etc-files.js';
import type { NetworkedContainer } from './types.js';

export interface LinkedContainer extends NetworkedContainer {
  Config: NetworkedContainer['Config'] & { Env?: string[] };
}

export interface LinkLookup {
  get(ref: string): LinkedContainer;
  isRunning(id: string): boolean;
}

interface Link { child: string; alias: string }

/** "/child:/parent/alias" (or "child:alias", "child") → the child's name and the alias. */
function parseLink(entry: string): Link {
  if (typeof entry !== 'string' || !entry) throw new InvalidParameterError(`invalid link: ${JSON.stringify(entry)}`);
  const [rawChild, rawAlias] = entry.split(':', 2);
  const child = rawChild.replace(/^\//, '');
  const alias = (rawAlias ?? child).split('/').pop()!;
  if (!child || !alias) throw new InvalidParameterError(`invalid link: ${entry}`);
  return { child, alias };
}

/** At create: every child exists and may be linked; returns Links in dockerd's stored form. */
export function normalizeLinks(rec: NetworkedContainer, links: unknown, lookup: LinkLookup): string[] | null {
  if (links === undefined || links === null) return null;
  if (!Array.isArray(links)) throw new InvalidParameterError('invalid JSON: field Links must be a list of strings');
  if (links.length === 0) return null;
  const mode = rec.HostConfig.NetworkMode || 'default';
  if (mode === 'host') throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  if (mode !== 'default' && mode !== 'bridge') {
    throw new InvalidParameterError('legacy links (--link) are supported by Berth on the default bridge network only; use a user-defined network and its DNS names');
  }
  return links.map((entry) => {
    const l = parseLink(entry as string);
    const child = lookup.get(l.child);
    if ((child.HostConfig.NetworkMode || 'default') === 'host') {
      throw new InvalidParameterError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    }
    return `/${child.Name}:/${rec.Name}/${l.alias}`;
  });
}

/** The running children with their default-bridge addresses (dockerd refuses a stopped one). */
function resolved(rec: NetworkedContainer, lookup: LinkLookup): Array<{ link: Link; child: LinkedContainer; ip: string }> {
  const links = (rec.HostConfig as { Links?: string[] | null }).Links ?? [];
  return links.map((entry) => {
    const link = parseLink(entry);
    const child = lookup.get(link.child);
    const ip = child.NetworkSettings?.Networks?.bridge?.IPAddress ?? '';
    if (!lookup.isRunning(child.Id) || !ip) {
      throw new ConflictError(`Cannot link to a non running container: /${child.Name} AS /${rec.Name}/${link.alias}`);
    }
    return { link, child, ip };
  });
}

/** /etc/hosts records: the alias, the child's hostname and (when different) its name. */
export function linkHosts(rec: NetworkedContainer, lookup: LinkLookup): ExtraHost[] {
  return resolved(rec, lookup).map(({ link, child, ip }) => {
    const names = [link.alias, child.Config.Hostname];
    if (link.alias !== child.Name) names.push(child.Name);
    return { name: names.join(' '), ip };
  });
}

/** The environment variables of every link, in dockerd's order. */
export function linkEnv(rec: NetworkedContainer, lookup: LinkLookup): string[] {
  return resolved(rec, lookup).flatMap(({ link, child, ip }) =>
    linkVariables(`/${rec.Name}/${link.alias}`, ip, child.Config.Env ?? [], Object.keys(child.Config.ExposedPorts ?? {})));
}

interface Port { num: number; proto: string }

/** TCP first, then by number; other protocols by name, then number. */
function byTcpFirst(a: Port, b: Port): number {
  if (a.proto === b.proto) return a.num - b.num;
  if (a.proto === 'tcp') return -1;
  if (b.proto === 'tcp') return 1;
  return a.proto < b.proto ? -1 : 1;
}

/** One link's variables: each port (and each run of consecutive ports as a range), the name, the child's Env. */
export function linkVariables(name: string, childIp: string, childEnv: readonly string[], exposed: readonly string[]): string[] {
  const alias = name.split('/').pop()!.toUpperCase().replaceAll('-', '_');
  const ports: Port[] = exposed.map((k) => {
    const [num, proto = 'tcp'] = k.split('/');
    return { num: Number(num), proto };
  }).sort(byTcpFirst);
  const env: string[] = [];
  let start = ports[0];
  let end = ports[0];
  ports.forEach((p, i) => {
    if (i === 0) env.push(`${alias}_PORT=${p.proto}://${childIp}:${p.num}`);
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${p.proto}://${childIp}:${p.num}`, `${prefix}_ADDR=${childIp}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    if (p.num === end.num + 1 && p.proto === end.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const r = `${alias}_PORT_${start.num}_${start.proto.toUpperCase()}`;
      env.push(`${r}_START=${start.proto}://${childIp}:${start.num}`, `${r}_PORT_START=${start.num}`,
        `${r}_END=${end.proto}://${childIp}:${end.num}`, `${r}_PORT_END=${end.num}`);
    }
    start = p;
    end = p;
  });
  env.push(`${alias}_NAME=${name}`);
  for (const v of childEnv) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const key = v.slice(0, eq);
    if (key === 'HOME' || key === 'PATH') continue; // as dockerd: build-time noise
    env.push(`${alias}_ENV_${key}=${v.slice(eq + 1)}`);
  }
  return env;
}

/** `docker rm --link /parent/alias`: the parent's Links without that one (undefined: no such link). */
export function withoutLink(links: readonly string[] | null | undefined, alias: string): string[] | undefined {
  const kept = (links ?? []).filter((entry) => parseLink(entry).alias !== alias);
  return kept.length === (links ?? []).length ? undefined : kept;
}
