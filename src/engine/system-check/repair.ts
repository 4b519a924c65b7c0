/**
 * One repair step per kind of finding. Each undoes only what its check attributed to this daemon,
 * and nothing a running container uses: a step that would is refused with the reason.
 */
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../host/command.js';
import { mountsUnder } from '../mountinfo.js';
import { iptablesDelete } from '../network/host.js';
import { ROOTFS_DIRS } from './containers.js';
import type { CheckSources, CheckState, Finding, FindingKind } from './types.js';

type Step = (f: Finding, src: CheckSources, state: CheckState) => Promise<void>;

async function host(cmd: string, args: string[]): Promise<void> {
  const r = await runCommand(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

function stopped(src: CheckSources, id: string) {
  const rec = src.containers().find((c) => c.Id === id);
  if (rec && (src.isRunning(rec) || rec.State.Status === 'restarting')) throw new Error('the container is running; stop it and check again');
  return rec;
}

const removeImage: Step = async (f, src, state) => {
  const img = src.images().find((i) => i.id === f.Object);
  if (!img) return; // gone meanwhile
  for (const c of img.chainIDs) state.released.add(c);
  await src.removeImage(img.id);
};

export const REPAIRS: Record<FindingKind, Step> = {
  'blob-corrupt': (f, src) => rm(join(src.root, f.Path), { force: true }),
  'layer-unreferenced': async (f, src, state) => {
    state.released.add(f.Object);
    if (src.layers.has(f.Object)) await src.layers.remove(f.Object);
    else await rm(join(src.root, f.Path), { recursive: true, force: true }); // on disk only (not loaded)
  },
  'image-missing-config': removeImage,
  'image-missing-layer': removeImage,
  'container-missing-layer': async (f, src, state) => {
    const rec = stopped(src, f.Object);
    if (!rec) return;
    for (const c of rec.Layers ?? []) state.released.add(c);
    await src.removeContainer(rec.Id);
  },
  'container-missing-rootfs': async (f, src) => {
    if (!stopped(src, f.Object)) return;
    for (const d of ROOTFS_DIRS) await mkdir(join(src.containerDir(f.Object), d), { recursive: true });
  },
  'mount-leftover': (f) => host('umount', ['-l', f.Object]),
  'netns-orphan': (f) => host('ip', ['netns', 'del', f.Object]),
  'veth-orphan': (f) => host('ip', ['link', 'del', f.Object]),
  'cgroup-orphan': (f) => rmdir(f.Path),
  'iptables-rule-stale': (f) => iptablesDelete({ nat: [`-D ${f.Object.slice(3)}`], filter: [] }),
  'temp-leftover': async (f, src) => {
    const path = join(src.root, f.Path);
    if ((await mountsUnder(path)).length) throw new Error('something is mounted below it');
    await rm(path, { recursive: true, force: true });
  },
};
