import { readFileSync } from 'node:fs';

/** berthd settings: flags override /etc/berth/daemon.json, which overrides defaults. */
export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  configFile: string;
  pidFile: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  debug: boolean;
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

const USAGE = `Usage:	berthd [OPTIONS]

A container engine that speaks the Docker Engine API

Options:
      --config-file string        Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string          Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                     Enable debug mode
  -H, --host list                 Daemon socket to listen on (default unix:///run/berth/berth.sock)
      --insecure-registry list    Registries reached over plain HTTP
  -p, --pidfile string            Path to use for daemon PID file (default "/run/berth/berthd.pid")
      --registry-mirror list      Preferred registry mirror for Docker Hub images
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
      case '--config-file': flags.configFile = next(); break;
      case '-p': case '--pidfile': flags.pidFile = next(); break;
      case '--registry-mirror': (flags.registryMirrors ??= []).push(next()); break;
      case '--insecure-registry': (flags.insecureRegistries ??= []).push(next()); break;
      case '-D': case '--debug': flags.debug = true; break;
      default: throw new UsageError(`unknown flag: ${arg}\nSee 'berthd --help'.`);
    }
  }
  return { flags, help };
}

export function usage(): string { return USAGE; }

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
  return {
    hosts: flags.hosts ?? list(file.hosts) ?? DEFAULTS.hosts,
    dataRoot: flags.dataRoot ?? (file['data-root'] as string | undefined) ?? DEFAULTS.dataRoot,
    configFile,
    pidFile: flags.pidFile ?? (file.pidfile as string | undefined) ?? DEFAULTS.pidFile,
    registryMirrors: flags.registryMirrors ?? list(file['registry-mirrors']) ?? [],
    insecureRegistries: flags.insecureRegistries ?? list(file['insecure-registries']) ?? [],
    debug: flags.debug ?? (file.debug === true),
  };
}

export function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new UsageError(`unsupported host ${host}: only unix:// sockets for now`);
}
