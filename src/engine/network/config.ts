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
