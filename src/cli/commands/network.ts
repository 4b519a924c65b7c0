// network create/ls/inspect/rm/connect/disconnect and port, as docker/cli prints them.
import type { NetworkSummary, PortBinding, PortMap } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { eachArg, filterFlag, FORMAT_FLAG, INSPECT_FORMAT_FLAG, inspectEach, isNotFound, parseFilters, writeFormatted } from './common.js';
import { truncateId } from '../../wire/reference.js';
import { SUMMARY } from '../summaries.js';


/** KEY=VALUE list flags (--label, --opt) → a map. */
function kvList(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i < 0) out[item] = '';
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

async function runCreate(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const subnets = f.subnet as string[];
  const gateways = f.gateway as string[];
  const ranges = f['ip-range'] as string[];
  if (gateways.length > subnets.length || ranges.length > subnets.length) {
    throw new StatusError(1, 'Error response from daemon: a gateway or an ip range needs a subnet');
  }
  const config = subnets.map((s, i) => ({
    Subnet: s, ...(gateways[i] ? { Gateway: gateways[i] } : {}), ...(ranges[i] ? { IPRange: ranges[i] } : {}),
  }));
  const client = await ctx.client();
  const r = await client.networkCreate({
    Name: p.args[0], Driver: (f.driver as string) || 'bridge', Internal: f.internal as boolean, Attachable: f.attachable as boolean,
    EnableIPv6: f.ipv6 as boolean, IPAM: { Driver: (f['ipam-driver'] as string) || 'default', Config: config, Options: kvList(f['ipam-opt'] as string[]) },
    Options: kvList(f.opt as string[]), Labels: kvList(f.label as string[]),
  });
  if (r.Warning) ctx.err.write(`${r.Warning}\n`);
  ctx.out.write(`${r.Id}\n`);
  return 0;
}

class NetworkContext {
  constructor(private readonly n: NetworkSummary, private readonly trunc: boolean) {}
  get ID() { return this.trunc ? truncateId(this.n.Id) : this.n.Id; }
  get Name() { return this.n.Name; }
  get Driver() { return this.n.Driver; }
  get Scope() { return this.n.Scope; }
  get IPv6() { return String(this.n.EnableIPv6); }
  get Internal() { return String(this.n.Internal); }
  get CreatedAt() { return this.n.Created; }
  get Labels() { return Object.entries(this.n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','); }
  Label(name: string) { return this.n.Labels?.[name] ?? ''; }
  toJSON() {
    return { CreatedAt: this.CreatedAt, Driver: this.Driver, ID: this.ID, IPv6: this.IPv6, Internal: this.Internal, Labels: this.Labels, Name: this.Name, Scope: this.Scope };
  }
}

async function runLs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const filters = parseFilters(f.filter as string[], '--filter');
  const list = await client.networkList(filters);
  list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  if (f.quiet) {
    for (const n of list) ctx.out.write(`${f['no-trunc'] ? n.Id : truncateId(n.Id)}\n`);
    return 0;
  }
  writeFormatted(ctx.out, (f.format as string) || 'table', '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
    list.map((n) => new NetworkContext(n, !f['no-trunc'])), { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS' });
  return 0;
}

async function runInspect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, p.args, p.flags.format as string, (name) => client.networkInspect(name, { verbose: p.flags.verbose as boolean }));
}

async function runRm(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return eachArg(ctx, p.args, async (n) => {
    try {
      await client.networkRemove(n);
    } catch (e) {
      if (!(p.flags.force && isNotFound(e))) throw e;
    }
  });
}

async function runConnect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const ip = f.ip as string;
  await client.networkConnect(p.args[0], {
    Container: p.args[1], EndpointConfig: { Aliases: (f.alias as string[]).length ? (f.alias as string[]) : null, IPAMConfig: ip ? { IPv4Address: ip } : null },
  });
  return 0;
}

async function runDisconnect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  await client.networkDisconnect(p.args[0], p.args[1], p.flags.force as boolean);
  return 0;
}

async function runPort(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const c = await client.containerInspect(p.args[0]);
  const ports = (c.NetworkSettings?.Ports as PortMap | null | undefined) ?? {};
  const fmt = (b: PortBinding) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
  if (p.args[1]) {
    let [port, proto = 'tcp'] = p.args[1].split('/');
    proto = proto.toLowerCase();
    const list = ports[`${port}/${proto}`];
    if (!list || list.length === 0) throw new StatusError(1, `Error: No public port '${port}/${proto}' published for ${p.args[0]}`);
    for (const b of list) ctx.out.write(`${fmt(b)}\n`);
    return 0;
  }
  const keys = Object.keys(ports).sort((a, b) => {
    const [pa, ta] = a.split('/');
    const [pb, tb] = b.split('/');
    return Number(pa) - Number(pb) || (ta < tb ? -1 : ta > tb ? 1 : 0);
  });
  for (const k of keys) for (const b of ports[k] ?? []) ctx.out.write(`${k} -> ${fmt(b)}\n`);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  'network-create': {
    spec: {
      use: '[OPTIONS] NETWORK', short: SUMMARY['network create'], minArgs: 1, maxArgs: 1,
      flags: [
        { name: 'attachable', type: 'bool', usage: 'Allow containers to be connected to it by hand' },
        { name: 'driver', short: 'd', type: 'string', def: 'bridge', usage: 'Network driver' },
        { name: 'gateway', type: 'list', typeName: 'strings', usage: 'Gateway address (IPv4 or IPv6) of the main subnet' },
        { name: 'internal', type: 'bool', usage: 'Cut the network off from the outside' },
        { name: 'ip-range', type: 'list', typeName: 'strings', usage: 'Part of the subnet to give container addresses from' },
        { name: 'ipam-driver', type: 'string', def: 'default', usage: 'IP address management (IPAM) driver' },
        { name: 'ipam-opt', type: 'list', typeName: 'map', usage: 'Option for the IPAM driver' },
        { name: 'ipv6', type: 'bool', usage: 'Turn IPv6 networking on or off' },
        { name: 'label', type: 'list', typeName: 'list', usage: 'Label for the network, as key=value' },
        { name: 'opt', short: 'o', type: 'list', typeName: 'map', usage: 'Option for the network driver' },
        { name: 'subnet', type: 'list', typeName: 'strings', usage: 'Subnet of the network, in CIDR notation' },
      ],
    },
    run: runCreate,
  },
  'network-ls': {
    spec: {
      use: '[OPTIONS]', short: SUMMARY['network ls'], maxArgs: 0,
      flags: [
        filterFlag('Show only what matches a condition, e.g. driver=bridge'),
        FORMAT_FLAG,
        { name: 'no-trunc', type: 'bool', usage: 'Print values in full, without shortening them' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print network IDs only' },
      ],
    },
    run: runLs,
  },
  'network-inspect': {
    spec: {
      use: '[OPTIONS] NETWORK [NETWORK...]', short: SUMMARY['network inspect'], minArgs: 1,
      flags: [
        INSPECT_FORMAT_FLAG,
        { name: 'verbose', short: 'v', type: 'bool', usage: 'Add details useful for diagnosis' },
      ],
    },
    run: runInspect,
  },
  'network-rm': {
    spec: {
      use: 'NETWORK [NETWORK...]', short: SUMMARY['network rm'], minArgs: 1,
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Ignore networks that do not exist' }],
    },
    run: runRm,
  },
  'network-connect': {
    spec: {
      use: '[OPTIONS] NETWORK CONTAINER', short: SUMMARY['network connect'], minArgs: 2, maxArgs: 2,
      flags: [
        { name: 'alias', type: 'list', typeName: 'strings', usage: 'Extra name for the container on this network' },
        { name: 'ip', type: 'string', usage: 'IPv4 address for the container, e.g. 172.30.100.104' },
      ],
    },
    run: runConnect,
  },
  'network-disconnect': {
    spec: {
      use: '[OPTIONS] NETWORK CONTAINER', short: SUMMARY['network disconnect'], minArgs: 2, maxArgs: 2,
      flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Disconnect the container even when it cannot be done cleanly' }],
    },
    run: runDisconnect,
  },
  port: {
    spec: { use: 'CONTAINER [PRIVATE_PORT[/PROTO]]', short: SUMMARY.port, aliases: ['container port', 'port'], flags: [], minArgs: 1, maxArgs: 2 },
    run: runPort,
  },
};
