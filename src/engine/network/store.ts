/**
 * The network records: `<data root>/network/networks.json` (atomic), holding every network with
 * its address plan (the private `ipam` and `bridge` fields), and the predefined networks
 * (bridge → the daemon's own bridge interface, host, none) made or updated from the daemon's config.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NotFoundError } from '../errors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { rfc3339NanoFromNs, nowNs } from '../../util/time.js';
import type { NetworkConfig } from './config.js';
import { Ipam } from './ipam.js';
import { cidrString, intToIp, parseCidr } from './ipv4.js';
import type { NetworkRecord } from './types.js';

/** bridge, host and none: made by the daemon, never created, removed or pruned by a user. */
export function isPredefined(name: string): boolean {
  return name === 'bridge' || name === 'host' || name === 'none';
}

/** Whether a network gets our embedded DNS (user-defined bridges; the default bridge has none, as in Docker). */
export function hasEmbeddedDns(n: NetworkRecord): boolean {
  return n.Driver === 'bridge' && n.Name !== 'bridge';
}

export function newNetworkRecord(name: string, driver: NetworkRecord['Driver'], options: Record<string, string>): NetworkRecord {
  return {
    Name: name, Id: randomBytes(32).toString('hex'), Created: rfc3339NanoFromNs(nowNs()), Scope: 'local', Driver: driver,
    EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false,
    Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: options, Labels: {},
  };
}

export class NetworkStore {
  private networks: NetworkRecord[] = [];
  /** The bridge names networks.json held when loaded (bridges.ts adopts those made before bridges were marked). */
  private loadedBridges = new Set<string>();

  constructor(private readonly file: string) {}

  /** Read networks.json (none yet: an empty list) and make or update the predefined networks. */
  load(cfg: NetworkConfig): void {
    try {
      this.networks = JSON.parse(readFileSync(this.file, 'utf8')) as NetworkRecord[];
    } catch {
      this.networks = []; // first start (or an unreadable file): the predefined networks are made anew
    }
    this.loadedBridges = new Set(this.networks.map((n) => n.bridge).filter((b): b is string => !!b));
    this.ensurePredefined(cfg);
  }

  private ensurePredefined(cfg: NetworkConfig): void {
    const bip = parseCidr(cfg.bip);
    const subnet = cidrString(bip);
    const gateway = intToIp(bip.ip);
    let bridge = this.networks.find((n) => n.Name === 'bridge');
    if (!bridge) {
      bridge = newNetworkRecord('bridge', 'bridge', {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': cfg.bridge,
        'com.docker.network.driver.mtu': '1500',
      });
      bridge.IPAM.Options = null;
      this.networks.unshift(bridge);
    }
    // A changed bip or bridge name (daemon.json) applies on the next start.
    if (!bridge.ipam || bridge.ipam.subnet !== subnet || bridge.ipam.gateway !== gateway) {
      bridge.ipam = Ipam.create(subnet, gateway).state;
    }
    bridge.bridge = cfg.bridge;
    bridge.Options['com.docker.network.bridge.name'] = cfg.bridge;
    bridge.IPAM.Config = [{ Subnet: subnet, Gateway: gateway }];
    if (!this.networks.some((n) => n.Name === 'host')) this.networks.push(newNetworkRecord('host', 'host', {}));
    if (!this.networks.some((n) => n.Name === 'none')) this.networks.push(newNetworkRecord('none', 'null', {}));
  }

  /** Whether networks.json named this bridge when the daemon started. */
  hadBridge(name: string): boolean { return this.loadedBridges.has(name); }

  async persist(): Promise<void> {
    await writeJsonAtomic(this.file, this.networks);
  }

  /** By full ID, then name, then unique ID prefix. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.networks.find((n) => n.Id === ref) ?? this.networks.find((n) => n.Name === ref);
    if (exact || !ref) return exact;
    const byPrefix = this.networks.filter((n) => n.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  /** The network of an endpoint: by its NetworkID, else by the name it is kept under. */
  /** `host-gateway` in --add-host: the default bridge's address (none with `--bridge none`). */
  hostGateway(): string | undefined {
    return this.all().find((n) => n.Name === 'bridge' && n.Driver === 'bridge')?.ipam?.gateway;
  }

  ofEndpoint(networkId: string, name: string): NetworkRecord | undefined {
    return this.networks.find((n) => n.Id === networkId) ?? this.find(name);
  }

  all(): NetworkRecord[] { return [...this.networks]; }

  add(n: NetworkRecord): void { this.networks.push(n); }

  delete(n: NetworkRecord): void { this.networks = this.networks.filter((x) => x !== n); }

  /** Free every address a container holds, on every network (the caller persists). */
  releaseAddresses(containerId: string): void {
    for (const n of this.networks) if (n.ipam) new Ipam(n.ipam).release(containerId);
  }

  /** Free every address not held by one of these containers (startup; the caller persists). */
  keepAddressesOf(owners: ReadonlySet<string>): void {
    for (const n of this.networks) {
      if (!n.ipam) continue;
      for (const [ip, owner] of Object.entries(n.ipam.allocated)) if (!owners.has(owner)) delete n.ipam.allocated[ip];
    }
  }

  /** Whether a container holds an address on any network. */
  holdsAddress(containerId: string): boolean {
    return this.networks.some((n) => n.ipam && Object.values(n.ipam.allocated).includes(containerId));
  }
}
