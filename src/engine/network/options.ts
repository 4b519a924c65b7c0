/**
 * The bridge driver's network options (`docker network create -o k=v`, the create body's
 * `Options`), read as libnetwork's bridge driver reads them (networkConfiguration.fromLabels):
 * booleans as Go's strconv.ParseBool, the MTU as strconv.Atoi, the binding address as an IP, a
 * value that does not parse is a 400 `failed to parse <key> value: <v> (<why>)`. Unlike dockerd,
 * which ignores keys it does not know, a key Berth does not apply is refused by name. Pure: the
 * host work is in bridges.ts (MTU), sandbox.ts (MTU on veths, interface prefix, binding address)
 * and chains.ts (ICC, masquerade).
 */
import { isIPv4 } from 'node:net';
import { BerthError, InvalidParameterError } from '../errors.js';
import { interfaceNameProblem } from './config.js';
import type { NetworkRecord } from './types.js';

export const OPT = {
  name: 'com.docker.network.bridge.name',
  mtu: 'com.docker.network.driver.mtu',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBinding: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  ifacePrefix: 'com.docker.network.container_iface_prefix',
} as const;

const HONOURED: readonly string[] = Object.values(OPT);

/** What a bridge network's options mean, defaults filled in. */
export interface BridgeOptions {
  /** 0: the kernel's default (1500 on a new bridge) */
  mtu: number;
  icc: boolean;
  masquerade: boolean;
  /** the host address of `-p` bindings that name none */
  hostBindingIpv4: string;
  /** the container side's interface names: `<prefix>0`, `<prefix>1`… */
  ifacePrefix: string;
}

/** Go's strconv.ParseBool. */
function parseBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw parseError(key, value, `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/** Go's strconv.Atoi (decimal, optional sign). */
function parseInt10(key: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw parseError(key, value, `strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw parseError(key, value, `strconv.Atoi: parsing ${JSON.stringify(value)}: value out of range`);
  return n;
}

function parseError(key: string, value: string, why: string): InvalidParameterError {
  return new InvalidParameterError(`failed to parse ${key} value: ${value} (${why})`);
}

/**
 * Check a create request's options; returns what they mean. Unknown keys and values Berth
 * cannot apply are refused here, before anything is made.
 */
export function parseBridgeOptions(options: Record<string, string> | null | undefined): BridgeOptions {
  const o = options ?? {};
  for (const key of Object.keys(o)) {
    if (!HONOURED.includes(key)) throw new InvalidParameterError(`network option ${key} is not supported by Berth`);
    if (typeof o[key] !== 'string') throw new InvalidParameterError(`invalid JSON: field Options.${key} must be a string`);
  }
  const out: BridgeOptions = { mtu: 0, icc: true, masquerade: true, hostBindingIpv4: '0.0.0.0', ifacePrefix: 'eth' };
  if (o[OPT.mtu] !== undefined) {
    out.mtu = parseInt10(OPT.mtu, o[OPT.mtu]!);
    // dockerd refuses a negative MTU; the kernel refuses what an Ethernet link cannot carry, said here first.
    if (out.mtu < 0) throw new InvalidParameterError(`invalid MTU number: ${out.mtu}`);
    if (out.mtu !== 0 && (out.mtu < 68 || out.mtu > 65535)) throw new InvalidParameterError(`invalid MTU number: ${out.mtu} (between 68 and 65535)`);
  }
  if (o[OPT.icc] !== undefined) out.icc = parseBool(OPT.icc, o[OPT.icc]!);
  if (o[OPT.masquerade] !== undefined) out.masquerade = parseBool(OPT.masquerade, o[OPT.masquerade]!);
  if (o[OPT.hostBinding] !== undefined) {
    const ip = o[OPT.hostBinding]!;
    if (ip.includes(':')) throw new InvalidParameterError(`${OPT.hostBinding}=${ip}: IPv6 is not supported by Berth`);
    if (!isIPv4(ip)) throw parseError(OPT.hostBinding, ip, 'nil ip');
    out.hostBindingIpv4 = ip;
  }
  if (o[OPT.defaultBridge] !== undefined && parseBool(OPT.defaultBridge, o[OPT.defaultBridge]!)) {
    // dockerd: only the daemon's own bridge (docker0) may be the default one
    throw new BerthError('FORBIDDEN', `bridge device with non default name ${o[OPT.name] || '(generated)'} must be created manually`);
  }
  if (o[OPT.ifacePrefix] !== undefined) {
    const prefix = o[OPT.ifacePrefix]!;
    const problem = prefix ? interfaceNameProblem(`${prefix}99`) : undefined;
    if (problem) throw new InvalidParameterError(`invalid ${OPT.ifacePrefix} ${JSON.stringify(prefix)}: ${problem}`);
    if (prefix) out.ifacePrefix = prefix;
  }
  return out;
}

/** A stored network's options (checked at create; the predefined bridge's are the defaults). */
export function bridgeOptions(n: NetworkRecord): BridgeOptions {
  if (n.Name === 'bridge') {
    const { [OPT.defaultBridge]: _, ...rest } = n.Options;
    return parseBridgeOptions(rest);
  }
  return parseBridgeOptions(n.Options);
}
