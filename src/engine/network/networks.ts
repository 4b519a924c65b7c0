/**
 * The networks API's operations: create (a bridge, its subnet, its rules and DNS server), remove,
 * prune, connect and disconnect (the endpoint in the container's settings, and its veth when the
 * container runs), and the bridges' links. The container records are written by the container
 * service, which calls connect/disconnect; everything here changes only the object it is given.
 */
import { BerthError, ConflictError, InvalidParameterError, NotFoundError } from '../errors.js';
import type { Chains } from './chains.js';
import type { Bridges } from './bridges.js';
import { interfaceNameProblem, type NetworkConfig } from './config.js';
import type { DnsServers } from './dns-servers.js';
import { checkEndpointConfig, emptyEndpoint, emptySettings, endpointOn, networkMode, sharesOrLacksNetwork } from './endpoints.js';
import { ensureBridgeNetfilter, hostIpv4Prefixes, ipBatch, iptablesDelete, iptablesRestore, type Serial } from './host.js';
import { Ipam } from './ipam.js';
import { cidrString, overlaps, parseCidr } from './ipv4.js';
import { OPT, parseBridgeOptions } from './options.js';
import type { Sandboxes } from './sandbox.js';
import { hasEmbeddedDns, isPredefined, newNetworkRecord, type NetworkStore } from './store.js';
import type { EndpointConfig, NetworkAttachment, NetworkedContainer, NetworkEventSink, NetworkRecord } from './types.js';

/** POST /networks/create's body. */
export interface NetworkCreateRequest {
  Name?: string; Driver?: string; Internal?: boolean; Attachable?: boolean; EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null; Labels?: Record<string, string> | null;
}

/** The containers whose endpoints a network has. */
export interface AttachedContainers {
  all(): NetworkedContainer[];
  isRunning(id: string): boolean;
}

const CANNOT_ATTACH = 'container cannot be disconnected from host network or connected to host network';

export class Networks {
  constructor(
    private readonly store: NetworkStore,
    private readonly cfg: NetworkConfig,
    private readonly chains: Chains,
    private readonly serial: Serial,
    private readonly sandboxes: Sandboxes,
    private readonly dns: DnsServers,
    private readonly containers: AttachedContainers,
    private readonly bridges: Bridges,
    private readonly events: NetworkEventSink,
  ) {}

  async create(body: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = body.Name ?? '';
    if (!name) throw new InvalidParameterError('network name is empty');
    // dockerd takes any name (spaces too); only control characters are turned away here.
    if (/[\x00-\x1f\x7f]/.test(name)) throw new InvalidParameterError(`invalid network name ${JSON.stringify(name)}`);
    const driver = body.Driver || 'bridge';
    if (isPredefined(name)) throw new BerthError('FORBIDDEN', `${name} is a pre-defined network and cannot be created`);
    if (driver !== 'bridge') throw new NotFoundError(`plugin "${driver}" not found`);
    if (body.EnableIPv6) throw new InvalidParameterError('IPv6 networks are not supported by berth yet');
    const opts = parseBridgeOptions(body.Options);
    const ipamDriver = body.IPAM?.Driver || 'default';
    if (ipamDriver !== 'default') throw new NotFoundError(`plugin "${ipamDriver}" not found`);
    if (Object.keys(body.IPAM?.Options ?? {}).length) throw new InvalidParameterError('IPAM options are not supported by Berth');
    return this.serial.run(async () => {
      if (this.store.all().some((n) => n.Name === name)) throw new ConflictError(`network with name ${name} already exists`);
      const cfgs = body.IPAM?.Config ?? [];
      if (cfgs.length > 1) throw new InvalidParameterError('only one IPv4 address pool per network is supported');
      const taken = this.store.all().filter((n) => n.ipam).map((n) => parseCidr(n.ipam!.subnet));
      let ipam: Ipam;
      if (cfgs[0]?.Subnet) {
        const c = cfgs[0];
        if (c.Subnet!.includes(':')) throw new InvalidParameterError('IPv6 networks are not supported by berth yet');
        const sub = parseCidr(c.Subnet!, true);
        if (taken.some((t) => overlaps(t, sub))) {
          throw new BerthError('FORBIDDEN', 'invalid pool request: Pool overlaps with other one on this address space');
        }
        ipam = Ipam.create(c.Subnet!, c.Gateway, c.IPRange);
      } else {
        if (cfgs[0]?.Gateway || cfgs[0]?.IPRange) throw new InvalidParameterError('a gateway or an ip range needs a subnet');
        ipam = Ipam.create(await this.pickSubnet(taken));
      }
      const rec = newNetworkRecord(name, 'bridge', { ...(body.Options ?? {}) });
      rec.Internal = !!body.Internal;
      rec.Attachable = !!body.Attachable;
      rec.Labels = { ...(body.Labels ?? {}) };
      rec.IPAM = {
        Driver: body.IPAM?.Driver || 'default', Options: body.IPAM?.Options ?? {},
        Config: [{ Subnet: ipam.state.subnet, Gateway: ipam.state.gateway, ...(ipam.state.ipRange ? { IPRange: ipam.state.ipRange } : {}) }],
      };
      rec.ipam = ipam.state;
      rec.bridge = rec.Options[OPT.name] || `berth-${rec.Id.slice(0, 9)}`;
      const problem = interfaceNameProblem(rec.bridge);
      if (problem) throw new InvalidParameterError(`invalid bridge name ${JSON.stringify(rec.bridge)}: ${problem}`);
      if (this.store.all().some((n) => n.bridge === rec.bridge)) throw new ConflictError(`bridge ${rec.bridge} is used by another network`);
      if (!opts.icc) await ensureBridgeNetfilter();
      await this.bridges.ensure([rec]);
      try {
        await iptablesRestore(this.chains.bridgeRules(rec, '-A'));
        this.store.add(rec);
        await this.store.persist();
        if (hasEmbeddedDns(rec)) await this.dns.start(rec);
      } catch (e) {
        this.store.delete(rec);
        // Best effort: the creation's own error is the one to report.
        await iptablesDelete(this.chains.bridgeRules(rec, '-D')).catch(() => undefined);
        await ipBatch([`link del ${rec.bridge}`], { force: true });
        throw e;
      }
      this.events('create', rec);
      return { Id: rec.Id, Warning: '' };
    });
  }

  /** The first pool subnet that overlaps neither our networks nor the host's routes. */
  private async pickSubnet(taken: Array<ReturnType<typeof parseCidr>>): Promise<string> {
    const host = (await hostIpv4Prefixes()).map((p) => {
      try { return parseCidr(p); } catch { return undefined; } // a route we cannot read cannot clash either
    }).filter((x) => x !== undefined);
    for (const pool of this.cfg.pools) {
      const base = parseCidr(pool.base);
      const count = 2 ** (pool.size - base.prefix);
      for (let i = 0; i < count; i++) {
        const c = { base: (base.base + i * 2 ** (32 - pool.size)) >>> 0, prefix: pool.size };
        if (taken.some((t) => overlaps(t, c)) || host.some((h) => overlaps(h, c))) continue;
        return cidrString(c);
      }
    }
    throw new BerthError('FORBIDDEN', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }

  /** Containers attached to a network: all (configured) or only running ones. */
  private attached(n: NetworkRecord, activeOnly: boolean): NetworkedContainer[] {
    return this.containers.all().filter((c) => endpointOn(c, n) && (!activeOnly || this.containers.isRunning(c.Id)));
  }

  /** Active endpoints: running containers with an endpoint on `n` (on a bridge, one set up at start). */
  attachments(n: NetworkRecord): NetworkAttachment[] {
    const out: NetworkAttachment[] = [];
    for (const c of this.attached(n, true)) {
      const endpoint = endpointOn(c, n)![1];
      if (!endpoint.EndpointID && n.Driver === 'bridge') continue;
      out.push({ containerId: c.Id, name: c.Name, endpoint });
    }
    return out;
  }

  async remove(ref: string): Promise<void> {
    const n = this.store.get(ref);
    if (isPredefined(n.Name)) throw new BerthError('FORBIDDEN', `${n.Name} is a pre-defined network and cannot be removed`);
    await this.serial.run(async () => {
      if (this.attached(n, true).length) {
        throw new ConflictError(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      }
      this.dns.stop(n);
      await iptablesDelete(this.chains.bridgeRules(n, '-D'));
      await ipBatch([`link del ${n.bridge}`], { force: true });
      this.store.delete(n);
      await this.store.persist();
      this.events('destroy', n);
    });
  }

  /** The user-defined networks no container is configured on and `matches` accepts, removed; their names. */
  async prune(matches: (n: NetworkRecord) => boolean): Promise<string[]> {
    const deleted: string[] = [];
    for (const n of this.store.all()) {
      if (isPredefined(n.Name) || this.attached(n, false).length || !matches(n)) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch { /* in use or gone meanwhile: skipped, as dockerd */ }
    }
    this.events('prune');
    return deleted;
  }

  /**
   * Attach a container to a network: the endpoint goes into `rec.NetworkSettings` and, when the
   * container runs, its veth and address are made now. The caller (the container service) saves `rec`.
   */
  async connect(rec: NetworkedContainer, netRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const n = this.store.get(netRef);
    if (n.Driver !== 'bridge' || sharesOrLacksNetwork(networkMode(rec))) throw new BerthError('FORBIDDEN', CANNOT_ATTACH);
    if (n.Name === 'bridge' && cfg.Aliases?.length) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
    checkEndpointConfig(cfg);
    if (cfg.MacAddress) throw new InvalidParameterError('a MAC address on network connect is not supported by Berth (set it at create)');
    await this.serial.run(async () => {
      rec.NetworkSettings ??= emptySettings();
      if (endpointOn(rec, n)) throw new BerthError('FORBIDDEN', `endpoint with name ${rec.Name} already exists in network ${n.Name}`);
      const ep = emptyEndpoint(n.Id, cfg);
      const live = this.containers.isRunning(rec.Id) && !!rec.NetworkSettings.SandboxKey;
      if (live) {
        await this.sandboxes.addEndpoint(rec, n, ep);
        await this.store.persist();
      }
      rec.NetworkSettings.Networks[n.Name] = ep;
      // dockerd: a stopped container is only configured (its connect event comes at its start)
      if (live) this.events('connect', n, rec.Id);
    });
  }

  /** Detach a container from a network (its veth and address too); the caller saves `rec`. */
  async disconnect(rec: NetworkedContainer, netRef: string): Promise<void> {
    const n = this.store.get(netRef);
    await this.serial.run(async () => {
      const entry = endpointOn(rec, n);
      if (!entry) throw new BerthError('FORBIDDEN', `container ${rec.Id} is not connected to network ${n.Name}`);
      if (n.Driver !== 'bridge') throw new BerthError('FORBIDDEN', CANNOT_ATTACH);
      if (entry[1].IPAddress) {
        await this.sandboxes.removeEndpoint(rec, n);
        await this.store.persist();
      }
      delete rec.NetworkSettings!.Networks[entry[0]];
      // dockerd logs a disconnect whether the container runs or not
      this.events('disconnect', n, rec.Id);
    });
  }
}
