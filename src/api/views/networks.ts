/** Network responses (GET /networks, GET /networks/{id}) in the negotiated API version's shape. */
import type { NetworkAttachment, NetworkRecord } from '../../engine/network/types.js';
import type { NetworkEndpointResource, NetworkResource } from '../../wire/types.js';
import { versionAtLeast } from '../version.js';

/** A network without its private fields (bridge interface, address plan), with these containers. */
export function networkResource(n: NetworkRecord, attachments: readonly NetworkAttachment[], version: string): NetworkResource {
  const containers: Record<string, NetworkEndpointResource> = {};
  for (const a of attachments) {
    const ep = a.endpoint;
    containers[a.containerId] = {
      Name: a.name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress,
      IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '', IPv6Address: '',
    };
  }
  return {
    Name: n.Name, Id: n.Id, Created: n.Created, Scope: n.Scope, Driver: n.Driver,
    // API 1.47 added EnableIPv4; IPv4 is always on here.
    ...(versionAtLeast(version, '1.47') ? { EnableIPv4: true } : {}),
    EnableIPv6: n.EnableIPv6, IPAM: n.IPAM, Internal: n.Internal, Attachable: n.Attachable, Ingress: n.Ingress,
    ConfigFrom: n.ConfigFrom, ConfigOnly: n.ConfigOnly, Containers: containers, Options: n.Options, Labels: n.Labels,
  };
}

/** GET /networks lists the networks without their containers (dockerd's list is not "detailed" since API 1.28). */
export function networkSummary(n: NetworkRecord, version: string): NetworkResource {
  return networkResource(n, [], version);
}
