import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from '../engine/network/manager.js';
import { interfaceNameProblem } from '../engine/network/config.js';
import { parseDashboardAddress, type DashboardAddress } from './dashboard-address.js';

/** berthd settings: flags override /etc/berth/daemon.json, which overrides defaults. */
export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  configFile: string;
  pidFile: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  debug: boolean;
  /** `--tls`: serve TLS on tcp:// hosts (implied by --tlsverify). */
  tls?: boolean;
  /** `--tlsverify`: require and verify client certificates (mutual TLS); on whenever TLS is, unless set false. */
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** The TLS files of tcp:// listeners, set when TLS is on (always mutual: see tlsSettings). */
  tlsFiles?: TlsFiles;
  /** Bridge networking; undefined with `--bridge none`. */
  network?: NetworkConfig;
  bridge?: string;
  bip?: string;
  addressPools?: Array<{ base: string; size: number }>;
  /** `max-image-load-size` (bytes): cap on a load's or import's decompressed archive. */
  maxImageLoadSize?: number;
  /** `--dashboard 127.0.0.1:PORT` / daemon.json `dashboard`: serve the web UI there (off when unset). */
  dashboard?: DashboardAddress;
}

export const DEFAULTS: DaemonConfig = {
  hosts: ['unix:///run/berth/berth.sock'],
  dataRoot: '/var/lib/berth',
  configFile: '/etc/berth/daemon.json',
  pidFile: '/run/berth/berthd.pid',
  registryMirrors: [],
  insecureRegistries: [],
  debug: false,
};

/** Files of a TLS listener: the CA that client certificates must chain to, the server's pair. */
export interface TlsFiles { caFile: string; certFile: string; keyFile: string }

/**
 * dockerd's defaults for the TLS files: $DOCKER_CERT_PATH, else $DOCKER_CONFIG, else ~/.docker,
 * holding ca.pem, cert.pem and key.pem; DOCKER_TLS_VERIFY (non-empty) turns verification on.
 */
export function tlsDefaults(env: NodeJS.ProcessEnv = process.env): { dir: string; verify: boolean } {
  const dir = env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || join(homedir(), '.docker');
  return { dir, verify: !!env.DOCKER_TLS_VERIFY };
}

const USAGE = `Usage:	berthd [OPTIONS]

The Berth daemon: a container engine serving the Docker Engine API

Options:
  -b, --bridge string             Bridge interface for the default network ("none": no default network) (default "berth0")
      --bip string                Address and prefix length of the default bridge (default "172.31.0.1/16")
      --config-file string        JSON file with the daemon settings (default "/etc/berth/daemon.json")
      --default-address-pool pool Range that subnets of new networks come from (base=CIDR,size=N)
      --dashboard string          Serve the web dashboard on 127.0.0.1:PORT (0 picks a free port)
      --data-root string          Directory where images, containers and volumes are kept (default "/var/lib/berth")
  -D, --debug                     Log debugging output
  -H, --host list                 Address to serve the API on (default unix:///run/berth/berth.sock)
      --insecure-registry list    Registry to talk to over plain HTTP
      --max-image-load-size bytes Biggest archive, once decompressed, that load and import take (default 64g)
  -p, --pidfile string            File the daemon writes its PID to (default "/run/berth/berthd.pid")
      --registry-mirror list      Mirror to try first for Docker Hub images
      --tls                       Serve TLS (--tlsverify turns this on as well)
      --tlscacert string          CA certificate; accept only clients it signed (default "~/.docker/ca.pem")
      --tlscert string            Server certificate file for TLS (default "~/.docker/cert.pem")
      --tlskey string             Private key file of the server certificate (default "~/.docker/key.pem")
      --tlsverify                 Serve TLS and require a client certificate (tcp:// hosts need it)
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
      case '--dashboard': flags.dashboard = parseDashboardAddress(next()); break;
      case '-b': case '--bridge': flags.bridge = next(); break;
      case '--bip': flags.bip = next(); break;
      case '--default-address-pool': (flags.addressPools ??= []).push(parsePool(next())); break;
      case '--config-file': flags.configFile = next(); break;
      case '-p': case '--pidfile': flags.pidFile = next(); break;
      case '--registry-mirror': (flags.registryMirrors ??= []).push(next()); break;
      case '--insecure-registry': (flags.insecureRegistries ??= []).push(next()); break;
      case '-D': case '--debug': flags.debug = true; break;
      case '--tls': flags.tls = parseBool(arg, value); break;
      case '--tlsverify': flags.tlsVerify = parseBool(arg, value); break;
      case '--tlscacert': flags.tlsCaCert = next(); break;
      case '--tlscert': flags.tlsCert = next(); break;
      case '--tlskey': flags.tlsKey = next(); break;
      case '--max-image-load-size': flags.maxImageLoadSize = parseByteSize(arg, next()); break;
      default: throw new UsageError(`unknown flag: ${arg}\nSee 'berthd --help'.`);
    }
  }
  return { flags, help };
}

export function usage(): string { return USAGE; }

/** A boolean flag: bare, or `--flag=true|false` (pflag's ParseBool spellings). */
function parseBool(flag: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new UsageError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

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
  const hosts = flags.hosts ?? list(file.hosts) ?? DEFAULTS.hosts;
  const tlsFiles = tlsSettings(flags, file, configFile);
  for (const host of hosts) checkHost(host, tlsFiles !== undefined);
  return {
    hosts,
    dataRoot: flags.dataRoot ?? (file['data-root'] as string | undefined) ?? DEFAULTS.dataRoot,
    configFile,
    pidFile: flags.pidFile ?? (file.pidfile as string | undefined) ?? DEFAULTS.pidFile,
    registryMirrors: flags.registryMirrors ?? list(file['registry-mirrors']) ?? [],
    insecureRegistries: flags.insecureRegistries ?? list(file['insecure-registries']) ?? [],
    debug: flags.debug ?? (file.debug === true),
    tlsFiles,
    network: networkConfig(flags, file),
    maxImageLoadSize: flags.maxImageLoadSize ?? (file['max-image-load-size'] === undefined ? undefined : parseByteSize('max-image-load-size', file['max-image-load-size'])),
    dashboard: flags.dashboard ?? (file.dashboard === undefined ? undefined : parseDashboardAddress(file.dashboard)),
  };
}

/** A size in bytes: a positive integer, or a number with b, k, m, g, t (powers of 1024), as dockerd's RAMInBytes. */
export function parseByteSize(what: string, v: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(String(v).trim());
  const n = m ? Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase())) : NaN;
  if (typeof v === 'boolean' || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`invalid ${what} ${JSON.stringify(v)}: a size in bytes (e.g. 10g) is expected`);
  return n;
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
 * TLS as dockerd reads it: on with `--tls` or any `--tlsverify` (or DOCKER_TLS_VERIFY), and then
 * verifying clients unless `--tlsverify=false` says otherwise; flags before daemon.json's `tls`,
 * `tlsverify`, `tlscacert`, `tlscert`, `tlskey`. dockerd serves TLS without client verification
 * with a warning; berthd refuses it: a listener that checks no client certificate gives root on
 * this machine to whoever reaches the port, exactly as plain TCP does.
 */
function tlsSettings(flags: Partial<DaemonConfig>, file: Record<string, unknown>, configFile: string): TlsFiles | undefined {
  const bool = (key: string): boolean | undefined => {
    const v = file[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new UsageError(`invalid ${key} in ${configFile}: not a boolean`);
    return v;
  };
  const str = (key: string): string | undefined => {
    const v = file[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v) throw new UsageError(`invalid ${key} in ${configFile}: not a path`);
    return v;
  };
  const defaults = tlsDefaults();
  const verifySet = flags.tlsVerify ?? bool('tlsverify');
  const verify = verifySet ?? defaults.verify;
  const on = (flags.tls ?? bool('tls') ?? false) || verifySet !== undefined || verify;
  if (!on) return undefined;
  if (verifySet === false) {
    throw new UsageError('refusing --tlsverify=false: TLS without client certificate verification gives root access on this machine to everyone who can reach the port; berthd serves tcp:// only with mutual TLS (--tlsverify, --tlscacert, --tlscert, --tlskey)');
  }
  return {
    caFile: flags.tlsCaCert ?? str('tlscacert') ?? join(defaults.dir, 'ca.pem'),
    certFile: flags.tlsCert ?? str('tlscert') ?? join(defaults.dir, 'cert.pem'),
    keyFile: flags.tlsKey ?? str('tlskey') ?? join(defaults.dir, 'key.pem'),
  };
}

/**
 * A TCP listener gives root on this machine to whoever reaches the port: dockerd warns (and from
 * v27 refuses unless told `--tls=false`); berthd refuses any tcp:// host without mutual TLS.
 */
function checkHost(host: string, mutualTls: boolean): void {
  const tcp = tcpAddress(host);
  if (!tcp) {
    socketPath(host);
    return;
  }
  if (!mutualTls) {
    throw new UsageError(`refusing to listen on ${host} without --tlsverify: binding to an IP address without TLS client verification gives root access on this machine to everyone who can reach it on the network (and to scripts run in a browser); use --tlsverify with --tlscacert, --tlscert and --tlskey, or a unix:// socket`);
  }
}

/** `tcp://host:port` (or dockerd's bare `host:port`): host and port; undefined for other schemes. Port 2375 and host 127.0.0.1 by default, as dockerd's. */
export function tcpAddress(host: string): { host: string; port: number } | undefined {
  let rest: string;
  if (host.startsWith('tcp://')) rest = host.slice('tcp://'.length);
  else if (!host.includes('://') && !host.startsWith('/')) rest = host;
  else return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]*)(?::(\d{1,5}))?\/?$/.exec(rest);
  const port = m?.[2] === undefined ? 2375 : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw new UsageError(`invalid bind address format: ${host}`);
  return { host: m[1].replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new UsageError(`unsupported host ${host}: only unix:// and tcp:// hosts`);
}
