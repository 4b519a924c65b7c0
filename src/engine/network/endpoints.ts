/**
 * A container's endpoints (NetworkSettings.Networks): the empty shapes, the endpoints a create
 * request asks for, the one its default route and published ports go through, and forgetting the
 * live fields when the container stops. Pure functions over the records; no host changes.
 */
import { isIPv4 } from 'node:net';
import { InvalidParameterError, NotFoundError } from '../errors.js';
import type { NetworkStore } from './store.js';
import type { ContainerNetworkSettings, EndpointConfig, EndpointSettings, NetworkedContainer, NetworkRecord } from './types.js';

export function emptyEndpoint(networkId: string, cfg?: EndpointConfig): EndpointSettings {
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

/** NetworkMode with Docker's default spelled out. */
export function networkMode(rec: NetworkedContainer): string {
  return rec.HostConfig.NetworkMode || 'default';
}

/** host, none and container:<x> have no endpoints of their own. */
export function sharesOrLacksNetwork(mode: string): boolean {
  return mode === 'host' || mode === 'none' || mode.startsWith('container:');
}

/**
 * At create: the endpoints named by NetworkMode and NetworkingConfig.EndpointsConfig (API ≥ 1.44
 * may name several; the extra ones must be user-defined bridges), checked as dockerd checks them.
 */
export function endpointsAtCreate(rec: NetworkedContainer, networks: NetworkStore): ContainerNetworkSettings {
  const mode = networkMode(rec);
  const endpoints = ((rec.NetworkingConfig as { EndpointsConfig?: Record<string, EndpointConfig> } | undefined)?.EndpointsConfig) ?? {};
  const ns = emptySettings();
  if (mode.startsWith('container:')) return ns;
  const net = networks.get(mode === 'default' ? 'bridge' : mode);
  const cfg = endpoints[net.Name] ?? endpoints[net.Id] ?? endpoints[mode] ?? undefined;
  if (cfg?.Aliases?.length && (net.Name === 'bridge' || net.Driver !== 'bridge')) {
    throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
  }
  if (cfg?.IPAMConfig?.IPv4Address && (net.Name === 'bridge' || net.Driver !== 'bridge')) {
    throw new InvalidParameterError('user specified IP address is supported only when connecting to networks with user configured subnets');
  }
  const legacyMac = (rec.Config as { MacAddress?: string }).MacAddress;
  if (legacyMac) checkEndpointConfig({ MacAddress: legacyMac });
  ns.Networks[net.Name] = emptyEndpoint(net.Id, checkEndpointConfig(cfg));
  for (const [name, c] of Object.entries(endpoints)) {
    if (name === mode || name === net.Name || name === net.Id) continue;
    const other = networks.find(name);
    if (!other) throw new NotFoundError(`network ${name} not found`);
    if (other.Id === net.Id) continue;
    checkEndpointConfig(c);
    if (other.Driver !== 'bridge' || net.Driver !== 'bridge') throw new InvalidParameterError('Container cannot be connected to network endpoints');
    ns.Networks[other.Name] = emptyEndpoint(other.Id, c);
  }
  return ns;
}

/** dockerd's checks of one endpoint's settings; what Berth cannot apply is refused by name. */
export function checkEndpointConfig(c: EndpointConfig | undefined): EndpointConfig | undefined {
  if (!c) return c;
  const v4 = c.IPAMConfig?.IPv4Address;
  if (v4 && !isIPv4(v4)) throw new InvalidParameterError(`invalid IPv4 address: ${v4}`);
  if (c.IPAMConfig?.IPv6Address) throw new InvalidParameterError('IPv6 addresses are not supported by Berth (no IPv6 networks yet)');
  if (c.IPAMConfig?.LinkLocalIPs?.length) throw new InvalidParameterError('link-local addresses are not supported by Berth');
  if (c.MacAddress && !/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(c.MacAddress)) throw new InvalidParameterError(`invalid MAC address: ${c.MacAddress}`);
  if (c.Links?.length) throw new InvalidParameterError('endpoint Links are not supported by Berth');
  // dockerd's bridge driver reads no user key of an endpoint's DriverOpts (it keeps and shows
  // them): none would take effect, so each is refused by name.
  const opt = Object.keys(c.DriverOpts ?? {})[0];
  if (opt !== undefined) throw new InvalidParameterError(`endpoint driver option ${opt} is not supported by Berth (the bridge driver applies none)`);
  return c;
}

/**
 * The MAC address the client asked for on network `n` (its EndpointsConfig entry, or the older
 * Config.MacAddress for the container's first network), normalised; undefined: derive one.
 */
export function requestedMac(rec: NetworkedContainer, n: NetworkRecord): string | undefined {
  const endpoints = ((rec.NetworkingConfig as { EndpointsConfig?: Record<string, EndpointConfig> } | undefined)?.EndpointsConfig) ?? {};
  const mode = networkMode(rec);
  // The network NetworkMode names comes first in NetworkSettings.Networks (endpointsAtCreate).
  const isPrimary = Object.keys(rec.NetworkSettings?.Networks ?? {})[0] === n.Name;
  const cfg = endpoints[n.Name] ?? endpoints[n.Id] ?? (isPrimary ? endpoints[mode] : undefined);
  const mac = cfg?.MacAddress || (isPrimary ? (rec.Config as { MacAddress?: string }).MacAddress : undefined);
  return mac ? mac.toLowerCase().replaceAll('-', ':') : undefined;
}

/** The bridge endpoint the container's default route (and its published ports) go through. */
export function primaryEndpoint(rec: NetworkedContainer, networks: NetworkStore): { ip: string; bridge: string; net: NetworkRecord } | undefined {
  for (const [name, ep] of Object.entries(rec.NetworkSettings?.Networks ?? {})) {
    const net = networks.ofEndpoint(ep.NetworkID, name);
    if (net?.Driver === 'bridge' && ep.IPAddress) return { ip: ep.IPAddress, bridge: net.bridge!, net };
  }
  return undefined;
}

/** The container's endpoint on network `n`, if it has one. */
export function endpointOn(rec: NetworkedContainer, n: NetworkRecord): [string, EndpointSettings] | undefined {
  return Object.entries(rec.NetworkSettings?.Networks ?? {}).find(([, e]) => e.NetworkID === n.Id);
}

/** Forget the live parts of the settings (addresses, ports, sandbox); the networks stay configured. */
export function clearLive(rec: NetworkedContainer): void {
  const ns = rec.NetworkSettings;
  if (!ns) return;
  for (const ep of Object.values(ns.Networks)) {
    Object.assign(ep, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', DNSNames: null });
  }
  Object.assign(ns, { SandboxID: '', SandboxKey: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', EndpointID: '' });
  ns.Ports = {};
}
