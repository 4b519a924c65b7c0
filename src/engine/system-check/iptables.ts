/**
 * DNAT rules in this daemon's nat chain (network/chains.ts) that send a published port to an
 * address no container of this daemon has: what a crash between a container's exit and its
 * tear-down leaves (the chain is rebuilt at start, so only a live daemon can have them).
 */
import { iptablesSave } from '../network/host.js';
import type { CheckSources, Finding } from './types.js';

export async function staleRules(src: CheckSources): Promise<Finding[]> {
  const chain = src.natChain();
  if (!chain) return [];
  const held = new Set<string>();
  for (const c of src.containers()) {
    for (const ep of Object.values(c.NetworkSettings?.Networks ?? {})) if (ep.IPAddress) held.add(ep.IPAddress);
  }
  let lines: string[] = [];
  try { lines = await iptablesSave('nat'); } catch { return []; }
  const out: Finding[] = [];
  for (const line of lines) {
    if (!line.startsWith(`-A ${chain} `)) continue;
    const m = / -j DNAT --to-destination ([0-9.]+):\d+/.exec(line);
    if (!m || held.has(m[1]!)) continue;
    out.push({
      Kind: 'iptables-rule-stale', Object: line, Path: `nat ${chain}`,
      Problem: `published port rule to ${m[1]}, an address no container of this daemon has`,
      Repair: 'delete the rule',
    });
  }
  return out;
}
