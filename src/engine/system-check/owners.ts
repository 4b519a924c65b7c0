/**
 * Who else on the host holds containers, read from /proc: every daemon on the host shares the
 * `/berth` cgroups and the `berth-<id12>` namespaces, so a check must not take another daemon's
 * for ours. A live shim (runtime/shim-launch.ts passes `--bundle <container folder>` and
 * `--cgroup /berth/<id>`) holds its rootfs mount and cgroup before the container's record says
 * "running"; a live berthd's data root (`--data-root`, default /var/lib/berth) names its
 * containers by their folders.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_DATA_ROOT = '/var/lib/berth';

export interface HostOwners {
  /** Container folders of live shims. */
  bundles: Set<string>;
  /** Container IDs of live shims' cgroups. */
  cgroups: Set<string>;
  /** Container IDs in the data roots of live daemons (and the default data root). */
  containers: Set<string>;
}

async function cmdlines(): Promise<string[][]> {
  const out: string[][] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    try { out.push((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')); } catch { /* gone */ }
  }
  return out;
}

const isDaemon = (argv: string[]) => argv.some((a) => /(^|\/)berthd(\.mjs)?$/.test(a) || a.endsWith('src/daemon/main.ts'));

export async function hostOwners(): Promise<HostOwners> {
  const out: HostOwners = { bundles: new Set(), cgroups: new Set(), containers: new Set() };
  const roots = new Set<string>([DEFAULT_DATA_ROOT]);
  for (const argv of await cmdlines()) {
    const value = (flag: string) => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
    if (argv[0]?.endsWith('berth-shim')) {
      const bundle = value('--bundle');
      const cgroup = value('--cgroup');
      if (bundle) out.bundles.add(bundle);
      if (cgroup) out.cgroups.add(cgroup.split('/').pop()!);
    } else if (isDaemon(argv)) {
      roots.add(value('--data-root') ?? DEFAULT_DATA_ROOT);
    }
  }
  for (const root of roots) {
    for (const id of await readdir(join(root, 'containers')).catch(() => [] as string[])) out.containers.add(id);
  }
  return out;
}
