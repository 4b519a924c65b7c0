/**
 * A container's /etc/hosts and /etc/resolv.conf (kept in its folder, bind-mounted by the spec),
 * rendered in one place for the container service (at create) and the sandbox (at start).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { InvalidParameterError } from '../../wire/errors.js';
import { nameservers } from './dns.js';

const LOCAL_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n'
  + 'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** Docker's defaults when none of the host's resolvers is reachable from the container. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/** The create options that shape these files (HostConfig's Dns, DnsSearch, DnsOptions, ExtraHosts). */
export interface EtcOptions {
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  ExtraHosts?: string[] | null;
}

/** `--add-host name:ip`: the value that stands for the host's address on the default bridge. */
export const HOST_GATEWAY = 'host-gateway';

export interface ExtraHost { name: string; ip: string }

/**
 * One ExtraHosts entry, `name:ip` or `name=ip` (the IP may be IPv6, bracketed or not, so only the
 * first separator splits), as dockerd validates it.
 */
export function parseExtraHost(entry: string): ExtraHost {
  let sep = entry.indexOf('=');
  if (sep < 0) sep = entry.indexOf(':');
  const name = sep < 0 ? '' : entry.slice(0, sep);
  let ip = sep < 0 ? '' : entry.slice(sep + 1);
  if (!name || /\s/.test(name)) throw new InvalidParameterError(`bad format for add-host: "${entry}"`);
  if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== HOST_GATEWAY && !isIP(ip)) throw new InvalidParameterError(`invalid IP address in add-host: "${ip}"`);
  return { name, ip };
}

/** Create-time checks of the options above: 400 naming the bad value, before anything is made. */
export function validateEtcOptions(o: EtcOptions): void {
  for (const ip of o.Dns ?? []) {
    if (!isIP(ip)) throw new InvalidParameterError(`invalid IP address in Dns: "${ip}"`);
  }
  for (const d of o.DnsSearch ?? []) {
    if (!d || /\s/.test(d)) throw new InvalidParameterError(`invalid DNS search domain: "${d}"`);
  }
  for (const opt of o.DnsOptions ?? []) {
    if (!opt || /\s/.test(opt)) throw new InvalidParameterError(`invalid DNS option: "${opt}"`);
  }
  for (const h of o.ExtraHosts ?? []) parseExtraHost(h);
}

/**
 * ExtraHosts as /etc/hosts records, `host-gateway` replaced by `hostGateway` (the default bridge's
 * address); without one, such an entry cannot be honoured and the start fails, as in dockerd.
 */
export function extraHostRecords(entries: readonly string[] | null | undefined, hostGateway: string | undefined): ExtraHost[] {
  return (entries ?? []).map((e) => {
    const h = parseExtraHost(e);
    if (h.ip !== HOST_GATEWAY) return h;
    if (!hostGateway) throw new InvalidParameterError('unable to derive the IP value for host-gateway');
    return { name: h.name, ip: hostGateway };
  });
}

/**
 * /etc/hosts as dockerd lays it out: localhost, then the --add-host records, then the container's
 * name on each of its addresses (127.0.1.1 without one).
 */
export function renderHosts(config: { Hostname: string; Domainname: string }, addresses: readonly string[], extra: readonly ExtraHost[] = []): string {
  const h = config.Hostname;
  const names = config.Domainname ? `${h}.${config.Domainname} ${h}` : h;
  const lines = (addresses.length ? addresses : ['127.0.1.1']).map((ip) => `${ip}\t${names}\n`);
  return LOCAL_HOSTS + extra.map((r) => `${r.ip}\t${r.name}\n`).join('') + lines.join('');
}

/**
 * Which resolvers a container uses: `host` — the host's file as it is (the host's network, where
 * loopback resolvers answer); `private` — its own namespace, so loopback resolvers are dropped
 * (Docker's fallback when none is left); `{ embeddedDns }` — our DNS server on a user-defined
 * network's gateway, which relays other names to the container's --dns servers or the host's.
 * --dns, --dns-search and --dns-option replace the host's servers, search domains and options
 * (a search of "." means none).
 */
export type ResolverChoice = 'host' | 'private' | { embeddedDns: string };

export function renderResolvConf(hostResolvConf: string, use: ResolverChoice, custom: EtcOptions = {}): string {
  const own = (v: string[] | null | undefined): v is string[] => !!v && v.length > 0;
  if (use === 'host' && !own(custom.Dns) && !own(custom.DnsSearch) && !own(custom.DnsOptions)) return hostResolvConf;
  const lines = hostResolvConf.split('\n');
  const search = own(custom.DnsSearch)
    ? (custom.DnsSearch.every((d) => d === '.') ? [] : [`search ${custom.DnsSearch.filter((d) => d !== '.').join(' ')}`])
    : lines.filter((l) => /^\s*(search|domain)\s/.test(l));
  const options = own(custom.DnsOptions) ? [`options ${custom.DnsOptions.join(' ')}`] : lines.filter((l) => /^\s*options\s/.test(l));
  if (use !== 'private' && use !== 'host') {
    const ndots = own(custom.DnsOptions) && custom.DnsOptions.some((o) => o.startsWith('ndots:'));
    return [...search, `nameserver ${use.embeddedDns}`, ...options, ...(ndots ? [] : ['options ndots:0']), ''].join('\n');
  }
  let servers = own(custom.Dns) ? custom.Dns : nameservers(hostResolvConf);
  if (use === 'private' && !own(custom.Dns)) {
    servers = servers.filter((s) => !s.startsWith('127.'));
    if (servers.length === 0) servers = FALLBACK_NAMESERVERS;
  }
  return [...search, ...servers.map((s) => `nameserver ${s}`), ...options, ''].join('\n');
}

/** The host's resolv.conf text ('' when it has none). */
export async function readHostResolvConf(path = '/etc/resolv.conf'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return ''; // no resolv.conf on the host: the container gets none either (or the fallback)
  }
}
