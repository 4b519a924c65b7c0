/** Volume responses (GET /volumes, /volumes/{name}, POST /volumes/create, /system/df's Volumes). */
import type { VolumeInfo, VolumeUsage } from '../../engine/volumes/types.js';
import type { Volume } from '../../wire/types.js';

export function volumeView(v: VolumeInfo): Volume {
  return {
    CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint,
    Name: v.Name, Options: v.Options, Scope: 'local',
  };
}

/** A /system/df row: the volume with its UsageData. */
export function volumeUsageView(u: VolumeUsage): Volume {
  return { ...volumeView(u.volume), UsageData: { Size: u.size, RefCount: u.refCount } };
}
