import type { MountPoint } from '../../engine/volumes/types.js';

/** A container's `Mounts` as dockerd shows them (inspect and listings). */
export function publicMounts(mps: MountPoint[] | undefined) {
  return (mps ?? []).filter((m) => !m.FromTmpfsFlag).map((m) => ({
    Type: m.Type,
    ...(m.Type === 'volume' ? { Name: m.Name } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Type === 'volume' ? { Driver: m.Driver ?? 'local' } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  }));
}
