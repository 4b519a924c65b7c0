import { join } from 'node:path';
import { buildSpec } from '../runtime/spec.js';
import { ociResources } from '../runtime/resources.js';
import { applyUserMounts } from '../volumes/mounts.js';
import type { ContainerRecord } from './types.js';

/**
 * The container record → OCI runtime spec. The rootfs is mounted by the shim after this runs,
 * so names in `User` are resolved from the layers' merged /etc/passwd (host/in-root.ts).
 */
export async function specForContainer(rec: ContainerRecord, paths: { rootfs: string; dir: string; network?: 'host' | 'none' | { path: string } }): Promise<object> {
  // The layers as the kernel will merge them (upper first), resolved in-root: never a host path.
  const etcRoot = [join(paths.dir, 'upper'), ...rec.LowerDirs];
  const spec = await buildSpec({
    id: rec.Id,
    args: [rec.Path, ...rec.Args],
    env: rec.Config.Env,
    cwd: rec.Config.WorkingDir || '/',
    user: rec.Config.User,
    hostname: rec.Config.Hostname,
    domainname: rec.Config.Domainname,
    rootfsPath: paths.rootfs,
    readonlyRootfs: rec.HostConfig.ReadonlyRootfs,
    tty: rec.Config.Tty,
    binds: [
      { source: join(paths.dir, 'resolv.conf'), destination: '/etc/resolv.conf' },
      { source: join(paths.dir, 'hostname'), destination: '/etc/hostname' },
      { source: join(paths.dir, 'hosts'), destination: '/etc/hosts' },
    ],
    shmSize: rec.HostConfig.ShmSize,
    resources: ociResources(rec.HostConfig),
    network: paths.network ?? (rec.HostConfig.NetworkMode === 'host' ? 'host' : 'private'),
  }, etcRoot);
  applyUserMounts(spec, rec.MountPoints);
  // The client's terminal size from create (API >= 1.42), so the first output already fits it.
  const size = rec.HostConfig.ConsoleSize as [number, number] | undefined;
  const proc = spec.process as { consoleSize?: { height: number; width: number } } | undefined;
  if (rec.Config.Tty && proc && Array.isArray(size) && size[0] > 0 && size[1] > 0) {
    proc.consoleSize = { height: size[0], width: size[1] };
  }
  return spec;
}
