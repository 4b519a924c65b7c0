/**
 * Our iptables chains, as libnetwork's DOCKER / DOCKER-FORWARD chains: one nat chain for the
 * published ports' DNAT (jumped to from PREROUTING and OUTPUT), one nat chain for masquerading
 * (from POSTROUTING) and one filter chain for forwarding (from FORWARD). A daemon with another
 * bridge gets chains of its own (BERTH-<TAG>…), so test daemons and a system berthd never meet.
 */
import { iptablesRestore, iptablesSave, type RuleSet } from './host.js';
import { bridgeOptions } from './options.js';
import type { PortMapping } from './ports.js';
import type { NetworkRecord } from './types.js';

export interface ChainNames {
  /** nat: DNAT of published ports */
  nat: string;
  /** nat: masquerade of the bridges' subnets */
  post: string;
  /** filter: forwarding in and out of the bridges */
  fwd: string;
}

export function chainNames(bridge: string): ChainNames {
  const tag = bridge === 'berth0' ? '' : `-${bridge.replace(/^berth-?/, '').toUpperCase().slice(0, 12)}`;
  return { nat: `BERTH${tag}`, post: `BERTH${tag}-POST`, fwd: `BERTH${tag}-FWD` };
}

/** A published port's DNAT to its container: where it goes, through which bridge. */
export interface PublishedPorts { mappings: PortMapping[]; ip: string; bridge: string }

export class Chains {
  readonly names: ChainNames;

  constructor(bridge: string) {
    this.names = chainNames(bridge);
  }

  /** Rules of a bridge network: masquerade of its subnet, forwarding in and out (or only within, when internal). */
  bridgeRules(n: NetworkRecord, op: '-A' | '-D'): RuleSet {
    const br = n.bridge!;
    const subnet = n.ipam!.subnet;
    const fwd = this.names.fwd;
    const { icc, masquerade } = bridgeOptions(n);
    if (n.Internal) {
      const ins = op === '-A' ? `-I ${fwd} 1` : `-D ${fwd}`;
      return {
        nat: [],
        filter: [`${ins} -o ${br} ! -i ${br} -j DROP`, `${ins} -i ${br} ! -o ${br} -j DROP`, `${ins} -i ${br} -o ${br} -j ${icc ? 'ACCEPT' : 'DROP'}`],
      };
    }
    return {
      // enable_ip_masquerade=false: the subnet leaves the host with its own addresses
      nat: masquerade ? [`${op} ${this.names.post} -s ${subnet} ! -o ${br} -j MASQUERADE`] : [],
      // enable_icc=false: nothing between two containers of the bridge (before the bridge's accepts)
      filter: [...(icc ? [] : [`${op} ${fwd} -i ${br} -o ${br} -j DROP`]), `${op} ${fwd} -i ${br} -j ACCEPT`, `${op} ${fwd} -o ${br} -j ACCEPT`],
    };
  }

  /** DNAT rules of a container's published ports (nat table). */
  portRules(p: PublishedPorts, op: '-A' | '-D'): string[] {
    return p.mappings.map((m) => {
      const dst = m.hostIp && m.hostIp !== '0.0.0.0' ? ` -d ${m.hostIp}/32` : '';
      return `${op} ${this.names.nat}${dst} ! -i ${p.bridge} -p ${m.proto} -m ${m.proto} --dport ${m.hostPort} -j DNAT --to-destination ${p.ip}:${m.containerPort}`;
    });
  }

  /** Our chains from scratch (one iptables-restore): jumps from the built-in chains once, then every rule. */
  async rebuild(bridges: NetworkRecord[], published: PublishedPorts[]): Promise<void> {
    const { nat: chainNat, post: chainPost, fwd: chainFwd } = this.names;
    const nat = await iptablesSave('nat');
    const filter = await iptablesSave('filter');
    const has = (lines: string[], rule: string) => lines.some((l) => l.trim() === rule);
    const rules: RuleSet = {
      nat: [`:${chainNat} - [0:0]`, `:${chainPost} - [0:0]`],
      filter: [`:${chainFwd} - [0:0]`],
    };
    const jumps = {
      pre: `-A PREROUTING -m addrtype --dst-type LOCAL -j ${chainNat}`,
      out: `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${chainNat}`,
      post: `-A POSTROUTING -j ${chainPost}`,
    };
    if (!has(nat, jumps.pre)) rules.nat.push(jumps.pre);
    if (!has(nat, jumps.out)) rules.nat.push(jumps.out);
    if (!has(nat, jumps.post)) rules.nat.push(jumps.post);
    if (!has(filter, `-A FORWARD -j ${chainFwd}`)) rules.filter.push(`-I FORWARD 1 -j ${chainFwd}`);
    for (const n of bridges) {
      const r = this.bridgeRules(n, '-A');
      rules.nat.push(...r.nat);
      rules.filter.push(...r.filter);
    }
    for (const p of published) rules.nat.push(...this.portRules(p, '-A'));
    await iptablesRestore(rules);
  }

  /** Remove the chains of a bridge and the jumps to them (tests' clean-up; berthd itself keeps them, as dockerd does). */
  static async remove(bridge: string): Promise<void> {
    const { nat: chainNat, post: chainPost, fwd: chainFwd } = chainNames(bridge);
    const nat = await iptablesSave('nat');
    const filter = await iptablesSave('filter');
    const del = (lines: string[], chains: string[]) => lines
      .filter((l) => l.startsWith('-A ') && chains.some((c) => l.endsWith(`-j ${c}`)) && !chains.some((c) => l.startsWith(`-A ${c} `)))
      .map((l) => `-D ${l.slice(3)}`);
    const rules: RuleSet = {
      nat: [...del(nat, [chainNat, chainPost])],
      filter: [...del(filter, [chainFwd])],
    };
    for (const c of [chainNat, chainPost]) if (nat.some((l) => l.startsWith(`:${c} `))) rules.nat.push(`-F ${c}`, `-X ${c}`);
    if (filter.some((l) => l.startsWith(`:${chainFwd} `))) rules.filter.push(`-F ${chainFwd}`, `-X ${chainFwd}`);
    await iptablesRestore(rules, { ignoreErrors: true });
  }
}
