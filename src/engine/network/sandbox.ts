/**
 * A container's network sandbox, as libnetwork's: its namespace (`ip netns add berth-<id12>`, a
 * bind mount under /run/netns that outlives the daemon and is removed by name), one veth pair and
 * address per bridge endpoint, the default route, /etc/hosts and resolv.conf, and the published
 * ports (the userland proxies that hold the host ports, then DNAT rules in our chains). Made before
 * the runtime starts the container, torn down after it stopped; endpoints come and go while it
 * runs (network connect/disconnect).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, ConflictError, NotFoundError, SystemError } from '../errors.js';
import type { Chains } from './chains.js';
import { clearLive, emptySettings, networkMode, primaryEndpoint, requestedMac, sharesOrLacksNetwork } from './endpoints.js';
import { ipBatch, iptablesDelete, iptablesRestore, type Serial } from './host.js';
import { Ipam } from './ipam.js';
import { ipToInt, macForIp } from './ipv4.js';
import { mappingsOf, portMap, portRequests, type PortMapping } from './ports.js';
import { bridgeOptions } from './options.js';
import { openProxy, type Proxy } from './proxy.js';
import { extraHostRecords, readHostResolvConf, renderHosts, renderResolvConf } from './etc-files.js';
import { linkHosts, type LinkLookup } from './links.js';
import { hasEmbeddedDns, type NetworkStore } from './store.js';
import type { EndpointSettings, NetworkedContainer, NetworkEventSink, NetworkRecord } from './types.js';

/** What the OCI spec's network namespace should be. */
export type SpecNetwork = 'host' | 'none' | { path: string };

/** The containers a sandbox may join (`--network container:<x>`). */
export interface SandboxContainers {
  get(ref: string): NetworkedContainer;
  isRunning(id: string): boolean;
  /** The container's folder (its hosts and resolv.conf). */
  dir(id: string): string;
}

const NETNS_DIR = '/run/netns';

export function netnsName(containerId: string): string { return `berth-${containerId.slice(0, 12)}`; }
export function netnsPath(containerId: string): string { return join(NETNS_DIR, netnsName(containerId)); }
export function vethName(containerId: string, networkId: string): string {
  return `veth${createHash('sha256').update(`${containerId}/${networkId}`).digest('hex').slice(0, 7)}`;
}

export class Sandboxes {
  private readonly proxies = new Map<string, Proxy[]>();
  /** Containers on host/none whose connect event went out (their disconnect follows at release). */
  private readonly joinedShared = new Set<string>();

  constructor(
    private readonly networks: NetworkStore,
    private readonly chains: Chains,
    private readonly serial: Serial,
    private readonly containers: SandboxContainers,
    private readonly events: NetworkEventSink = () => undefined,
  ) {}

  /**
   * Before the runtime starts the container: its namespace, veths, addresses, routes, /etc/hosts,
   * resolv.conf, published ports. Returns what the OCI spec's network namespace should be.
   */
  async setup(rec: NetworkedContainer, dir: string): Promise<SpecNetwork> {
    const mode = networkMode(rec);
    rec.NetworkSettings ??= emptySettings();
    if (mode === 'host' || mode === 'none') {
      await this.writeEtc(rec, dir, [], 'host');
      const net = this.networks.find(mode);
      if (net) {
        this.joinedShared.add(rec.Id);
        this.events('connect', net, rec.Id);
      }
      return mode;
    }
    if (mode.startsWith('container:')) {
      const other = this.containers.get(mode.slice('container:'.length));
      if (!this.containers.isRunning(other.Id)) throw new ConflictError(`cannot join network of a non running container: ${other.Id}`);
      const key = other.NetworkSettings?.SandboxKey;
      if (!key) throw new ConflictError(`cannot join network namespace of container ${other.Id}: it has none of its own`);
      for (const f of ['hosts', 'resolv.conf']) {
        // The files made at create stay when the other container's are unreadable.
        await writeFile(join(dir, f), await readFile(join(this.containers.dir(other.Id), f))).catch(() => undefined);
      }
      return { path: key };
    }
    return this.serial.run(() => this.setupBridged(rec, dir));
  }

  private async setupBridged(rec: NetworkedContainer, dir: string): Promise<SpecNetwork> {
    const ns = rec.NetworkSettings!;
    const netns = netnsName(rec.Id);
    // A leftover namespace of an earlier run (a crash between exit and clean-up) goes first; what
    // cannot be removed makes the setup below fail with the host's own message.
    if (existsSync(netnsPath(rec.Id))) await this.teardown(rec).catch(() => undefined);
    const host: string[] = [`netns add ${netns}`];
    const inner: string[] = ['link set lo up'];
    let route = '';
    const used = new Map<string, number>(); // interface prefix -> the next index
    const attached: Array<[EndpointSettings, NetworkRecord]> = [];
    try {
      for (const [name, ep] of Object.entries(ns.Networks)) {
        const net = this.networks.ofEndpoint(ep.NetworkID, name);
        if (!net) throw new NotFoundError(`network ${name} not found`);
        if (net.Driver !== 'bridge') continue;
        const { ifacePrefix } = bridgeOptions(net);
        const index = used.get(ifacePrefix) ?? 0;
        used.set(ifacePrefix, index + 1);
        const lines = this.endpointLines(rec, net, ep, `${ifacePrefix}${index}`);
        host.push(...lines.host);
        inner.push(...lines.inner);
        if (!route && !net.Internal) route = `route add default via ${net.ipam!.gateway}`;
        attached.push([ep, net]);
      }
      if (route) inner.push(route);
      await ipBatch(host);
      await ipBatch(inner, { netns });
      ns.SandboxKey = netnsPath(rec.Id);
      ns.SandboxID = createHash('sha256').update(`sandbox/${rec.Id}/${rec.State.StartedAt}`).digest('hex');
      const def = attached.find(([, n]) => n.Name === 'bridge');
      if (def) {
        const [ep] = def;
        Object.assign(ns, { IPAddress: ep.IPAddress, IPPrefixLen: ep.IPPrefixLen, Gateway: ep.Gateway, MacAddress: ep.MacAddress, EndpointID: ep.EndpointID });
      }
      await this.writeEtc(rec, dir, attached);
      await this.publish(rec);
      await this.networks.persist();
      for (const [, net] of attached) this.events('connect', net, rec.Id);
    } catch (e) {
      await this.teardown(rec).catch(() => undefined); // best effort: the setup's own error is the one to report
      clearLive(rec);
      await this.networks.persist().catch(() => undefined); // the addresses are free in memory; written at the next change
      throw e instanceof BerthError ? e : new SystemError(`failed to set up the container's network: ${(e as Error).message}`, e);
    }
    return { path: ns.SandboxKey };
  }

  /** ip batch lines for one endpoint; allocates its address (and fills the endpoint's live fields). */
  private endpointLines(rec: NetworkedContainer, net: NetworkRecord, ep: EndpointSettings, ifname: string): { host: string[]; inner: string[] } {
    const ipam = new Ipam(net.ipam!);
    const ip = ipam.allocate(rec.Id, ep.IPAMConfig?.IPv4Address || undefined);
    const veth = vethName(rec.Id, net.Id);
    const mac = requestedMac(rec, net) ?? macForIp(ipToInt(ip));
    Object.assign(ep, {
      NetworkID: net.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: net.ipam!.gateway, IPAddress: ip,
      IPPrefixLen: ipam.prefix, MacAddress: mac,
      DNSNames: net.Name === 'bridge' ? null : [rec.Name, ...(ep.Aliases ?? []), rec.Id.slice(0, 12)],
    });
    // com.docker.network.driver.mtu: both ends of the veth, as the bridge driver sets them
    const { mtu } = bridgeOptions(net);
    const m = mtu ? ` mtu ${mtu}` : '';
    return {
      host: [`link add ${veth}${m} type veth peer name ${ifname}${m} netns ${netnsName(rec.Id)}`, `link set ${veth} master ${net.bridge} up`],
      inner: [`link set ${ifname} address ${mac}`, `addr add ${ip}/${ipam.prefix} dev ${ifname}`, `link set ${ifname} up`],
    };
  }

  /**
   * /etc/hosts with --add-host records and the container's addresses; resolv.conf pointing at our
   * DNS on user-defined networks, else the host's resolvers or --dns ones.
   */
  private async writeEtc(rec: NetworkedContainer, dir: string, eps: Array<[EndpointSettings, NetworkRecord]>, resolvers?: 'host'): Promise<void> {
    const extra = extraHostRecords(rec.HostConfig.ExtraHosts, this.networks.hostGateway());
    if (eps.length) extra.push(...linkHosts(rec, this.containers as unknown as LinkLookup));
    await writeFile(join(dir, 'hosts'), renderHosts(rec.Config, eps.map(([ep]) => ep.IPAddress), extra));
    const dnsNet = eps.find(([, n]) => hasEmbeddedDns(n))?.[1];
    const use = resolvers ?? (dnsNet ? { embeddedDns: dnsNet.ipam!.gateway } : 'private');
    await writeFile(join(dir, 'resolv.conf'), renderResolvConf(await readHostResolvConf(), use, rec.HostConfig));
  }

  /** -p/-P: open the proxies (they pick and hold the host ports), then the DNAT rules in one restore. */
  private async publish(rec: NetworkedContainer): Promise<void> {
    const ns = rec.NetworkSettings!;
    const t = primaryEndpoint(rec, this.networks);
    // a binding without a host address takes the network's host_binding_ipv4 (0.0.0.0 unless set)
    const reqs = portRequests(rec.HostConfig.PortBindings as never, rec.Config.ExposedPorts, !!rec.HostConfig.PublishAllPorts,
      t ? bridgeOptions(t.net).hostBindingIpv4 : undefined);
    const mappings: PortMapping[] = [];
    const opened: Proxy[] = [];
    this.proxies.set(rec.Id, opened);
    if (t && reqs.length) {
      for (const r of reqs) {
        const p = await openProxy(r.proto, r.hostIp, [r.hostPortStart, r.hostPortEnd], { ip: t.ip, port: r.containerPort }).catch((e: Error) => {
          // dockerd's wording for a port that cannot be bound; a refused request keeps its own error.
          if (e instanceof BerthError && e.code !== 'SYSTEM') throw e;
          throw new SystemError(`driver failed programming external connectivity on endpoint ${rec.Name}: ${e.message}`, e);
        });
        opened.push(p);
        mappings.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: p.port });
      }
      await iptablesRestore({ nat: this.chains.portRules({ mappings, ip: t.ip, bridge: t.bridge }, '-A'), filter: [] });
    }
    ns.Ports = portMap(mappings, rec.Config.ExposedPorts);
  }

  /**
   * After a daemon restart, for a container still running: the proxies of its published ports open
   * again, and a container on host or none counts as joined, so that its stop still sends the
   * disconnect event its start's connect promised.
   */
  async readopt(rec: NetworkedContainer): Promise<void> {
    const mode = networkMode(rec);
    if ((mode === 'host' || mode === 'none') && this.networks.find(mode)) this.joinedShared.add(rec.Id);
    const target = primaryEndpoint(rec, this.networks);
    if (!target) return;
    const opened: Proxy[] = [];
    for (const m of mappingsOf(rec.NetworkSettings?.Ports)) {
      try {
        opened.push(await openProxy(m.proto, m.hostIp, [m.hostPort, m.hostPort], { ip: target.ip, port: m.containerPort }));
      } catch { /* someone took the port meanwhile: DNAT still carries non-loopback traffic */ }
    }
    this.proxies.set(rec.Id, opened);
  }

  /** A running container's published ports, for rebuilding the chains. */
  published(rec: NetworkedContainer): { mappings: PortMapping[]; ip: string; bridge: string } | undefined {
    const t = primaryEndpoint(rec, this.networks);
    return t ? { mappings: mappingsOf(rec.NetworkSettings?.Ports), ip: t.ip, bridge: t.bridge } : undefined;
  }

  /** After the container stopped (or failed to start): rules, proxies, veths, namespace, addresses. */
  async release(rec: NetworkedContainer): Promise<void> {
    const mode = networkMode(rec);
    if (mode === 'host' || mode === 'none') {
      const net = this.networks.find(mode);
      if (this.joinedShared.delete(rec.Id) && net) this.events('disconnect', net, rec.Id);
    }
    if (sharesOrLacksNetwork(mode)) return;
    const owned = rec.NetworkSettings?.SandboxKey || this.proxies.has(rec.Id) || this.networks.holdsAddress(rec.Id);
    if (!owned) return;
    // the networks the container was joined to (live endpoints), for their disconnect events
    const joined = Object.entries(rec.NetworkSettings?.Networks ?? {}).filter(([, ep]) => ep.EndpointID)
      .map(([name, ep]) => this.networks.ofEndpoint(ep.NetworkID, name)).filter((n) => n !== undefined);
    await this.serial.run(async () => {
      await this.teardown(rec);
      clearLive(rec);
      await this.networks.persist();
    });
    for (const n of joined) this.events('disconnect', n, rec.Id);
  }

  /** Proxies, DNAT rules, veths, the namespace and the addresses of a container (the caller persists). */
  async teardown(rec: NetworkedContainer): Promise<void> {
    for (const p of this.proxies.get(rec.Id) ?? []) p.close();
    this.proxies.delete(rec.Id);
    const pub = this.published(rec);
    if (pub && pub.mappings.length) await iptablesDelete({ nat: this.chains.portRules(pub, '-D'), filter: [] });
    const lines = [`netns del ${netnsName(rec.Id)}`];
    for (const ep of Object.values(rec.NetworkSettings?.Networks ?? {})) {
      if (ep.NetworkID) lines.push(`link del ${vethName(rec.Id, ep.NetworkID)}`);
    }
    await ipBatch(lines, { force: true });
    this.networks.releaseAddresses(rec.Id);
  }

  /** network connect of a running container: a veth and an address on `n` now (the caller persists). */
  async addEndpoint(rec: NetworkedContainer, n: NetworkRecord, ep: EndpointSettings): Promise<void> {
    const ns = rec.NetworkSettings!;
    const { ifacePrefix } = bridgeOptions(n);
    const index = Object.values(ns.Networks).filter((e) => e.IPAddress && this.prefixOf(e) === ifacePrefix).length;
    const lines = this.endpointLines(rec, n, ep, `${ifacePrefix}${index}`);
    try {
      await ipBatch(lines.host);
      await ipBatch(lines.inner, { netns: netnsName(rec.Id) });
    } catch (e) {
      new Ipam(n.ipam!).release(rec.Id);
      await ipBatch([`link del ${vethName(rec.Id, n.Id)}`], { force: true });
      throw e;
    }
  }

  /** The interface prefix of an endpoint's network (eth unless the network says otherwise). */
  private prefixOf(ep: EndpointSettings): string {
    const net = this.networks.ofEndpoint(ep.NetworkID, '');
    return net ? bridgeOptions(net).ifacePrefix : 'eth';
  }

  /** network disconnect of a running container: its veth and address on `n` go (the caller persists). */
  async removeEndpoint(rec: NetworkedContainer, n: NetworkRecord): Promise<void> {
    await ipBatch([`link del ${vethName(rec.Id, n.Id)}`], { force: true });
    new Ipam(n.ipam!).release(rec.Id);
  }

  /** Daemon shutdown: the proxies close; rules and namespaces stay for the restart. */
  close(): void {
    for (const list of this.proxies.values()) for (const p of list) p.close();
    this.proxies.clear();
  }
}
