/**
 * The facts behind GET /version and GET /info: the daemon's identity and configuration, what the
 * stores hold, and the host it runs on. The API shapes them (api/views/system.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ContainerRecord } from './containers/types.js';
import { hostCgroups, type CgroupFacts } from './runtime/resources.js';

export interface SystemConfig {
  dataRoot: string;
  registryMirrors: string[];
  engineVersion: string;
  apiVersion: string;
  minApiVersion: string;
}

export interface HostFacts {
  kernelVersion: string;
  /** PRETTY_NAME and VERSION_ID of /etc/os-release */
  operatingSystem: string;
  osVersion: string;
  /** Node's process.arch (x64, arm64…) */
  arch: string;
  ncpu: number;
  memTotal: number;
  hostname: string;
  nodeVersion: string;
  proxy: { http: string; https: string; no: string };
}

export interface SystemFacts {
  /** A stable daemon ID kept in the data root. */
  id: string;
  config: SystemConfig;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
  indexServerAddress: string;
  /** Whether containers get bridge networking (else a loopback-only namespace). */
  bridgeNetworking: boolean;
  host: HostFacts;
  /** What the host's cgroups enforce (probed at daemon start): /info's CgroupVersion and limit booleans. */
  cgroups: CgroupFacts;
}

export interface SystemSources {
  containers(): ContainerRecord[];
  imageCount(): number;
  indexServerAddress: string;
  bridgeNetworking(): boolean;
}

export class SystemService {
  private readonly id: string;
  private readonly config: SystemConfig;

  constructor(config: SystemConfig, private readonly sources: SystemSources) {
    const { dataRoot, registryMirrors, engineVersion, apiVersion, minApiVersion } = config;
    this.config = { dataRoot, registryMirrors, engineVersion, apiVersion, minApiVersion };
    this.id = engineId(dataRoot);
    hostCgroups(); // probed once, at daemon start
  }

  /** The version facts alone: cheap, no store is read. */
  versionFacts(): { config: SystemConfig; host: HostFacts } {
    return { config: this.config, host: hostFacts() };
  }

  facts(): SystemFacts {
    const all = this.sources.containers();
    const running = all.filter((c) => c.State.Status === 'running').length;
    const paused = all.filter((c) => c.State.Status === 'paused').length;
    return {
      id: this.id,
      config: this.config,
      containers: { total: all.length, running, paused, stopped: all.length - running - paused },
      images: this.sources.imageCount(),
      indexServerAddress: this.sources.indexServerAddress,
      bridgeNetworking: this.sources.bridgeNetworking(),
      host: hostFacts(),
      cgroups: hostCgroups(),
    };
  }
}

function hostFacts(): HostFacts {
  const os = osRelease();
  return {
    kernelVersion: release(),
    operatingSystem: os.PRETTY_NAME ?? 'Linux',
    osVersion: os.VERSION_ID ?? '',
    arch: process.arch,
    ncpu: cpus().length,
    memTotal: totalmem(),
    hostname: hostname(),
    nodeVersion: process.version,
    proxy: { http: process.env.HTTP_PROXY ?? '', https: process.env.HTTPS_PROXY ?? '', no: process.env.NO_PROXY ?? '' },
  };
}

function osRelease(): Record<string, string> {
  let text: string;
  try {
    text = readFileSync('/etc/os-release', 'utf8');
  } catch {
    return {}; // no os-release: reported as plain "Linux"
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)=("?)(.*)\2$/.exec(line);
    if (m) out[m[1]!] = m[3]!;
  }
  return out;
}

/** A stable daemon ID kept in the data root. */
function engineId(root: string): string {
  const file = join(root, 'engine-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomUUID();
    try {
      writeFileSync(file, id, { mode: 0o600 }); // as dockerd's engine-id (data-root.ts narrows an older one)
    } catch { /* read-only root: a fresh id each start */ }
    return id;
  }
}
