/**
 * A container's /etc/hosts and /etc/resolv.conf (kept in its folder, bind-mounted by the spec),
 * rendered in one place for the container service (at create) and the sandbox (at start).
 */
import { readFile } from 'node:fs/promises';
import { nameservers } from './dns.js';

const LOCAL_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n'
  + 'ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** Docker's defaults when none of the host's resolvers is reachable from the container. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/** /etc/hosts: localhost, then the container's name on each of its addresses (127.0.1.1 without one). */
export function renderHosts(config: { Hostname: string; Domainname: string }, addresses: readonly string[]): string {
  const h = config.Hostname;
  const names = config.Domainname ? `${h}.${config.Domainname} ${h}` : h;
  const lines = (addresses.length ? addresses : ['127.0.1.1']).map((ip) => `${ip}\t${names}\n`);
  return LOCAL_HOSTS + lines.join('');
}

/**
 * Which resolvers a container uses: `host` — the host's file as it is (the host's network, where
 * loopback resolvers answer); `private` — its own namespace, so loopback resolvers are dropped
 * (Docker's fallback when none is left); `{ embeddedDns }` — our DNS server on a user-defined
 * network's gateway, with the host's search domains and options.
 */
export type ResolverChoice = 'host' | 'private' | { embeddedDns: string };

export function renderResolvConf(hostResolvConf: string, use: ResolverChoice): string {
  if (use === 'host') return hostResolvConf;
  const lines = hostResolvConf.split('\n');
  const search = lines.filter((l) => /^\s*(search|domain)\s/.test(l));
  const options = lines.filter((l) => /^\s*options\s/.test(l));
  if (use !== 'private') return [...search, `nameserver ${use.embeddedDns}`, ...options, 'options ndots:0', ''].join('\n');
  let servers = nameservers(hostResolvConf).filter((s) => !s.startsWith('127.'));
  if (servers.length === 0) servers = FALLBACK_NAMESERVERS;
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
