/**
 * What the live container shims hold, read from their command lines (runtime/shim-launch.ts passes
 * `--bundle <container folder>`, `--cgroup /berth/<id>`): a shim mounts the rootfs and the runtime
 * makes the cgroup before the container's state says "running", so these are in use even when
 * no record says so yet. Any daemon's shims count: none of theirs is ours to clean.
 */
import { readFile, readdir } from 'node:fs/promises';

export interface LiveShims { bundles: Set<string>; cgroups: Set<string> }

export async function liveShims(): Promise<LiveShims> {
  const out: LiveShims = { bundles: new Set(), cgroups: new Set() };
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    try { argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0'); } catch { continue; }
    if (!argv[0]?.endsWith('berth-shim')) continue;
    for (let i = 1; i + 1 < argv.length; i++) {
      if (argv[i] === '--bundle') out.bundles.add(argv[i + 1]!);
      if (argv[i] === '--cgroup') out.cgroups.add(argv[i + 1]!.split('/').pop()!);
    }
  }
  return out;
}
