/** The daemon's network settings (flags and daemon.json: --bridge, --bip, default-address-pools). */
export interface NetworkConfig {
  /** the default bridge's interface (Docker's docker0); default berth0 */
  bridge: string;
  /** the default bridge's gateway address and prefix; default 172.31.0.1/16 */
  bip: string;
  /** where user-defined networks without a subnet get theirs */
  pools: Array<{ base: string; size: number }>;
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  bridge: 'berth0',
  bip: '172.31.0.1/16',
  pools: [
    ...Array.from({ length: 13 }, (_, i) => ({ base: `172.${18 + i}.0.0/16`, size: 16 })),
    { base: '192.168.0.0/16', size: 20 },
  ],
};

/**
 * Why `name` cannot be a Linux interface name, or undefined when it can. The kernel takes 1–15
 * bytes without `/`, whitespace or `:` and not `.`/`..`; we allow only `[A-Za-z0-9_.-]`, since the
 * name is pasted into `ip -batch` and `iptables-restore` input, where a newline or a space would
 * start another command or argument.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 15) return 'it is longer than 15 characters';
  if (name === '.' || name === '..') return 'it is "." or ".."';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return 'only letters, digits, "_", "." and "-" are allowed';
  return undefined;
}
