/**
 * IP address management for one bridge network: a subnet, a gateway, an optional range to
 * allocate from, and the addresses handed out (address → owner). Plain data, so the network
 * manager persists it with its own atomic write; allocation is sequential after the last one
 * given (as libnetwork does), so a just-released address is not handed out again at once.
 */
import { ConflictError, InvalidParameterError } from '../errors.js';
import { contains, intToIp, ipToInt, parseCidr, type Cidr } from './ipv4.js';

export interface IpamState {
  subnet: string;
  gateway: string;
  ipRange?: string;
  /** address → owner (a container ID) */
  allocated: Record<string, string>;
  /** last address handed out (sequential allocation) */
  last?: string;
}

export class Ipam {
  readonly subnet: Cidr;
  readonly range: Cidr;
  readonly gateway: number;

  constructor(readonly state: IpamState) {
    this.subnet = parseCidr(state.subnet, true);
    this.range = state.ipRange ? parseCidr(state.ipRange, true) : this.subnet;
    if (!contains(this.subnet, this.range.base) || this.range.prefix < this.subnet.prefix) {
      throw new InvalidParameterError(`invalid pool request: ip-range ${state.ipRange} is not in subnet ${state.subnet}`);
    }
    this.gateway = ipToInt(state.gateway);
    if (!contains(this.subnet, this.gateway)) {
      throw new InvalidParameterError(`invalid pool request: gateway ${state.gateway} is not in subnet ${state.subnet}`);
    }
  }

  /** A new state for a subnet; the gateway defaults to its first address. */
  static create(subnet: string, gateway?: string, ipRange?: string): Ipam {
    const c = parseCidr(subnet, true);
    if (c.prefix > 30) throw new InvalidParameterError(`subnet ${subnet} is too small`);
    const gw = gateway || intToIp(c.base + 1);
    return new Ipam({ subnet, gateway: gw, ipRange, allocated: {} });
  }

  get prefix(): number { return this.subnet.prefix; }

  private usable(ip: number): boolean {
    const broadcast = this.subnet.base + 2 ** (32 - this.subnet.prefix) - 1;
    return ip !== this.subnet.base && ip !== broadcast && ip !== this.gateway && contains(this.range, ip);
  }

  /** Take `wanted` (409 when taken) or the next free address after the last one handed out. */
  allocate(owner: string, wanted?: string): string {
    if (wanted) {
      const ip = ipToInt(wanted);
      if (!contains(this.subnet, ip)) throw new InvalidParameterError(`no configured subnet contains IP address ${wanted}`);
      const holder = this.state.allocated[wanted];
      if (holder && holder !== owner) throw new ConflictError(`Address already in use`);
      if (!this.usable(ip)) throw new ConflictError(`Address already in use`);
      this.state.allocated[wanted] = owner;
      return wanted;
    }
    const size = 2 ** (32 - this.range.prefix);
    const start = this.state.last ? ipToInt(this.state.last) - this.range.base + 1 : 0;
    for (let i = 0; i < size; i++) {
      const ip = this.range.base + ((start + i) % size);
      const s = intToIp(ip);
      if (!this.usable(ip) || this.state.allocated[s]) continue;
      this.state.allocated[s] = owner;
      this.state.last = s;
      return s;
    }
    throw new ConflictError(`no available IPv4 addresses on this network's address pools: ${this.state.subnet}`);
  }

  /** Release what `owner` holds (one address, or all of them); returns the freed addresses. */
  release(owner: string, ip?: string): string[] {
    const freed: string[] = [];
    for (const [addr, o] of Object.entries(this.state.allocated)) {
      if (o === owner && (!ip || ip === addr)) {
        delete this.state.allocated[addr];
        freed.push(addr);
      }
    }
    return freed;
  }

  owners(): Set<string> { return new Set(Object.values(this.state.allocated)); }
  addressOf(owner: string): string | undefined {
    return Object.entries(this.state.allocated).find(([, o]) => o === owner)?.[0];
  }
}
