/** Volumes and container mount points; shapes follow the Engine API's where they overlap. */

/** A volume as the service returns it: its record and where its content is (api/views/volumes.ts renders it). */
export interface VolumeInfo {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  /** The host path of its content (`<root>/<name>/_data`). */
  Mountpoint: string;
}

/** /system/df: a volume, its size in bytes and how many containers reference it. */
export interface VolumeUsage { volume: VolumeInfo; size: number; refCount: number }

export type MountType = 'volume' | 'bind' | 'tmpfs';

/**
 * One mount of a container, fixed at create (dockerd's MountPoint). The public fields are what
 * inspect's `Mounts` shows; the rest drive start (create a bind source, copy-up, tmpfs data).
 */
export interface MountPoint {
  Type: MountType;
  /** Volume name (volumes only). */
  Name?: string;
  /** Host path: the bind source or the volume's _data; '' for tmpfs. */
  Source: string;
  Destination: string;
  /** 'local' for volumes. */
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** A volume made for this container (`-v /p`, image VOLUME): `rm -v` and `--rm` remove it. */
  Anonymous?: boolean;
  /** -v host paths are created when missing (as dockerd); --mount type=bind ones are refused. */
  CreateSource?: boolean;
  /** Copy the image's content at Destination into an empty volume (not with `nocopy`). */
  CopyData?: boolean;
  /** tmpfs mount data (size=…,mode=…), already validated. */
  TmpfsData?: string;
  /** From HostConfig.Tmpfs (--tmpfs): not listed in `Mounts`, as dockerd. */
  FromTmpfsFlag?: boolean;
  /** --mount bind-nonrecursive: a plain bind instead of rbind. */
  NonRecursive?: boolean;
}

/** The label dockerd puts on anonymous volumes (prune without all=true takes only these). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
