/**
 * The embedded DNS servers' lifecycle (one per user-defined bridge network, on its gateway
 * address; dns.ts holds the server and its codec) and the names they answer: a running
 * container's name, aliases, short ID and hostname on that network.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { DnsServer, nameservers } from './dns.js';
import { endpointOn } from './endpoints.js';
import type { NetworkedContainer, NetworkRecord } from './types.js';

/** The containers the servers answer for. */
export interface DnsContainers {
  all(): NetworkedContainer[];
  isRunning(id: string): boolean;
}

export class DnsServers {
  private readonly servers = new Map<string, DnsServer>();

  constructor(private readonly containers: DnsContainers) {}

  async start(n: NetworkRecord): Promise<void> {
    if (this.servers.has(n.Id)) return;
    const server = new DnsServer(n.ipam!.gateway, (name) => this.resolve(n, name), (from) => this.upstream(n, from));
    await server.start();
    this.servers.set(n.Id, server);
  }

  stop(n: NetworkRecord): void {
    this.servers.get(n.Id)?.close();
    this.servers.delete(n.Id);
  }

  /** Daemon shutdown: every socket closes. */
  close(): void {
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
  }

  /** Where to relay a query from `from`: that container's --dns servers (IPv4 ones), else the host's. */
  upstream(n: NetworkRecord, from: string): string[] {
    const asker = this.containers.all().find((rec) => endpointOn(rec, n)?.[1].IPAddress === from);
    const own = (asker?.HostConfig.Dns ?? []).filter((ip) => isIPv4(ip));
    if (own.length) return own;
    // No resolv.conf on the host: nothing to relay to, so other names get SERVFAIL.
    try { return nameservers(readFileSync('/etc/resolv.conf', 'utf8')); } catch { return []; }
  }

  /** Addresses on network `n` for a container name, alias or short ID; undefined when not ours. */
  resolve(n: NetworkRecord, name: string): string[] | undefined {
    const out: string[] = [];
    for (const rec of this.containers.all()) {
      if (!this.containers.isRunning(rec.Id)) continue;
      const ep = endpointOn(rec, n)?.[1];
      if (!ep?.IPAddress) continue;
      const names = [rec.Name, ...(ep.Aliases ?? []), rec.Id.slice(0, 12), rec.Config.Hostname].map((s) => s.toLowerCase());
      if (names.includes(name)) out.push(ep.IPAddress);
    }
    return out.length ? out : undefined;
  }
}
