/**
 * Networking, as libnetwork does it for the bridge driver; the facade the engine wires. The jobs
 * live in their own files:
 * - store.ts: the network records (networks.json) and the predefined networks;
 * - networks.ts: create, remove, prune, connect, disconnect; bridges.ts: the bridges' links;
 * - sandbox.ts: a container's namespace, veths, addresses, /etc files and published ports;
 * - chains.ts: our iptables chains; dns-servers.ts: the embedded DNS of user-defined networks;
 * - endpoints.ts: a container's NetworkSettings (pure); etc-files.ts: its /etc/hosts, resolv.conf;
 * - filters.ts: the list filters; config.ts: the daemon's settings; host.ts: the ip/iptables batches.
 *
 * Endpoint data lives in the container records (NetworkSettings), which only the container
 * service writes: methods here change the record object they are given and the caller saves it.
 * Startup rebuilds our chains from both, re-opens the proxies of running containers and removes
 * what stopped containers left behind.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chains } from './chains.js';
import { logFailure } from '../log-failure.js';
import type { NetworkConfig } from './config.js';
import { DnsServers } from './dns-servers.js';
import { clearLive, endpointsAtCreate, networkMode } from './endpoints.js';
import { validateEtcOptions } from './etc-files.js';
import { linkEnv, normalizeLinks, type LinkLookup } from './links.js';
import { NETWORK_PRUNE_FILTERS, networkMatches, parseNetworkFilters } from './filters.js';
import { NO_FILTERS, type FilterArgs } from '../filters.js';
import { parsePruneFilters, pruneMatches } from '../prune.js';
import { ensureBridgeNetfilter, Serial } from './host.js';
import { bridgeOptions } from './options.js';
import { Bridges } from './bridges.js';
import { Networks, type NetworkCreateRequest } from './networks.js';
import { netnsName, Sandboxes, type SpecNetwork } from './sandbox.js';
import { hasEmbeddedDns, NetworkStore } from './store.js';
import type { EndpointConfig, NetworkAttachment, NetworkedContainer, NetworkEventSink, NetworkRecord } from './types.js';

export { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from './config.js';
export type { SpecNetwork } from './sandbox.js';
export type { NetworkEventSink } from './types.js';

/** What networking needs from the container side (it never writes container records). */
export interface ContainerAccess {
  get(ref: string): NetworkedContainer;
  all(): NetworkedContainer[];
  /** Whether the container with this ID runs (or is paused). */
  isRunning(id: string): boolean;
  /** The container's folder. */
  dir(id: string): string;
}

export class NetworkManager {
  private readonly store: NetworkStore;
  private readonly serial = new Serial();
  private readonly chains: Chains;
  private readonly dns: DnsServers;
  private readonly sandboxes: Sandboxes;
  private readonly networks: Networks;
  private readonly bridges: Bridges;

  constructor(root: string, private readonly cfg: NetworkConfig, private readonly containers: ContainerAccess, events: NetworkEventSink = () => undefined) {
    this.store = new NetworkStore(join(root, 'networks.json'));
    this.chains = new Chains(cfg.bridge);
    this.dns = new DnsServers(containers);
    this.sandboxes = new Sandboxes(this.store, this.chains, this.serial, containers, events);
    this.bridges = new Bridges(root, (name) => this.store.hadBridge(name));
    this.networks = new Networks(this.store, cfg, this.chains, this.serial, this.sandboxes, this.dns, containers, this.bridges, events);
  }

  /** A container's namespace name (test/helpers/daemon.ts cleans up with it). */
  static netnsName(containerId: string): string { return netnsName(containerId); }
  /** Remove a daemon's chains and the jumps to them (tests' clean-up). */
  static removeChains(bridge: string): Promise<void> { return Chains.remove(bridge); }

  // ---------------------------------------------------------------- startup

  /**
   * Before the container service reconciles: networks, bridges, chains, leftovers, proxies, DNS.
   * Returns the IDs of the containers whose NetworkSettings it cleared (the container service saves them).
   */
  async init(records: NetworkedContainer[]): Promise<string[]> {
    this.store.load(this.cfg);
    try { writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n'); } catch { /* read-only /proc: forwarding is the host's business */ }
    const bridges = this.store.all().filter((n) => n.Driver === 'bridge');
    // enable_icc=false networks need bridged traffic in iptables (off again after a reboot)
    if (bridges.some((n) => !bridgeOptions(n).icc)) await ensureBridgeNetfilter().catch(logFailure('turning on bridge-nf-call-iptables for enable_icc=false'));
    await this.bridges.ensure(bridges);
    // What stopped containers left (a daemon killed mid-stop, a host that lost power): free it.
    const running = records.filter((r) => r.State.Status === 'running' || r.State.Status === 'paused');
    const live = running.filter((r) => r.NetworkSettings?.SandboxKey);
    const liveIds = new Set(live.map((r) => r.Id));
    const cleared: string[] = [];
    for (const rec of records) {
      if (liveIds.has(rec.Id)) continue;
      if (rec.NetworkSettings?.SandboxKey || this.store.holdsAddress(rec.Id)) {
        // Best effort: what is already gone need not be removed again.
        await this.sandboxes.teardown(rec).catch(() => undefined);
        clearLive(rec);
        cleared.push(rec.Id);
      }
    }
    this.store.keepAddressesOf(liveIds);
    // A full disk must not keep the daemon from starting: memory holds the truth, written at the next change.
    await this.store.persist().catch(logFailure('saving the networks at start'));
    await this.chains.rebuild(bridges, live.map((r) => this.sandboxes.published(r)).filter((p) => p !== undefined));
    for (const rec of running) await this.sandboxes.readopt(rec);
    for (const n of bridges) {
      // A DNS address taken by someone else: names on that network do not resolve until the next start.
      if (hasEmbeddedDns(n)) await this.dns.start(n).catch(() => undefined);
    }
    return cleared;
  }

  /** Stop the proxies and DNS sockets (daemon shutdown); rules and namespaces stay for the restart. */
  close(): void {
    this.sandboxes.close();
    this.dns.close();
  }

  // ---------------------------------------------------------------- lookups

  find(ref: string): NetworkRecord | undefined { return this.store.find(ref); }
  get(ref: string): NetworkRecord { return this.store.get(ref); }
  all(): NetworkRecord[] { return this.store.all(); }

  // ---------------------------------------------------------------- a container's life

  /** At create: check the mode, fill NetworkSettings.Networks from NetworkMode and NetworkingConfig. */
  onCreate(rec: NetworkedContainer): void {
    const mode = networkMode(rec);
    if (mode.startsWith('container:')) this.containers.get(mode.slice('container:'.length));
    validateEtcOptions(rec.HostConfig);
    const links = normalizeLinks(rec, (rec.HostConfig as { Links?: unknown }).Links, this.containers as unknown as LinkLookup);
    (rec.HostConfig as { Links?: string[] | null }).Links = links;
    rec.NetworkSettings = endpointsAtCreate(rec, this.store);
  }

  /** Before the runtime starts the container; returns what the OCI spec's network namespace should be. */
  setup(rec: NetworkedContainer, dir: string): Promise<SpecNetwork> { return this.sandboxes.setup(rec, dir); }

  /** --link environment variables for the container's process (its children must be running). */
  linkEnv(rec: NetworkedContainer): string[] { return linkEnv(rec, this.containers as unknown as LinkLookup); }

  /** After the container stopped (or failed to start): rules, proxies, veths, namespace, addresses. */
  release(rec: NetworkedContainer): Promise<void> { return this.sandboxes.release(rec); }

  // ---------------------------------------------------------------- the networks API

  create(body: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> { return this.networks.create(body); }
  remove(ref: string): Promise<void> { return this.networks.remove(ref); }
  /** The caller (the container service) saves `rec`. */
  connect(rec: NetworkedContainer, netRef: string, cfg: EndpointConfig = {}): Promise<void> { return this.networks.connect(rec, netRef, cfg); }
  /** The caller (the container service) saves `rec`. */
  disconnect(rec: NetworkedContainer, netRef: string): Promise<void> { return this.networks.disconnect(rec, netRef); }

  /** GET /networks: the networks the filters (filters.ts) select. */
  list(filters: FilterArgs = NO_FILTERS): NetworkRecord[] {
    const f = parseNetworkFilters(filters);
    return this.store.all().filter((n) => networkMatches(f, n, () => this.networks.attachments(n).length > 0));
  }

  /** GET /networks/{id}: the network and its running containers' endpoints. */
  inspect(ref: string): { network: NetworkRecord; attachments: NetworkAttachment[] } {
    const network = this.store.get(ref);
    return { network, attachments: this.networks.attachments(network) };
  }

  /** POST /networks/prune: unused user-defined networks matching until/label/label!; their names. */
  prune(filters: FilterArgs = NO_FILTERS): Promise<string[]> {
    const f = parsePruneFilters(filters, NETWORK_PRUNE_FILTERS);
    return this.networks.prune((n) => pruneMatches(f, Date.parse(n.Created), n.Labels));
  }
}
