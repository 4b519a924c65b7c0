/**
 * Network namespaces named for containers that do not exist (`berth-<id12>`, network/sandbox.ts):
 * what a crash between `ip netns add` and the tear-down leaves. Namespaces are shared by every
 * daemon on the host, so one counts only when no process is in it and it is this daemon's: the
 * host side of a veth in it is on one of our bridges. One without any veth cannot be told from
 * another daemon's being set up (or another test's) and is left.
 */
import { runCommand } from '../host/command.js';
import type { CheckSources, Finding } from './types.js';

interface Link { ifindex: number; ifname: string; master?: string; link_index?: number; link_type?: string }

async function links(netns?: string): Promise<Link[]> {
  const r = await runCommand('ip', [...(netns ? ['-n', netns] : []), '-j', 'link', 'show']);
  if (r.code !== 0) return [];
  try { return JSON.parse(r.stdout || '[]') as Link[]; } catch { return []; }
}

async function namespaces(): Promise<string[]> {
  const r = await runCommand('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => /^berth-[0-9a-f]{12}$/.test(n)).sort();
}

export async function orphanNamespaces(src: CheckSources): Promise<Finding[]> {
  const ours = src.containers().map((c) => c.Id);
  const bridges = new Set(src.bridges());
  const hostLinks = new Map((await links()).map((l) => [l.ifindex, l]));
  const out: Finding[] = [];
  for (const ns of await namespaces()) {
    const prefix = ns.slice('berth-'.length);
    if (ours.some((id) => id.startsWith(prefix))) continue;
    const pids = await runCommand('ip', ['netns', 'pids', ns]);
    if (pids.code !== 0 || pids.stdout.trim() !== '') continue;
    const peers = (await links(ns)).filter((l) => l.link_index !== undefined).map((l) => hostLinks.get(l.link_index!));
    const mine = peers.some((p) => p?.master !== undefined && bridges.has(p.master));
    if (!mine) continue;
    out.push({
      Kind: 'netns-orphan', Object: ns, Path: `/run/netns/${ns}`,
      Problem: `network namespace of container ${prefix}, which does not exist; no process in it`,
      Repair: 'delete the namespace (and the veths in it)',
    });
  }
  return out;
}

