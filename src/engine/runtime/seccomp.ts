/**
 * Seccomp: a Docker/containers-common profile (the JSON `--security-opt seccomp=<file>` and
 * /usr/share/containers/seccomp.json use) → the OCI `linux.seccomp` object crun applies.
 *
 * The conversion evaluates each rule's conditions for this container as containers/common's
 * seccomp.setupSeccomp does: `includes.arches` must contain the host's arch, `includes.caps` must
 * all be in the container's capabilities, `includes.minKernel` must be at most the running kernel;
 * a rule whose `excludes.arches` holds the arch, or whose `excludes.caps` holds a capability the
 * container has, is left out. `archMap` gives the native architecture and its sub-architectures.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { InvalidParameterError } from '../errors.js';

/** Where Debian's golang-github-containers-common puts the default profile. */
export const DEFAULT_SECCOMP_PROFILE = '/usr/share/containers/seccomp.json';

interface ProfileArg { index: number; value: number; valueTwo?: number; op: string }
interface ProfileFilter { arches?: string[] | null; caps?: string[] | null; minKernel?: string }
interface ProfileSyscall {
  name?: string;
  names?: string[] | null;
  action: string;
  args?: ProfileArg[] | null;
  errnoRet?: number;
  includes?: ProfileFilter | null;
  excludes?: ProfileFilter | null;
}
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }> | null;
  flags?: string[] | null;
  listenerPath?: string;
  syscalls?: ProfileSyscall[] | null;
}

/** The OCI runtime-spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: Array<{ index: number; value: number; valueTwo: number; op: string }> }>;
}

/** Go's GOARCH for Node's process.arch (the names profiles use in includes.arches). */
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le' };
/** libseccomp's native architecture name for each GOARCH. */
const SCMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64', mips64le: 'SCMP_ARCH_MIPSEL64',
};

export interface SeccompHost { arch: string; kernel: string }
export function hostSeccompInfo(): SeccompHost {
  return { arch: GOARCH[process.arch] ?? process.arch, kernel: release() };
}

/** "5.8" ≤ "6.18.44-fc"? Compared by major.minor, as containers/common's kernel check. */
function kernelAtLeast(running: string, min: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((x) => parseInt(x, 10) || 0);
  const [ra, rb] = parse(running);
  const [ma, mb] = parse(min);
  return ra! > ma! || (ra === ma && rb! >= mb!);
}

/** Parse and check a profile's JSON text; a bad one is a 400 as dockerd's "Decoding seccomp profile failed". */
export function parseSeccompProfile(text: string): SeccompProfile {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p) || typeof (p as SeccompProfile).defaultAction !== 'string') {
    throw new InvalidParameterError('Decoding seccomp profile failed: the profile has no defaultAction');
  }
  const prof = p as SeccompProfile;
  if (prof.architectures?.length && prof.archMap?.length) {
    throw new InvalidParameterError("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const s of prof.syscalls ?? []) {
    if (s.name && s.names?.length) throw new InvalidParameterError("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    if (typeof s.action !== 'string') throw new InvalidParameterError('Decoding seccomp profile failed: a syscall rule has no action');
  }
  return prof;
}

/** The profile as crun gets it for a container holding `caps` (its bounding set). */
export function toOciSeccomp(profile: SeccompProfile, caps: readonly string[], host: SeccompHost = hostSeccompInfo()): OciSeccomp {
  const has = new Set(caps);
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.architectures?.length) out.architectures = [...profile.architectures];
  else if (profile.archMap?.length) {
    const native = SCMP_ARCH[host.arch];
    const arches: string[] = [];
    for (const a of profile.archMap) {
      if (a.architecture === native) arches.push(a.architecture, ...(a.subArchitectures ?? []));
    }
    if (arches.length) out.architectures = arches;
  }
  for (const s of profile.syscalls ?? []) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(host.arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => has.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) continue;
    if (exc.arches?.length && exc.arches.includes(host.arch)) continue;
    if (exc.caps?.length && exc.caps.some((c) => has.has(c))) continue;
    if (exc.minKernel && kernelAtLeast(host.kernel, exc.minKernel)) continue;
    const names = s.names?.length ? [...s.names] : s.name ? [s.name] : [];
    if (!names.length) continue;
    const rule: OciSeccomp['syscalls'][number] = { names, action: s.action };
    if (s.errnoRet !== undefined) rule.errnoRet = s.errnoRet;
    if (s.args?.length) rule.args = s.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    out.syscalls.push(rule);
  }
  return out;
}

let defaultProfile: SeccompProfile | undefined;
/** The default profile (read once). Missing, it is a start error: a container never runs without it. */
export function defaultSeccompProfile(path = DEFAULT_SECCOMP_PROFILE): SeccompProfile {
  if (path !== DEFAULT_SECCOMP_PROFILE) return parseSeccompProfile(readFileSync(path, 'utf8'));
  defaultProfile ??= parseSeccompProfile(readFileSync(path, 'utf8'));
  return defaultProfile;
}
