import { dirname, join } from 'node:path';
import { mountShareableShm, SHM_DIR } from '../host/shm.js';
import { ConflictError } from '../errors.js';
import { ociResources } from '../runtime/resources.js';
import { buildSpec, type NamespaceChoice } from '../runtime/spec.js';
import { devicesFromPath, hostDevices } from '../runtime/devices.js';
import { parseSeccompProfile } from '../runtime/seccomp.js';
import { applyUserMounts } from '../volumes/mounts.js';
import {
  cgroupnsMode, deviceCgroupRules, deviceMappings, ipcMode, parseSecurityOpt, pidMode, ulimits, utsMode, type NsMode,
} from './host-options.js';
import type { ContainerRecord } from './types.js';

/** dockerd's docker-init: Debian's tini, static so it runs in any image. */
export const INIT_BINARY = '/usr/bin/tini-static';

/** Looks a container up by name or ID (for `--pid/--ipc container:<x>`). */
export type ContainerLookup = (ref: string) => ContainerRecord;

/** The running donor of a `container:<x>` namespace: its PID, or dockerd's 409. */
function donorPid(mode: NsMode, what: string, lookup: ContainerLookup | undefined): number {
  if (mode.kind !== 'container' || !lookup) throw new ConflictError(`cannot join ${what} of a container here`);
  const donor = lookup(mode.ref);
  if (donor.State.Status !== 'running' && donor.State.Status !== 'paused' || !donor.State.Pid) {
    throw new ConflictError(`cannot join ${what} of a non running container: ${donor.Id}`);
  }
  return donor.State.Pid;
}

/**
 * The container record → OCI runtime spec. The rootfs is mounted by the shim after this runs,
 * so names in `User` are resolved from the layers' merged /etc/passwd (host/in-root.ts).
 */
export async function specForContainer(
  rec: ContainerRecord,
  paths: { rootfs: string; dir: string; network?: 'host' | 'none' | { path: string } },
  lookup?: ContainerLookup,
): Promise<object> {
  // The layers as the kernel will merge them (upper first), resolved in-root: never a host path.
  const etcRoot = [join(paths.dir, 'upper'), ...rec.LowerDirs];
  const hc = rec.HostConfig;
  const privileged = !!hc.Privileged;
  const sec = parseSecurityOpt(hc.SecurityOpt as string[] | undefined);

  const pid = pidMode(hc);
  const pidNs: NamespaceChoice = pid.kind === 'container' ? { path: `/proc/${donorPid(pid, 'PID', lookup)}/ns/pid` } : pid.kind;
  const ipc = ipcMode(hc);
  let ipcNs: NamespaceChoice = ipc.kind === 'container' ? 'private' : ipc.kind;
  // the host's IPC namespace comes with the host's /dev/shm; `none` has no /dev/shm at all; a
  // shareable one's /dev/shm is a tmpfs on the host (in its folder), which a joiner binds too
  let shm: 'private' | 'none' | { source: string } = ipc.kind === 'host' ? { source: '/dev/shm' } : ipc.raw === 'none' ? 'none' : 'private';
  if (ipc.raw === 'shareable') {
    shm = { source: join(paths.dir, SHM_DIR) };
    await mountShareableShm(shm.source, hc.ShmSize);
  } else if (ipc.kind === 'container') {
    const pid = donorPid(ipc, 'IPC namespace', lookup);
    const donor = lookup!(ipc.ref);
    if (donor.HostConfig.IpcMode !== 'shareable') {
      throw new ConflictError(`cannot join IPC of container ${donor.Id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    ipcNs = { path: `/proc/${pid}/ns/ipc` };
    shm = { source: join(dirname(paths.dir), donor.Id, SHM_DIR) };
  }

  const devices = [];
  if (privileged) for (const d of await hostDevices()) devices.push({ ...d, access: 'rwm' });
  for (const m of deviceMappings(hc)) {
    for (const d of await devicesFromPath(m.PathOnHost, m.PathInContainer)) devices.push({ ...d, access: m.CgroupPermissions });
  }

  const spec = await buildSpec({
    id: rec.Id,
    args: [rec.Path, ...rec.Args],
    env: rec.Config.Env,
    cwd: rec.Config.WorkingDir || '/',
    user: rec.Config.User,
    groupAdd: (hc.GroupAdd as string[] | null | undefined) ?? [],
    hostname: rec.Config.Hostname,
    domainname: rec.Config.Domainname,
    rootfsPath: paths.rootfs,
    readonlyRootfs: hc.ReadonlyRootfs,
    tty: rec.Config.Tty,
    binds: [
      { source: join(paths.dir, 'resolv.conf'), destination: '/etc/resolv.conf' },
      { source: join(paths.dir, 'hostname'), destination: '/etc/hostname' },
      { source: join(paths.dir, 'hosts'), destination: '/etc/hosts' },
    ],
    shmSize: hc.ShmSize,
    resources: ociResources(hc),
    network: paths.network ?? (hc.NetworkMode === 'host' ? 'host' : 'private'),
    rlimits: ulimits(hc),
    sysctls: (hc.Sysctls as Record<string, string> | null | undefined) ?? undefined,
    capAdd: (hc.CapAdd as string[] | null | undefined) ?? undefined,
    capDrop: (hc.CapDrop as string[] | null | undefined) ?? undefined,
    oomScoreAdj: (hc.OomScoreAdj as number | undefined) ?? 0,
    privileged,
    seccomp: sec.seccomp === 'unconfined' ? null : sec.seccomp === 'default' ? undefined : parseSeccompProfile(sec.seccomp),
    noNewPrivileges: sec.noNewPrivileges,
    writableCgroups: sec.writableCgroups,
    devices,
    deviceCgroupRules: deviceCgroupRules(hc),
    pid: pidNs,
    ipc: ipcNs,
    shm,
    uts: utsMode(hc).kind === 'host' ? 'host' : 'private',
    cgroupns: cgroupnsMode(hc).raw === 'private' ? 'private' : 'host',
    init: hc.Init ? INIT_BINARY : undefined,
    maskedPaths: Array.isArray(hc.MaskedPaths) ? (hc.MaskedPaths as string[]) : undefined,
    readonlyPaths: Array.isArray(hc.ReadonlyPaths) ? (hc.ReadonlyPaths as string[]) : undefined,
    annotations: (hc.Annotations as Record<string, string> | null | undefined) ?? undefined,
  }, etcRoot);
  applyUserMounts(spec, rec.MountPoints);
  // The client's terminal size from create (API >= 1.42), so the first output already fits it.
  const size = hc.ConsoleSize as [number, number] | undefined;
  const proc = spec.process as { consoleSize?: { height: number; width: number } } | undefined;
  if (rec.Config.Tty && proc && Array.isArray(size) && size[0] > 0 && size[1] > 0) {
    proc.consoleSize = { height: size[0], width: size[1] };
  }
  return spec;
}
