/** IPv4 addresses and CIDR blocks as 32-bit unsigned integers. */
import { InvalidParameterError } from '../errors.js';

export interface Cidr { base: number; prefix: number }

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.2.0/24" → {base, prefix}; `strict` refuses host bits (as dockerd does for subnets). */
export function parseCidr(s: string, strict = false): Cidr & { ip: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  const prefix = Number(m[2]);
  const ip = ipToInt(m[1]);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (strict && base !== ip) throw new InvalidParameterError(`invalid subnet ${s}: it should be ${intToIp(base)}/${prefix}`);
  return { base, prefix, ip };
}

export function cidrString(c: Cidr): string { return `${intToIp(c.base)}/${c.prefix}`; }

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & maskOf(p)) >>> 0) === ((b.base & maskOf(p)) >>> 0);
}

/** Docker's MAC for an IPv4 endpoint: 02:42 then the four address bytes. */
export function macForIp(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
