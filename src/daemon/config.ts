import { readFileSync } from 'node:fs';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from '../engine/network/manager.js';
import { interfaceNameProblem } from '../engine/network/config.js';

/** berthd settings: flags override /etc/berth/daemon.json, which overrides defaults. */
export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  configFile: string;
  pidFile: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  debug: boolean;
  /** `--tlsverify`: a TCP listener would need mutual TLS (not supported yet: TCP hosts are refused). */
  tlsVerify: boolean;
  /** Bridge networking; undefined with `--bridge none`. */
  network?: NetworkConfig;
  bridge?: string;
  bip?: string;
  addressPools?: Array<{ base: string; size: number }>;
}

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth/berth.sock'],
  dataRoot: '/var/lib/berth',
  configFile: '/etc/berth/daemon.json',
  pidFile: '/run/berth/berthd.pid',
  registryMirrors: [],
  insecureRegistries: [],
  debug: false,
  tlsVerify: false,
};

const USAGE = `Usage:	berthd [OPTIONS]

A container engine that speaks the Docker Engine API

Options:
  -b, --bridge string             Interface of the default bridge network, or "none" (default "berth0")
      --bip string                Gateway address and prefix of the default bridge (default "172.31.0.1/16")
      --config-file string        Daemon configuration file (default "/etc/berth/daemon.json")
      --default-address-pool pool Pool for user-defined networks' subnets (base=CIDR,size=N)
      --data-root string          Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                     Enable debug mode
  -H, --host list                 Daemon socket to listen on (default unix:///run/berth/berth.sock)
      --insecure-registry list    Registries reached over plain HTTP
  -p, --pidfile string            Path to use for daemon PID file (default "/run/berth/berthd.pid")
      --registry-mirror list      Preferred registry mirror for Docker Hub images
      --tlsverify                 Use TLS and verify the remote (required for tcp:// hosts; not supported yet)
`;

export class UsageError extends Error {}

/** Parse argv (without node and script). Throws UsageError with the message to print. */
export function parseDaemonArgs(argv: string[]): { flags: Partial<DaemonConfig>; help: boolean } {
  const flags: Partial<DaemonConfig> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: ${arg}`);
      return v;
    };
    switch (arg) {
      case '-h': case '--help': help = true; break;
      case '-H': case '--host': (flags.hosts ??= []).push(next()); break;
      case '--data-root': flags.dataRoot = next(); break;
      case '-b': case '--bridge': flags.bridge = next(); break;
      case '--bip': flags.bip = next(); break;
      case '--default-address-pool': (flags.addressPools ??= []).push(parsePool(next())); break;
      case '--config-file': flags.configFile = next(); break;
      case '-p': case '--pidfile': flags.pidFile = next(); break;
      case '--registry-mirror': (flags.registryMirrors ??= []).push(next()); break;
      case '--insecure-registry': (flags.insecureRegistries ??= []).push(next()); break;
      case '-D': case '--debug': flags.debug = true; break;
      case '--tlsverify': flags.tlsVerify = value === undefined ? true : value !== 'false'; break;
      default: throw new UsageError(`unknown flag: ${arg}\nSee 'berthd --help'.`);
    }
  }
  return { flags, help };
}

export function usage(): string { return USAGE; }

/** `base=10.10.0.0/16,size=24` (the flag) or {base, size} (daemon.json). */
export function parsePool(v: unknown): { base: string; size: number } {
  if (typeof v === 'object' && v && 'base' in v) return { base: String((v as { base: unknown }).base), size: Number((v as { size?: unknown }).size ?? 24) };
  const kv = Object.fromEntries(String(v).split(',').map((p) => p.split('=', 2) as [string, string]));
  if (!kv.base || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(kv.base)) throw new UsageError(`invalid default address pool: ${String(v)}`);
  const size = Number(kv.size ?? 24);
  if (!Number.isInteger(size) || size < 8 || size > 30) throw new UsageError(`invalid default address pool size: ${String(v)}`);
  return { base: kv.base, size };
}

/** Merge defaults, the JSON config file (if present) and flags. */
export function loadConfig(flags: Partial<DaemonConfig>): DaemonConfig {
  const configFile = flags.configFile ?? DEFAULTS.configFile;
  let file: Record<string, unknown> = {};
  try {
    const text = readFileSync(configFile, 'utf8');
    file = text.trim() ? JSON.parse(text) as Record<string, unknown> : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`unable to configure the daemon with file ${configFile}: ${(e as Error).message}`);
    }
  }
  const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);
  const tlsVerify = flags.tlsVerify ?? (file.tlsverify === true);
  const hosts = flags.hosts ?? list(file.hosts) ?? DEFAULTS.hosts;
  for (const host of hosts) checkHost(host, tlsVerify);
  // Honour or refuse: without TLS support the flag could only be accepted and ignored.
  if (tlsVerify) throw new UsageError('--tlsverify: TLS is not supported by berthd yet; use a unix:// socket');
  return {
    hosts,
    dataRoot: flags.dataRoot ?? (file['data-root'] as string | undefined) ?? DEFAULTS.dataRoot,
    configFile,
    pidFile: flags.pidFile ?? (file.pidfile as string | undefined) ?? DEFAULTS.pidFile,
    registryMirrors: flags.registryMirrors ?? list(file['registry-mirrors']) ?? [],
    insecureRegistries: flags.insecureRegistries ?? list(file['insecure-registries']) ?? [],
    debug: flags.debug ?? (file.debug === true),
    tlsVerify,
    network: networkConfig(flags, file),
  };
}

function networkConfig(flags: Partial<DaemonConfig>, file: Record<string, unknown>): NetworkConfig | undefined {
  const fromFile = file.bridge;
  if (fromFile !== undefined && typeof fromFile !== 'string') throw new UsageError(`invalid bridge name in ${flags.configFile ?? DEFAULTS.configFile}: not a string`);
  const bridge = flags.bridge ?? fromFile ?? DEFAULT_NETWORK_CONFIG.bridge;
  if (bridge === 'none') return undefined;
  const problem = interfaceNameProblem(bridge);
  if (problem) throw new UsageError(`invalid bridge name ${JSON.stringify(bridge)}: ${problem}`);
  const pools = flags.addressPools ?? (Array.isArray(file['default-address-pools']) ? (file['default-address-pools'] as unknown[]).map(parsePool) : undefined);
  return {
    bridge,
    bip: flags.bip ?? (file.bip as string | undefined) ?? DEFAULT_NETWORK_CONFIG.bip,
    pools: pools ?? DEFAULT_NETWORK_CONFIG.pools,
  };
}

/**
 * A TCP listener gives root on this machine to whoever reaches the port: dockerd only warns when
 * it has no `--tlsverify`; we refuse it, and since mutual TLS is not implemented yet we refuse
 * `--tlsverify` TCP hosts too, saying so.
 */
function checkHost(host: string, tlsVerify: boolean): void {
  if (!host.startsWith('tcp://')) {
    socketPath(host);
    return;
  }
  if (!tlsVerify) {
    throw new UsageError(`refusing to listen on ${host} without --tlsverify: binding to an IP address without TLS client verification gives root access on this machine to everyone who can reach it on the network`);
  }
  throw new UsageError(`cannot listen on ${host}: TCP hosts require mutual TLS (--tlsverify), which berthd does not support yet; use a unix:// socket`);
}

export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new UsageError(`unsupported host ${host}: only unix:// sockets for now`);
}
