/**
 * The honoured security and process options of HostConfig, parsed and checked as dockerd does at
 * create (each bad value a 400 with dockerd's or runc's message): --security-opt, --cap-add/-drop,
 * --sysctl, --device, --device-cgroup-rule, --ulimit, --ipc, --pid, --uts, --cgroupns,
 * --oom-score-adj, --shm-size, --stop-signal. containers/spec.ts applies them at start.
 */
import { InvalidParameterError } from '../errors.js';
import { normalizeCapabilities } from '../runtime/capabilities.js';
import { parseSeccompProfile } from '../runtime/seccomp.js';
import { parseSignal } from '../runtime/signals.js';
import type { ContainerConfig, HostConfig } from './types.js';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "default", "unconfined", or the profile's JSON text (the docker CLI sends a file's content) */
  seccomp: string;
  /** accepted as dockerd on a host without AppArmor / SELinux: nothing to apply */
  apparmor?: string;
  labels: string[];
  writableCgroups?: boolean;
}

const parseBool = (v: string): boolean | undefined => {
  const t = v.toLowerCase();
  if (['1', 't', 'true'].includes(t)) return true;
  if (['0', 'f', 'false'].includes(t)) return false;
  return undefined;
};

/** moby's parseSecurityOpt (`=` or the old `:` separator). */
export function parseSecurityOpt(list: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', labels: [] };
  for (const opt of list ?? []) {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    if (opt === 'disable') { out.labels.push('disable'); continue; }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw new InvalidParameterError(`invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const k = opt.slice(0, i);
    const v = opt.slice(i + 1);
    switch (k) {
      case 'label': out.labels.push(v); break;
      case 'apparmor': out.apparmor = v; break;
      case 'seccomp': out.seccomp = v === '' ? 'default' : v; break;
      case 'no-new-privileges': {
        const b = parseBool(v);
        if (b === undefined) throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = b;
        break;
      }
      case 'writable-cgroups': {
        const b = parseBool(v);
        if (b === undefined) throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
        out.writableCgroups = b;
        break;
      }
      default: throw new InvalidParameterError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  if (out.seccomp !== 'default' && out.seccomp !== 'unconfined') parseSeccompProfile(out.seccomp);
  return out;
}

/** `host`, `private`, or a namespace to join (`container:<name|id>`). */
export type NsMode = { kind: 'private' } | { kind: 'host' } | { kind: 'container'; ref: string };

function nsMode(value: unknown, what: string, allowed: readonly string[], joinable: boolean): NsMode & { raw: string } {
  const raw = String(value ?? '');
  if (joinable && raw.startsWith('container:')) {
    const ref = raw.slice('container:'.length);
    if (ref) return { kind: 'container', ref, raw };
  } else if (allowed.includes(raw)) {
    return raw === 'host' ? { kind: 'host', raw } : { kind: 'private', raw };
  }
  throw new InvalidParameterError(`invalid ${what} mode: ${raw}`);
}

export const ipcMode = (hc: Partial<HostConfig>) => nsMode(hc.IpcMode, 'IPC', ['', 'private', 'shareable', 'none', 'host'], true);

export const pidMode = (hc: Partial<HostConfig>) => nsMode(hc.PidMode, 'PID', ['', 'host'], true);
export const utsMode = (hc: Partial<HostConfig>) => nsMode(hc.UTSMode, 'UTS', ['', 'host'], false);
export const cgroupnsMode = (hc: Partial<HostConfig>) => nsMode(hc.CgroupnsMode, 'cgroup namespace', ['', 'host', 'private'], false);

/** runc's namespaced sysctls (libcontainer/configs/validate). */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

export function checkSysctls(sysctls: Record<string, unknown> | null | undefined, ns: { hostNet: boolean; hostIpc: boolean }): void {
  for (const [k, v] of Object.entries(sysctls ?? {})) {
    if (typeof v !== 'string') throw new InvalidParameterError(`invalid JSON: sysctl ${k} must be a string`);
    if (IPC_SYSCTLS.includes(k) || k.startsWith('fs.mqueue.')) {
      if (ns.hostIpc) throw new InvalidParameterError(`sysctl "${k}" is not allowed in the hosts ipc namespace`);
      continue;
    }
    if (k.startsWith('net.')) {
      if (ns.hostNet) throw new InvalidParameterError(`sysctl "${k}" is not allowed in the hosts network namespace`);
      continue;
    }
    if (k === 'kernel.hostname' || k === 'kernel.domainname') {
      throw new InvalidParameterError(`sysctl "${k}" is not allowed as it conflicts with the OCI "${k.slice(7)}" field`);
    }
    throw new InvalidParameterError(`sysctl "${k}" is not in a separate kernel namespace`);
  }
}

export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }

export function deviceMappings(hc: Partial<HostConfig>): DeviceMapping[] {
  const list = (hc.Devices ?? []) as Array<Partial<DeviceMapping>>;
  return list.map((d) => {
    const onHost = String(d.PathOnHost ?? '');
    const inC = String(d.PathInContainer || onHost);
    const perms = String(d.CgroupPermissions || 'rwm');
    if (!onHost.startsWith('/')) throw new InvalidParameterError(`${onHost} is not an absolute path`);
    if (!inC.startsWith('/')) throw new InvalidParameterError(`${inC} is not an absolute path`);
    if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) throw new InvalidParameterError(`invalid device mode: ${perms}`);
    return { PathOnHost: onHost, PathInContainer: inC, CgroupPermissions: perms };
  });
}

export interface CgroupRule { allow: true; type: string; major?: number; minor?: number; access: string }

/** `c 1:3 rwm`, `a *:* m` (moby's device cgroup rule syntax). */
export function deviceCgroupRules(hc: Partial<HostConfig>): CgroupRule[] {
  return ((hc.DeviceCgroupRules ?? []) as string[]).map((rule) => {
    const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(String(rule));
    if (!m) throw new InvalidParameterError(`invalid device cgroup format '${rule}'`);
    const r: CgroupRule = { allow: true, type: m[1]!, access: m[4]! };
    if (m[2] !== '*') r.major = Number(m[2]);
    if (m[3] !== '*') r.minor = Number(m[3]);
    return r;
  });
}

/** go-units' ulimit names. */
const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

export function ulimits(hc: Partial<HostConfig>): Array<{ type: string; soft: number; hard: number }> {
  return ((hc.Ulimits ?? []) as Array<{ Name?: string; Soft?: number; Hard?: number }>).map((u) => {
    const name = String(u.Name ?? '');
    if (!ULIMIT_NAMES.includes(name)) throw new InvalidParameterError(`invalid ulimit type: ${name}`);
    const soft = Number(u.Soft ?? 0);
    const hard = Number(u.Hard ?? soft);
    if (!Number.isInteger(soft) || !Number.isInteger(hard)) throw new InvalidParameterError(`invalid ulimit value for ${name}`);
    if (soft > hard && hard >= 0) throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    return { type: name, soft, hard };
  });
}

const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Everything above, at create: a bad value never waits for start to fail. */
export function checkHostOptions(hc: Partial<HostConfig>, config: Partial<ContainerConfig>): void {
  for (const f of ['SecurityOpt', 'CapAdd', 'CapDrop', 'GroupAdd', 'DeviceCgroupRules', 'MaskedPaths', 'ReadonlyPaths', 'Binds', 'VolumesFrom', 'Links', 'ExtraHosts', 'Dns', 'DnsOptions', 'DnsSearch']) {
    if (hc[f] !== undefined && hc[f] !== null && !isStringList(hc[f])) throw new InvalidParameterError(`invalid JSON: field ${f} must be a list of strings`);
  }
  const tmpfs = hc.Tmpfs;
  if (tmpfs !== undefined && tmpfs !== null && (typeof tmpfs !== 'object' || Array.isArray(tmpfs) || Object.values(tmpfs).some((v) => typeof v !== 'string'))) {
    throw new InvalidParameterError('invalid JSON: field Tmpfs must be an object of strings');
  }
  parseSecurityOpt(hc.SecurityOpt as string[] | undefined);
  normalizeCapabilities(hc.CapAdd as string[] | undefined);
  normalizeCapabilities(hc.CapDrop as string[] | undefined);
  const ipc = ipcMode(hc);
  pidMode(hc);
  const uts = utsMode(hc);
  cgroupnsMode(hc);
  if (uts.kind === 'host' && config.Hostname) throw new InvalidParameterError('conflicting options: hostname and the UTS mode');
  checkSysctls(hc.Sysctls as Record<string, unknown> | undefined, { hostNet: hc.NetworkMode === 'host', hostIpc: ipc.kind === 'host' });
  deviceMappings(hc);
  deviceCgroupRules(hc);
  ulimits(hc);
  const oom = hc.OomScoreAdj;
  if (oom !== undefined && oom !== null && (!Number.isInteger(oom) || (oom as number) < -1000 || (oom as number) > 1000)) {
    throw new InvalidParameterError(`Invalid value ${String(oom)}, range for oom score adj is [-1000, 1000]`);
  }
  if (typeof hc.ShmSize === 'number' && hc.ShmSize < 0) throw new InvalidParameterError('SHM size can not be less than 0');
  const ann = hc.Annotations;
  if (ann !== undefined && ann !== null && (typeof ann !== 'object' || Array.isArray(ann) || Object.values(ann).some((v) => typeof v !== 'string'))) {
    throw new InvalidParameterError('invalid JSON: field Annotations must be an object of strings');
  }
  // crun reads `run.oci.*` annotations as orders (e.g. run.oci.seccomp_bpf_data replaces the
  // seccomp filter): a client could weaken the container while inspect shows the default profile.
  const runtimeKey = Object.keys(ann ?? {}).find((k) => k.startsWith('run.oci.'));
  if (runtimeKey) throw new InvalidParameterError(`not supported by Berth: HostConfig.Annotations key ${runtimeKey} (run.oci.* annotations direct the OCI runtime)`);
  if (config.StopSignal) parseSignal(config.StopSignal);
}
