/**
 * Veths on this daemon's bridges that belong to no container of it: a container's host-side veth
 * is `veth<7 hex of sha256(container/network)>` (network/sandbox.ts), made at start on the
 * network's bridge. Veths on other bridges (other daemons, docker0) are never looked at.
 */
import { vethName } from '../network/sandbox.js';
import { runCommand } from '../host/command.js';
import type { CheckSources, Finding } from './types.js';

export async function orphanVeths(src: CheckSources): Promise<Finding[]> {
  const bridges = new Set(src.bridges());
  if (!bridges.size) return [];
  const r = await runCommand('ip', ['-j', 'link', 'show', 'type', 'veth']);
  if (r.code !== 0) return [];
  let list: Array<{ ifname: string; master?: string }> = [];
  try { list = JSON.parse(r.stdout || '[]'); } catch { return []; }
  const expected = new Set<string>();
  for (const c of src.containers()) {
    for (const ep of Object.values(c.NetworkSettings?.Networks ?? {})) if (ep.NetworkID) expected.add(vethName(c.Id, ep.NetworkID));
  }
  const out: Finding[] = [];
  for (const l of list) {
    const name = l.ifname.split('@')[0]!;
    if (!/^veth[0-9a-f]{7}$/.test(name) || !l.master || !bridges.has(l.master) || expected.has(name)) continue;
    out.push({
      Kind: 'veth-orphan', Object: name, Path: `bridge ${l.master}`,
      Problem: `veth on bridge ${l.master} of no container of this daemon`,
      Repair: 'delete the veth',
    });
  }
  return out;
}
