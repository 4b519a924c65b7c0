/**
 * Linux capabilities as moby's oci/caps handles them: names with or without `CAP_`, any case,
 * `ALL`; an unknown name is a 400 `unknown capability: "CAP_X"`; `--cap-add`/`--cap-drop` tweak
 * the default set as TweakCapabilities does; `--privileged` gets every capability.
 *
 * "Every capability" is every one the daemon itself holds in its bounding set: the runtime cannot
 * grant more (on this host CAP_SYS_RESOURCE is outside it).
 */
import { readFileSync } from 'node:fs';
import { InvalidParameterError } from '../errors.js';

/** By number, as in linux/capability.h (0 … 40). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const ALL = 'ALL';

/** Upper-case, `CAP_`-prefixed, checked; `ALL` kept as is. */
export function normalizeCapabilities(caps: readonly string[] | null | undefined): string[] {
  const out: string[] = [];
  for (const raw of caps ?? []) {
    let c = String(raw).toUpperCase();
    if (c === ALL) { out.push(c); continue; }
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!KNOWN_CAPABILITIES.includes(c)) throw new InvalidParameterError(`unknown capability: "${c}"`);
    out.push(c);
  }
  return out;
}

/** The capabilities in a bounding-set mask (CapBnd of /proc/<pid>/status). */
export function capsFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return KNOWN_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

let daemonCaps: string[] | undefined;
/** Every capability the daemon can hand on (its bounding set). */
export function allCapabilities(): string[] {
  if (!daemonCaps) {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    daemonCaps = m ? capsFromMask(m[1]!) : [...KNOWN_CAPABILITIES];
  }
  return daemonCaps;
}

/** moby's TweakCapabilities: privileged → all; ALL in adds → all but drops; ALL in drops → only adds. */
export function tweakCapabilities(adds: readonly string[] | null | undefined, drops: readonly string[] | null | undefined, privileged: boolean, all: readonly string[] = allCapabilities()): string[] {
  if (privileged) return [...all];
  const capAdd = normalizeCapabilities(adds);
  const capDrop = normalizeCapabilities(drops);
  let caps: string[];
  if (capAdd.includes(ALL)) caps = all.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes(ALL)) caps = [...capAdd];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}
