/**
 * Networking, as libnetwork does it for the bridge driver, in one place: the predefined networks
 * (bridge → our own bridge interface, host, none), user-defined bridge networks, per-container
 * network namespaces (`ip netns add berth-<id12>`: a bind mount under /run/netns that outlives the
 * daemon and is removed by name), veth pairs, IPAM, published ports (iptables DNAT in our own
 * chains plus the userland proxy for loopback) and the embedded DNS of user-defined networks.
 *
 * State: <data root>/network/networks.json (atomic), holding the network records with their
 * address plans; endpoint data lives in the container records (NetworkSettings), which the
 * container service saves. Startup rebuilds our iptables chains from both, re-opens the proxies of
 * running containers and removes what stopped containers left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../errors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { rfc3339NanoFromNs, nowNs } from '../../util/time.js';
import { Ipam } from './ipam.js';
import { cidrString, intToIp, ipToInt, macForIp, overlaps, parseCidr } from './ipv4.js';
import { runCommand } from '../host/command.js';
import { hostIpv4Prefixes, ipBatch, iptablesDelete, iptablesRestore, iptablesSave, Serial, type RuleSet } from './host.js';
import { mappingsOf, portMap, portRequests, type PortMapping } from './ports.js';
import { openProxy, type Proxy } from './proxy.js';
import { DnsServer, nameservers } from './dns.js';
import type { ContainerNetworkSettings, EndpointConfig, EndpointSettings, NetworkedContainer, NetworkRecord } from './types.js';

export interface NetworkConfig {
  /** the default bridge's interface (Docker's docker0); default berth0 */
  bridge: string;
  /** the default bridge's gateway address and prefix; default 172.31.0.1/16 */
  bip: string;
  /** where user-defined networks without a subnet get theirs */
  pools: Array<{ base: string; size: number }>;
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  bridge: 'berth0',
  bip: '172.31.0.1/16',
  pools: [
    ...Array.from({ length: 13 }, (_, i) => ({ base: `172.${18 + i}.0.0/16`, size: 16 })),
    { base: '192.168.0.0/16', size: 20 },
  ],
};

/** What the manager needs from the container side. */
export interface ContainerAccess {
  get(ref: string): NetworkedContainer;
  all(): NetworkedContainer[];
  /** Whether the container with this ID runs (or is paused). */
  isRunning(id: string): boolean;
  dir(id: string): string;
}

export type SpecNetwork = 'host' | 'none' | { path: string };

const NETNS_DIR = '/run/netns';

function emptyEndpoint(networkId: string, cfg?: { Aliases?: string[] | null; IPAMConfig?: EndpointSettings['IPAMConfig']; MacAddress?: string }): EndpointSettings {
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null, Links: null, Aliases: cfg?.Aliases?.length ? [...cfg.Aliases] : null,
    MacAddress: '', DriverOpts: null, NetworkID: networkId, EndpointID: '', Gateway: '', IPAddress: '',
    IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

export function emptySettings(): ContainerNetworkSettings {
  return {
    Networks: {}, Ports: {}, SandboxID: '', SandboxKey: '', Bridge: '',
    IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', EndpointID: '',
  };
}

export class NetworkManager {
  private networks: NetworkRecord[] = [];
  private readonly file: string;
  private readonly serial = new Serial();
  private readonly proxies = new Map<string, Proxy[]>();
  private readonly dns = new Map<string, DnsServer>();
  readonly chainNat: string;
  readonly chainPost: string;
  readonly chainFwd: string;

  constructor(private readonly root: string, readonly cfg: NetworkConfig, private readonly containers: ContainerAccess) {
    this.file = join(root, 'networks.json');
    const tag = cfg.bridge === 'berth0' ? '' : `-${cfg.bridge.replace(/^berth-?/, '').toUpperCase().slice(0, 12)}`;
    this.chainNat = `BERTH${tag}`;
    this.chainPost = `BERTH${tag}-POST`;
    this.chainFwd = `BERTH${tag}-FWD`;
  }

  static netnsName(containerId: string): string { return `berth-${containerId.slice(0, 12)}`; }
  static netnsPath(containerId: string): string { return join(NETNS_DIR, NetworkManager.netnsName(containerId)); }
  static vethName(containerId: string, networkId: string): string {
    return `veth${createHash('sha256').update(`${containerId}/${networkId}`).digest('hex').slice(0, 7)}`;
  }

  // ---------------------------------------------------------------- startup

  /**
   * Before the container service reconciles: networks, bridges, chains, leftovers, proxies, DNS.
   * Returns the IDs of the containers whose NetworkSettings it cleared (the container service saves them).
   */
  async init(records: NetworkedContainer[]): Promise<string[]> {
    try {
      this.networks = JSON.parse(readFileSync(this.file, 'utf8')) as NetworkRecord[];
    } catch {
      this.networks = [];
    }
    this.ensurePredefined();
    try { writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n'); } catch { /* read-only /proc: forwarding is the host's business */ }
    await this.ensureBridges(this.networks.filter((n) => n.Driver === 'bridge'));
    // What stopped containers left (a daemon killed mid-stop, a host that lost power): free it.
    const live = new Set<string>();
    const cleared: string[] = [];
    for (const rec of records) {
      const running = rec.State.Status === 'running' || rec.State.Status === 'paused';
      if (running && rec.NetworkSettings?.SandboxKey) {
        live.add(rec.Id);
        continue;
      }
      if (rec.NetworkSettings?.SandboxKey || this.networks.some((n) => n.ipam && Object.values(n.ipam.allocated).includes(rec.Id))) {
        // Best effort: what is already gone need not be removed again.
        await this.teardownHost(rec).catch(() => undefined);
        this.clearLive(rec);
        cleared.push(rec.Id);
      }
    }
    for (const n of this.networks) {
      if (!n.ipam) continue;
      for (const [ip, owner] of Object.entries(n.ipam.allocated)) if (!live.has(owner)) delete n.ipam.allocated[ip];
    }
    await this.persist();
    await this.rebuildChains(records.filter((r) => live.has(r.Id)));
    for (const rec of records) {
      if (!live.has(rec.Id)) continue;
      const target = this.primary(rec);
      if (!target) continue;
      const opened: Proxy[] = [];
      for (const m of mappingsOf(rec.NetworkSettings?.Ports)) {
        try {
          opened.push(await openProxy(m.proto, m.hostIp, [m.hostPort, m.hostPort], { ip: target.ip, port: m.containerPort }));
        } catch { /* someone took the port meanwhile: DNAT still carries non-loopback traffic */ }
      }
      this.proxies.set(rec.Id, opened);
    }
    for (const n of this.networks) if (this.hasDns(n)) await this.startDns(n).catch(() => undefined);
    return cleared;
  }

  private ensurePredefined(): void {
    const bip = parseCidr(this.cfg.bip);
    const subnet = cidrString(bip);
    const gateway = intToIp(bip.ip);
    let bridge = this.networks.find((n) => n.Name === 'bridge');
    if (!bridge) {
      bridge = this.newRecord('bridge', 'bridge', {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': this.cfg.bridge,
        'com.docker.network.driver.mtu': '1500',
      });
      bridge.IPAM.Options = null;
      this.networks.unshift(bridge);
    }
    // A changed bip or bridge name (daemon.json) applies on the next start.
    if (!bridge.ipam || bridge.ipam.subnet !== subnet || bridge.ipam.gateway !== gateway) {
      bridge.ipam = Ipam.create(subnet, gateway).state;
    }
    bridge.bridge = this.cfg.bridge;
    bridge.Options['com.docker.network.bridge.name'] = this.cfg.bridge;
    bridge.IPAM.Config = [{ Subnet: subnet, Gateway: gateway }];
    if (!this.networks.some((n) => n.Name === 'host')) this.networks.push(this.newRecord('host', 'host', {}));
    if (!this.networks.some((n) => n.Name === 'none')) this.networks.push(this.newRecord('none', 'null', {}));
  }

  private newRecord(name: string, driver: NetworkRecord['Driver'], options: Record<string, string>): NetworkRecord {
    return {
      Name: name, Id: randomBytes(32).toString('hex'), Created: rfc3339NanoFromNs(nowNs()), Scope: 'local', Driver: driver,
      EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false,
      Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: options, Labels: {},
    };
  }

  private async persist(): Promise<void> {
    await writeJsonAtomic(this.file, this.networks);
  }

  /** Create missing bridges, give them their gateway address, bring them up (one ip batch). */
  private async ensureBridges(nets: NetworkRecord[]): Promise<void> {
    const existing = new Set((await runCommand('ip', ['-o', 'link', 'show', 'type', 'bridge'])).stdout
      .split('\n').map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1]).filter(Boolean));
    const lines: string[] = [];
    for (const n of nets) {
      const ipam = new Ipam(n.ipam!);
      if (!existing.has(n.bridge!)) lines.push(`link add ${n.bridge} type bridge`);
      lines.push(`addr replace ${n.ipam!.gateway}/${ipam.prefix} dev ${n.bridge}`);
      lines.push(`link set ${n.bridge} up`);
    }
    await ipBatch(lines);
  }

  // ---------------------------------------------------------------- iptables

  /** Rules of a bridge network: masquerade of its subnet, forwarding in and out (or only within, when internal). */
  private bridgeRules(n: NetworkRecord, op: '-A' | '-D'): RuleSet {
    const br = n.bridge!;
    const subnet = n.ipam!.subnet;
    if (n.Internal) {
      const ins = op === '-A' ? `-I ${this.chainFwd} 1` : `-D ${this.chainFwd}`;
      return {
        nat: [],
        filter: [`${ins} -o ${br} ! -i ${br} -j DROP`, `${ins} -i ${br} ! -o ${br} -j DROP`, `${ins} -i ${br} -o ${br} -j ACCEPT`],
      };
    }
    return {
      nat: [`${op} ${this.chainPost} -s ${subnet} ! -o ${br} -j MASQUERADE`],
      filter: [`${op} ${this.chainFwd} -i ${br} -j ACCEPT`, `${op} ${this.chainFwd} -o ${br} -j ACCEPT`],
    };
  }

  private portRules(m: PortMapping, target: string, bridge: string, op: '-A' | '-D'): string[] {
    const dst = m.hostIp && m.hostIp !== '0.0.0.0' ? ` -d ${m.hostIp}/32` : '';
    return [
      `${op} ${this.chainNat}${dst} ! -i ${bridge} -p ${m.proto} -m ${m.proto} --dport ${m.hostPort} -j DNAT --to-destination ${target}:${m.containerPort}`,
    ];
  }

  /** Our chains from scratch (one iptables-restore): jumps from the built-in chains once, then every rule. */
  private async rebuildChains(running: NetworkedContainer[]): Promise<void> {
    const nat = await iptablesSave('nat');
    const filter = await iptablesSave('filter');
    const has = (lines: string[], rule: string) => lines.some((l) => l.trim() === rule);
    const rules: RuleSet = {
      nat: [`:${this.chainNat} - [0:0]`, `:${this.chainPost} - [0:0]`],
      filter: [`:${this.chainFwd} - [0:0]`],
    };
    const jumps = {
      pre: `-A PREROUTING -m addrtype --dst-type LOCAL -j ${this.chainNat}`,
      out: `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${this.chainNat}`,
      post: `-A POSTROUTING -j ${this.chainPost}`,
    };
    if (!has(nat, jumps.pre)) rules.nat.push(jumps.pre);
    if (!has(nat, jumps.out)) rules.nat.push(jumps.out);
    if (!has(nat, jumps.post)) rules.nat.push(jumps.post);
    if (!has(filter, `-A FORWARD -j ${this.chainFwd}`)) rules.filter.push(`-I FORWARD 1 -j ${this.chainFwd}`);
    for (const n of this.networks) {
      if (n.Driver !== 'bridge') continue;
      const r = this.bridgeRules(n, '-A');
      rules.nat.push(...r.nat);
      rules.filter.push(...r.filter);
    }
    for (const rec of running) {
      const t = this.primary(rec);
      if (!t) continue;
      for (const m of mappingsOf(rec.NetworkSettings?.Ports)) rules.nat.push(...this.portRules(m, t.ip, t.bridge, '-A'));
    }
    await iptablesRestore(rules);
  }

  /** Remove our chains and jumps (tests' clean-up; berthd itself keeps them, as dockerd does). */
  static async removeChains(bridge: string): Promise<void> {
    const m = new NetworkManager('/nonexistent', { ...DEFAULT_NETWORK_CONFIG, bridge }, undefined as unknown as ContainerAccess);
    const nat = await iptablesSave('nat');
    const filter = await iptablesSave('filter');
    const del = (lines: string[], chains: string[]) => lines
      .filter((l) => l.startsWith('-A ') && chains.some((c) => l.endsWith(`-j ${c}`)) && !chains.some((c) => l.startsWith(`-A ${c} `)))
      .map((l) => `-D ${l.slice(3)}`);
    const rules: RuleSet = {
      nat: [...del(nat, [m.chainNat, m.chainPost])],
      filter: [...del(filter, [m.chainFwd])],
    };
    for (const c of [m.chainNat, m.chainPost]) if (nat.some((l) => l.startsWith(`:${c} `))) rules.nat.push(`-F ${c}`, `-X ${c}`);
    if (filter.some((l) => l.startsWith(`:${m.chainFwd} `))) rules.filter.push(`-F ${m.chainFwd}`, `-X ${m.chainFwd}`);
    await iptablesRestore(rules, { ignoreErrors: true });
  }

  // ---------------------------------------------------------------- lookups

  find(ref: string): NetworkRecord | undefined {
    return this.networks.find((n) => n.Id === ref)
      ?? this.networks.find((n) => n.Name === ref)
      ?? (ref.length >= 1 ? unique(this.networks.filter((n) => n.Id.startsWith(ref))) : undefined);
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  all(): NetworkRecord[] { return [...this.networks]; }

  /** The network the container's default route (and its published ports) go through. */
  private primary(rec: NetworkedContainer): { ip: string; bridge: string; net: NetworkRecord } | undefined {
    for (const [name, ep] of Object.entries(rec.NetworkSettings?.Networks ?? {})) {
      const net = this.networks.find((n) => n.Id === ep.NetworkID) ?? this.find(name);
      if (net?.Driver === 'bridge' && ep.IPAddress) return { ip: ep.IPAddress, bridge: net.bridge!, net };
    }
    return undefined;
  }

  private hasDns(n: NetworkRecord): boolean { return n.Driver === 'bridge' && n.Name !== 'bridge'; }

  // ---------------------------------------------------------------- containers

  /** At create: check the mode, fill NetworkSettings.Networks from NetworkMode and NetworkingConfig. */
  onCreate(rec: NetworkedContainer): void {
    const mode = rec.HostConfig.NetworkMode || 'default';
    const endpoints = ((rec.NetworkingConfig as { EndpointsConfig?: Record<string, Partial<EndpointSettings>> } | undefined)?.EndpointsConfig) ?? {};
    const ns = emptySettings();
    const cfgFor = (n: NetworkRecord) => endpoints[n.Name] ?? endpoints[n.Id] ?? endpoints[mode] ?? undefined;
    if (mode.startsWith('container:')) {
      this.containers.get(mode.slice('container:'.length));
    } else {
      const net = this.get(mode === 'default' ? 'bridge' : mode);
      const cfg = cfgFor(net);
      if (cfg?.Aliases?.length && (net.Name === 'bridge' || net.Driver !== 'bridge')) {
        throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
      }
      if (cfg?.IPAMConfig?.IPv4Address && (net.Name === 'bridge' || net.Driver !== 'bridge')) {
        throw new InvalidParameterError('user specified IP address is supported only when connecting to networks with user configured subnets');
      }
      ns.Networks[net.Name] = emptyEndpoint(net.Id, cfg);
      // API >= 1.44 may name more networks at create; they must be user-defined bridges.
      for (const [name, c] of Object.entries(endpoints)) {
        const other = this.find(name);
        if (!other || other.Id === net.Id) continue;
        if (other.Driver !== 'bridge' || net.Driver !== 'bridge') throw new InvalidParameterError('Container cannot be connected to network endpoints');
        ns.Networks[other.Name] = emptyEndpoint(other.Id, c);
      }
    }
    rec.NetworkSettings = ns;
  }

  /**
   * Before the runtime starts the container: its namespace, veths, addresses, routes, /etc/hosts,
   * resolv.conf, published ports. Returns what the OCI spec's network namespace should be.
   */
  async setup(rec: NetworkedContainer, dir: string): Promise<SpecNetwork> {
    const mode = rec.HostConfig.NetworkMode || 'default';
    rec.NetworkSettings ??= emptySettings();
    if (mode === 'host') return 'host';
    if (mode === 'none') return 'none';
    if (mode.startsWith('container:')) {
      const other = this.containers.get(mode.slice('container:'.length));
      if (!this.containers.isRunning(other.Id)) throw new ConflictError(`cannot join network of a non running container: ${other.Id}`);
      const key = other.NetworkSettings?.SandboxKey;
      if (!key) throw new ConflictError(`cannot join network namespace of container ${other.Id}: it has none of its own`);
      for (const f of ['hosts', 'resolv.conf', 'hostname']) {
        if (f === 'hostname') continue;
        await writeFile(join(dir, f), await readFile(join(this.containers.dir(other.Id), f))).catch(() => undefined);
      }
      return { path: key };
    }
    return this.serial.run(() => this.setupBridged(rec, dir));
  }

  private async setupBridged(rec: NetworkedContainer, dir: string): Promise<SpecNetwork> {
    const ns = rec.NetworkSettings!;
    const netns = NetworkManager.netnsName(rec.Id);
    // A leftover namespace of an earlier run (a crash between exit and clean-up) goes first.
    if (existsSync(NetworkManager.netnsPath(rec.Id))) await this.teardownHost(rec).catch(() => undefined);
    const host: string[] = [`netns add ${netns}`];
    const inner: string[] = ['link set lo up'];
    let route = '';
    let index = 0;
    const attached: Array<[string, EndpointSettings, NetworkRecord]> = [];
    try {
      for (const [name, ep] of Object.entries(ns.Networks)) {
        const net = this.networks.find((n) => n.Id === ep.NetworkID) ?? this.find(name);
        if (!net) throw new NotFoundError(`network ${name} not found`);
        if (net.Driver !== 'bridge') continue;
        const lines = this.endpointLines(rec, net, ep, `eth${index++}`, netns);
        host.push(...lines.host);
        inner.push(...lines.inner);
        if (!route && !net.Internal) route = `route add default via ${net.ipam!.gateway}`;
        attached.push([name, ep, net]);
      }
      if (route) inner.push(route);
      await ipBatch(host);
      await ipBatch(inner, { netns });
      ns.SandboxKey = NetworkManager.netnsPath(rec.Id);
      ns.SandboxID = createHash('sha256').update(`sandbox/${rec.Id}/${rec.State.StartedAt}`).digest('hex');
      const def = attached.find(([, , n]) => n.Name === 'bridge');
      if (def) {
        const [, ep] = def;
        Object.assign(ns, { IPAddress: ep.IPAddress, IPPrefixLen: ep.IPPrefixLen, Gateway: ep.Gateway, MacAddress: ep.MacAddress, EndpointID: ep.EndpointID });
      }
      await this.writeEtc(rec, dir, attached.map(([, ep, n]) => [ep, n]));
      await this.publish(rec);
      await this.persist();
    } catch (e) {
      await this.teardownHost(rec).catch(() => undefined);
      this.clearLive(rec);
      await this.persist().catch(() => undefined);
      throw e instanceof BerthError ? e : new SystemError(`failed to set up the container's network: ${(e as Error).message}`, e);
    }
    return { path: ns.SandboxKey };
  }

  /** ip batch lines for one endpoint; allocates its address (and fills the endpoint's live fields). */
  private endpointLines(rec: NetworkedContainer, net: NetworkRecord, ep: EndpointSettings, ifname: string, netns: string): { host: string[]; inner: string[] } {
    const ipam = new Ipam(net.ipam!);
    const ip = ipam.allocate(rec.Id, ep.IPAMConfig?.IPv4Address || undefined);
    const veth = NetworkManager.vethName(rec.Id, net.Id);
    const mac = macForIp(ipToInt(ip));
    Object.assign(ep, {
      NetworkID: net.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: net.ipam!.gateway, IPAddress: ip,
      IPPrefixLen: ipam.prefix, MacAddress: mac,
      DNSNames: net.Name === 'bridge' ? null : [rec.Name, ...(ep.Aliases ?? []), rec.Id.slice(0, 12)],
    });
    return {
      host: [`link add ${veth} type veth peer name ${ifname} netns ${netns}`, `link set ${veth} master ${net.bridge} up`],
      inner: [`link set ${ifname} address ${mac}`, `addr add ${ip}/${ipam.prefix} dev ${ifname}`, `link set ${ifname} up`],
    };
  }

  /** /etc/hosts with the container's addresses; resolv.conf pointing at our DNS on user-defined networks. */
  private async writeEtc(rec: NetworkedContainer, dir: string, eps: Array<[EndpointSettings, NetworkRecord]>): Promise<void> {
    const hostname = rec.Config.Hostname;
    const names = rec.Config.Domainname ? `${hostname}.${rec.Config.Domainname} ${hostname}` : hostname;
    let hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
    for (const [ep] of eps) hosts += `${ep.IPAddress}\t${names}\n`;
    if (eps.length === 0) hosts += `127.0.1.1\t${names}\n`;
    await writeFile(join(dir, 'hosts'), hosts);
    let resolv = '';
    try { resolv = await readFile('/etc/resolv.conf', 'utf8'); } catch { /* none */ }
    const dnsNet = eps.find(([, n]) => this.hasDns(n));
    const search = resolv.split('\n').filter((l) => /^\s*(search|domain)\s/.test(l));
    const options = resolv.split('\n').filter((l) => /^\s*options\s/.test(l));
    if (dnsNet) {
      resolv = [...search, `nameserver ${dnsNet[1].ipam!.gateway}`, ...options, 'options ndots:0', ''].join('\n');
    } else {
      // Loopback resolvers of the host are not reachable from the container's namespace.
      let servers = nameservers(resolv).filter((s) => !s.startsWith('127.'));
      if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
      resolv = [...search, ...servers.map((s) => `nameserver ${s}`), ...options, ''].join('\n');
    }
    await writeFile(join(dir, 'resolv.conf'), resolv);
  }

  /** -p/-P: open the proxies (they pick and hold the host ports), then the DNAT rules in one restore. */
  private async publish(rec: NetworkedContainer): Promise<void> {
    const ns = rec.NetworkSettings!;
    const reqs = portRequests(rec.HostConfig.PortBindings as never, rec.Config.ExposedPorts, !!rec.HostConfig.PublishAllPorts);
    const t = this.primary(rec);
    const mappings: PortMapping[] = [];
    const opened: Proxy[] = [];
    this.proxies.set(rec.Id, opened);
    if (t && reqs.length) {
      for (const r of reqs) {
        const p = await openProxy(r.proto, r.hostIp, [r.hostPortStart, r.hostPortEnd], { ip: t.ip, port: r.containerPort }).catch((e: Error) => {
          throw new SystemError(`driver failed programming external connectivity on endpoint ${rec.Name}: ${e.message}`);
        });
        opened.push(p);
        mappings.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: p.port });
      }
      await iptablesRestore({ nat: mappings.flatMap((m) => this.portRules(m, t.ip, t.bridge, '-A')), filter: [] });
    }
    ns.Ports = portMap(mappings, rec.Config.ExposedPorts);
  }

  /** After the container stopped (or failed to start): rules, proxies, veths, namespace, addresses. */
  async release(rec: NetworkedContainer): Promise<void> {
    const mode = rec.HostConfig.NetworkMode || 'default';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return;
    const owned = rec.NetworkSettings?.SandboxKey || this.proxies.has(rec.Id)
      || this.networks.some((n) => n.ipam && Object.values(n.ipam.allocated).includes(rec.Id));
    if (!owned) return;
    await this.serial.run(async () => {
      await this.teardownHost(rec);
      this.clearLive(rec);
      await this.persist();
    });
  }

  private async teardownHost(rec: NetworkedContainer): Promise<void> {
    for (const p of this.proxies.get(rec.Id) ?? []) p.close();
    this.proxies.delete(rec.Id);
    const t = this.primary(rec);
    const maps = mappingsOf(rec.NetworkSettings?.Ports);
    if (t && maps.length) await iptablesDelete({ nat: maps.flatMap((m) => this.portRules(m, t.ip, t.bridge, '-D')), filter: [] });
    const lines = [`netns del ${NetworkManager.netnsName(rec.Id)}`];
    for (const ep of Object.values(rec.NetworkSettings?.Networks ?? {})) {
      if (ep.NetworkID) lines.push(`link del ${NetworkManager.vethName(rec.Id, ep.NetworkID)}`);
    }
    await ipBatch(lines, { force: true });
    for (const n of this.networks) if (n.ipam) new Ipam(n.ipam).release(rec.Id);
  }

  /** Forget the live parts of the settings (addresses, ports, sandbox); the networks stay configured. */
  private clearLive(rec: NetworkedContainer): void {
    const ns = rec.NetworkSettings;
    if (!ns) return;
    for (const ep of Object.values(ns.Networks)) {
      Object.assign(ep, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', DNSNames: null });
    }
    Object.assign(ns, { SandboxID: '', SandboxKey: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', EndpointID: '' });
    ns.Ports = {};
  }

  // ---------------------------------------------------------------- DNS

  private async startDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.Id)) return;
    const server = new DnsServer(n.ipam!.gateway, (name) => this.resolveName(n, name), () => {
      try { return nameservers(readFileSync('/etc/resolv.conf', 'utf8')); } catch { return []; }
    });
    await server.start();
    this.dns.set(n.Id, server);
  }

  /** Addresses on network `n` for a container name, alias or short ID; undefined when not ours. */
  resolveName(n: NetworkRecord, name: string): string[] | undefined {
    const out: string[] = [];
    for (const rec of this.containers.all()) {
      if (!this.containers.isRunning(rec.Id)) continue;
      const ep = Object.values(rec.NetworkSettings?.Networks ?? {}).find((e) => e.NetworkID === n.Id);
      if (!ep?.IPAddress) continue;
      const names = [rec.Name, ...(ep.Aliases ?? []), rec.Id.slice(0, 12), rec.Config.Hostname].map((s) => s.toLowerCase());
      if (names.includes(name)) out.push(ep.IPAddress);
    }
    return out.length ? out : undefined;
  }

  /** Stop the proxies and DNS sockets (daemon shutdown); rules and namespaces stay for the restart. */
  close(): void {
    for (const list of this.proxies.values()) for (const p of list) p.close();
    this.proxies.clear();
    for (const d of this.dns.values()) d.close();
    this.dns.clear();
  }

  // ---------------------------------------------------------------- the networks API

  async create(body: {
    Name?: string; Driver?: string; Internal?: boolean; Attachable?: boolean; EnableIPv6?: boolean;
    IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null; Options?: Record<string, string> | null } | null;
    Options?: Record<string, string> | null; Labels?: Record<string, string> | null;
  }): Promise<{ Id: string; Warning: string }> {
    const name = body.Name ?? '';
    if (!name) throw new InvalidParameterError('network name is empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new InvalidParameterError(`invalid network name "${name}"`);
    const driver = body.Driver || 'bridge';
    if (name === 'bridge' || name === 'host' || name === 'none') {
      throw new BerthError('FORBIDDEN', `${name} is a pre-defined network and cannot be created`);
    }
    if (driver !== 'bridge') throw new NotFoundError(`plugin "${driver}" not found`);
    if (body.EnableIPv6) throw new InvalidParameterError('IPv6 networks are not supported by berth yet');
    return this.serial.run(async () => {
      if (this.networks.some((n) => n.Name === name)) throw new ConflictError(`network with name ${name} already exists`);
      const cfgs = body.IPAM?.Config ?? [];
      if (cfgs.length > 1) throw new InvalidParameterError('only one IPv4 address pool per network is supported');
      const taken = this.networks.filter((n) => n.ipam).map((n) => parseCidr(n.ipam!.subnet));
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
      const rec = this.newRecord(name, 'bridge', { ...(body.Options ?? {}) });
      rec.Internal = !!body.Internal;
      rec.Attachable = !!body.Attachable;
      rec.Labels = { ...(body.Labels ?? {}) };
      rec.IPAM = {
        Driver: body.IPAM?.Driver || 'default', Options: body.IPAM?.Options ?? {},
        Config: [{ Subnet: ipam.state.subnet, Gateway: ipam.state.gateway, ...(ipam.state.ipRange ? { IPRange: ipam.state.ipRange } : {}) }],
      };
      rec.ipam = ipam.state;
      rec.bridge = rec.Options['com.docker.network.bridge.name'] || `berth-${rec.Id.slice(0, 9)}`;
      if (rec.bridge.length > 15) throw new InvalidParameterError(`bridge name ${rec.bridge} is longer than 15 characters`);
      if (this.networks.some((n) => n.bridge === rec.bridge)) throw new ConflictError(`bridge ${rec.bridge} is used by another network`);
      await this.ensureBridges([rec]);
      try {
        await iptablesRestore(this.bridgeRules(rec, '-A'));
        this.networks.push(rec);
        await this.persist();
        await this.startDns(rec);
      } catch (e) {
        this.networks = this.networks.filter((n) => n !== rec);
        await iptablesDelete(this.bridgeRules(rec, '-D')).catch(() => undefined);
        await ipBatch([`link del ${rec.bridge}`], { force: true });
        throw e;
      }
      return { Id: rec.Id, Warning: '' };
    });
  }

  /** The first pool subnet that overlaps neither our networks nor the host's routes. */
  private async pickSubnet(taken: Array<ReturnType<typeof parseCidr>>): Promise<string> {
    const host = (await hostIpv4Prefixes()).map((p) => { try { return parseCidr(p); } catch { return undefined; } }).filter((x) => x !== undefined);
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

  /** Containers attached to a network: all (configured) or only running ones (active endpoints). */
  private attached(n: NetworkRecord, activeOnly: boolean): NetworkedContainer[] {
    return this.containers.all().filter((c) => Object.values(c.NetworkSettings?.Networks ?? {}).some((e) => e.NetworkID === n.Id)
      && (!activeOnly || this.containers.isRunning(c.Id)));
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (n.Name === 'bridge' || n.Name === 'host' || n.Name === 'none') {
      throw new BerthError('FORBIDDEN', `${n.Name} is a pre-defined network and cannot be removed`);
    }
    await this.serial.run(async () => {
      if (this.attached(n, true).length) {
        throw new ConflictError(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      }
      this.dns.get(n.Id)?.close();
      this.dns.delete(n.Id);
      await iptablesDelete(this.bridgeRules(n, '-D'));
      await ipBatch([`link del ${n.bridge}`], { force: true });
      this.networks = this.networks.filter((x) => x !== n);
      await this.persist();
    });
  }

  async prune(filters: Map<string, string[]>, matches: (created: number, labels: Record<string, string>) => boolean): Promise<{ NetworksDeleted: string[] }> {
    void filters;
    const deleted: string[] = [];
    for (const n of this.all()) {
      if (n.Name === 'bridge' || n.Name === 'host' || n.Name === 'none') continue;
      if (this.attached(n, false).length) continue;
      if (!matches(Date.parse(n.Created), n.Labels)) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch { /* in use meanwhile */ }
    }
    return { NetworksDeleted: deleted };
  }

  /**
   * Attach a container to a network: the endpoint goes into `rec.NetworkSettings` and, when the
   * container runs, its veth and address are made now. The caller (the container service) saves `rec`.
   */
  async connect(rec: NetworkedContainer, netRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const n = this.get(netRef);
    const mode = rec.HostConfig.NetworkMode || 'default';
    if (n.Driver !== 'bridge' || mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
      throw new BerthError('FORBIDDEN', 'container cannot be disconnected from host network or connected to host network');
    }
    if (n.Name === 'bridge' && cfg.Aliases?.length) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
    await this.serial.run(async () => {
      rec.NetworkSettings ??= emptySettings();
      if (Object.values(rec.NetworkSettings.Networks).some((e) => e.NetworkID === n.Id)) {
        throw new BerthError('FORBIDDEN', `endpoint with name ${rec.Name} already exists in network ${n.Name}`);
      }
      const ep = emptyEndpoint(n.Id, cfg);
      if (this.containers.isRunning(rec.Id) && rec.NetworkSettings.SandboxKey) {
        const netns = NetworkManager.netnsName(rec.Id);
        const index = Object.values(rec.NetworkSettings.Networks).filter((e) => e.IPAddress).length;
        const lines = this.endpointLines(rec, n, ep, `eth${index}`, netns);
        try {
          await ipBatch(lines.host);
          await ipBatch(lines.inner, { netns });
        } catch (e) {
          new Ipam(n.ipam!).release(rec.Id);
          await ipBatch([`link del ${NetworkManager.vethName(rec.Id, n.Id)}`], { force: true });
          throw e;
        }
        await this.persist();
      }
      rec.NetworkSettings.Networks[n.Name] = ep;
    });
  }

  /** Detach a container from a network (its veth and address too); the caller saves `rec`. */
  async disconnect(rec: NetworkedContainer, netRef: string): Promise<void> {
    const n = this.get(netRef);
    await this.serial.run(async () => {
      const entry = Object.entries(rec.NetworkSettings?.Networks ?? {}).find(([, e]) => e.NetworkID === n.Id);
      if (!entry) throw new BerthError('FORBIDDEN', `container ${rec.Id} is not connected to network ${n.Name}`);
      if (n.Driver !== 'bridge') throw new BerthError('FORBIDDEN', 'container cannot be disconnected from host network or connected to host network');
      if (entry[1].IPAddress) {
        await ipBatch([`link del ${NetworkManager.vethName(rec.Id, n.Id)}`], { force: true });
        new Ipam(n.ipam!).release(rec.Id);
        await this.persist();
      }
      delete rec.NetworkSettings!.Networks[entry[0]];
    });
  }

  /** GET /networks/{id}: the record without private fields, with its containers. */
  view(n: NetworkRecord, withContainers: boolean) {
    const { bridge: _b, ipam: _i, ...pub } = n;
    void _b; void _i;
    const containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> = {};
    if (withContainers) {
      for (const c of this.attached(n, true)) {
        const ep = Object.values(c.NetworkSettings!.Networks).find((e) => e.NetworkID === n.Id)!;
        if (!ep.EndpointID && n.Driver === 'bridge') continue;
        containers[c.Id] = {
          Name: c.Name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress,
          IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '', IPv6Address: '',
        };
      }
    }
    return { ...pub, EnableIPv4: true, Containers: containers };
  }
}

function unique<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}
