/**
 * The bridges' links: created, addressed and brought up in one ip batch, and never adopted from
 * the host. A bridge Berth makes carries an interface alias naming its owner (`berth:<tag>`, the
 * tag from this daemon's data root); an existing interface with a network's bridge name is used
 * only when it is a bridge with that alias. Anything else (`lo`, `eth0`, Docker's `docker0`) is
 * refused, so the daemon never moves the host's addresses or deletes its links at `network rm`.
 * Bridges that networks.json already named (made before the alias existed, or under a data root
 * since moved) are adopted and marked.
 */
import { createHash } from 'node:crypto';
import { ConflictError, SystemError } from '../errors.js';
import { runCommand } from '../host/command.js';
import { interfaceNameProblem } from './config.js';
import { ipBatch } from './host.js';
import { Ipam } from './ipam.js';
import { bridgeOptions } from './options.js';
import type { NetworkRecord } from './types.js';

/** What `ip -j -d link show` says of an interface. */
interface HostLink { ifname: string; ifalias?: string; linkinfo?: { info_kind?: string } }

export class Bridges {
  /** The alias our bridges carry. */
  readonly alias: string;

  /**
   * `root`: the network folder of the data root (one owner tag per daemon); `legacy`: whether a
   * bridge name was in networks.json before this start (made by a version without the alias).
   */
  constructor(root: string, private readonly legacy: (bridge: string) => boolean) {
    this.alias = `berth:${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
  }

  /** Create missing bridges, give them their gateway address, bring them up (one ip batch). */
  async ensure(nets: NetworkRecord[]): Promise<void> {
    const links = await hostLinks();
    const lines: string[] = [];
    for (const n of nets) {
      const name = n.bridge!;
      const problem = interfaceNameProblem(name);
      if (problem) throw new SystemError(`network ${n.Name}: invalid bridge name ${JSON.stringify(name)}: ${problem}`);
      const link = links.get(name);
      if (!link) {
        lines.push(`link add ${name} type bridge`, `link set dev ${name} alias ${this.alias}`);
      } else if (!this.owns(link)) {
        throw new ConflictError(`network ${n.Name}: interface ${name} already exists on the host and was not created by this daemon; refusing to use it as a bridge`);
      } else if (link.ifalias !== this.alias) {
        lines.push(`link set dev ${name} alias ${this.alias}`);
      }
      const { mtu } = bridgeOptions(n);
      if (mtu) lines.push(`link set dev ${name} mtu ${mtu}`);
      lines.push(`addr replace ${n.ipam!.gateway}/${new Ipam(n.ipam!).prefix} dev ${name}`);
      lines.push(`link set ${name} up`);
    }
    await ipBatch(lines);
  }

  /** Whether an existing host interface is one of our bridges. */
  private owns(link: HostLink): boolean {
    if (link.linkinfo?.info_kind !== 'bridge') return false;
    if (link.ifalias === this.alias) return true;
    // Named in networks.json: made by a version without the alias, or by this data root elsewhere.
    return this.legacy(link.ifname) && (!link.ifalias || link.ifalias.startsWith('berth:'));
  }
}

/** Every interface of the host, by name. */
async function hostLinks(): Promise<Map<string, HostLink>> {
  const r = await runCommand('ip', ['-j', '-d', 'link', 'show']);
  if (r.code !== 0) throw new SystemError(`ip link show: ${r.stderr.trim() || `exit ${r.code}`}`);
  const links = JSON.parse(r.stdout || '[]') as HostLink[];
  return new Map(links.map((l) => [l.ifname, l]));
}
