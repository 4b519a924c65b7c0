/**
 * Platform matching for manifest lists / OCI indexes, as containerd's `platforms` package does for
 * Docker: os and architecture must match; variants are ranked (arm64 ≡ arm64/v8; arm/v7 also runs
 * v6 and v5; amd64 prefers no variant / v1).
 */
import { NotFoundError, InvalidParameterError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PlatformEntry {
  platform?: { os?: string; architecture?: string; variant?: string };
}

const ARCH: Record<string, string> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x',
  riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsle', loong64: 'loong64',
};

/** The platform of this host in OCI terms (linux/amd64, linux/arm64/v8, linux/arm/v7). */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    return { os: 'linux', architecture, variant: `v${v ?? 7}` };
  }
  return { os: 'linux', architecture };
}

/** Parse `--platform` ('linux/amd64', 'linux/arm/v7', 'amd64'); normalizes aliases (aarch64, x86_64). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => !p)) {
    throw new InvalidParameterError(`"${s}": unknown operating system or architecture: invalid argument`);
  }
  let os = 'linux';
  let rest = parts;
  if (parts.length >= 2 || !(parts[0]! in ARCH_ALIASES || Object.values(ARCH).includes(parts[0]!))) {
    os = parts[0]!;
    rest = parts.slice(1);
  }
  let architecture = rest[0] ?? hostPlatform().architecture;
  let variant = rest[1];
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant = variant ?? alias.variant;
  }
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (architecture === 'arm' && /^[5-8]$/.test(variant ?? '')) variant = `v${variant}`;
  return variant ? { os, architecture, variant } : { os, architecture };
}

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' }, 'x86-64': { architecture: 'amd64' }, amd64: { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' }, arm64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' }, armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' }, '386': { architecture: '386' },
};

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Variants acceptable for the wanted platform, best first ('' = no variant given). */
function variantRank(want: Platform): string[] {
  const v = want.variant ?? '';
  switch (want.architecture) {
    case 'arm64':
      return ['v8', ''];
    case 'arm': {
      const n = Number(v.replace(/^v/, '')) || 7;
      const out: string[] = [];
      for (let i = n; i >= 5; i--) out.push(`v${i}`);
      out.push('');
      return out;
    }
    case 'amd64':
      return v && v !== 'v1' ? [v, '', 'v1'] : ['', 'v1'];
    default:
      return v ? [v, ''] : [''];
  }
}

/**
 * Pick the best entry of an index for a platform. Entries without os/architecture (attestations)
 * never match. Throws Docker's error when nothing fits.
 */
export function selectPlatform<T extends PlatformEntry>(entries: T[], want: Platform = hostPlatform()): T {
  const ranks = variantRank(want);
  let best: T | undefined;
  let bestRank = Infinity;
  for (const e of entries) {
    const p = e.platform;
    if (!p || p.os !== want.os || p.architecture !== want.architecture) continue;
    let v = p.variant ?? '';
    if (p.architecture === 'arm64' && v === '') v = 'v8';
    const r = ranks.indexOf(v);
    if (r < 0) continue;
    if (r < bestRank) {
      best = e;
      bestRank = r;
    }
  }
  if (!best) throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return best;
}
