/**
 * Network records and the network part of container records, in the Engine API's shapes. The
 * network side never imports the container side: `NetworkedContainer` is what it reads and fills of
 * a container record, and containers/types.ts's ContainerRecord has that shape.
 */
import type { EtcOptions } from './etc-files.js';
import type { IpamState } from './ipam.js';

/** A network as kept in networks.json: the API's shape (without its containers) plus private fields. */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** private: the bridge interface and the address plan (stripped from API views) */
  bridge?: string;
  ipam?: IpamState;
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export type PortMapJson = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

/** rec.NetworkSettings: what inspect shows (merged over the defaults by the view). */
export interface ContainerNetworkSettings {
  Networks: Record<string, EndpointSettings>;
  Ports: PortMapJson;
  SandboxID: string;
  /** the network namespace path while running */
  SandboxKey: string;
  Bridge: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  EndpointID: string;
}

/** The parts of a container record networking reads (ids, names, modes, ports) and fills (NetworkSettings). */
export interface NetworkedContainer {
  Id: string;
  /** Without the leading slash. */
  Name: string;
  Config: { Hostname: string; Domainname: string; ExposedPorts?: Record<string, object> };
  HostConfig: { NetworkMode: string; PortBindings?: unknown; PublishAllPorts?: unknown } & EtcOptions;
  /** The create request's NetworkingConfig ({ EndpointsConfig }), as the client sent it. */
  NetworkingConfig?: unknown;
  NetworkSettings?: ContainerNetworkSettings;
  State: { Status: string; StartedAt: string };
}

/** `docker network connect`'s endpoint options. */
export interface EndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: EndpointSettings['IPAMConfig'];
  /** API ≥ 1.44: the endpoint's MAC address (else Config.MacAddress for the primary network). */
  MacAddress?: string;
  Links?: string[] | null;
  DriverOpts?: Record<string, string> | null;
}

/** A running container's active endpoint on a network (inspect's `Containers`, `dangling`). */
export interface NetworkAttachment { containerId: string; name: string; endpoint: EndpointSettings }

/**
 * Where the network side reports dockerd's network events: `create`/`destroy` of a network,
 * `connect`/`disconnect` of a container (attributes `container`, then `name` and `type` added by
 * the sink, as dockerd's LogNetworkEventWithAttributes).
 */
export type NetworkEventSink = {
  (action: 'create' | 'destroy' | 'connect' | 'disconnect', n: NetworkRecord, containerId?: string): void;
  /** after POST /networks/prune (dockerd: no actor ID, `reclaimed: 0`) */
  (action: 'prune'): void;
};
