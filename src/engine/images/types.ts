/**
 * Records and contracts of the image side of the engine. Implementations live beside this file
 * (store.ts, references.ts, service.ts), in ../content and ../layers, and in ../distribution;
 * reference parsing is in ../../wire/reference.ts.
 */

import type { JSONMessage } from '../../wire/types.js';

export type { Reference } from '../../wire/reference.js';

/** Image config as Docker and OCI define it (application/vnd.oci.image.config.v1+json). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfigPart;
  container_config?: ContainerConfigPart;
  rootfs: { type: 'layers'; diff_ids: string[] };
  /** Legacy (Docker v1 image) fields that commit writes: the source container and its config. */
  container?: string;
  docker_version?: string;
  'os.version'?: string;
  history?: Array<{ created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }>;
}

/** The `config` part of an image config (Docker's container.Config subset stored in images). */
export interface ContainerConfigPart {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: unknown;
  Shell?: string[];
  OnBuild?: string[] | null;
}

/** What the engine keeps per image. */
export interface ImageRecord {
  /** 'sha256:<hex>' = sha256 of the config bytes. */
  id: string;
  config: ImageConfig;
  /** chain IDs of the layers, bottom first ('sha256:<hex>'). */
  chainIDs: string[];
  /** Familiar-normalized full names: 'docker.io/library/busybox:latest' is kept as given by reference.ts. */
  repoTags: string[];
  repoDigests: string[];
  /** Unpacked size in bytes (sum of layer sizes). */
  size: number;
  /** When this engine stored it (ms epoch); Created comes from the config. */
  loaded: number;
  parent?: string;
  /** When a tag was last added (ms epoch); Metadata.LastTagTime in inspect. */
  lastTagTime?: number;
  /**
   * Other content-store blobs that belong to this image (manifest, index, compressed layers as
   * pulled); deleted with the image when no other image lists them.
   */
  blobs?: string[];
  /**
   * The compressed blob of each layer (aligned with chainIDs; null where unknown), for push.
   * Set by commit; pulled images find theirs in their stored manifest instead.
   */
  layerBlobs?: Array<LayerBlob | null>;
}

/** A compressed layer blob in the content store. */
export interface LayerBlob {
  mediaType: string;
  digest: string;
  size: number;
}

/** A container that uses an image, as the container service reports it to image removal. */
export interface ContainerUsage {
  id: string;
  running: boolean;
}

/** One message of a JSON progress stream (jsonmessage.JSONMessage). */
export type { JSONMessage };

export type ProgressSink = (msg: JSONMessage) => void;

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** The stores' own contracts, defined beside them (stores import nothing from the image service). */
export type { ContentStoreApi } from '../content/store.js';
export type { LayerStoreApi } from '../layers/store.js';

/** One image of a listing (GET /images/json, /system/df): the record and what its summary needs. */
export interface ImageListEntry {
  /** The record, its repoTags/repoDigests narrowed to those a `reference` filter matched. */
  record: ImageRecord;
  /** Containers created from it. */
  containers: number;
}

/** One image as inspect shows it: the record and its layers' directories (top first). */
export interface ImageDetails {
  record: ImageRecord;
  layerDirs: string[];
}

/** One step of an image's history (newest first), as the engine knows it. */
export interface ImageHistoryEntry {
  /** The image this step produced, when it is still here (else the API shows `<missing>`). */
  imageId?: string;
  /** Full references of that image. */
  tags: string[];
  /** RFC 3339, as the config history has it. */
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
}
