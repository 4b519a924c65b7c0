/**
 * The engine's entry to image distribution: one instance per daemon, configured from daemon.json
 * (`registry-mirrors`, `insecure-registries`, `max-concurrent-downloads`).
 */
import type { AuthConfig, ImageRecord, ProgressSink, Reference } from '../images/types.js';
import { RegistryClient } from './client.js';
import { DOCKER_HUB_INDEX_SERVER, resolveEndpoints, type Endpoint } from './endpoints.js';
import { pull, type PullDeps } from './pull.js';

export interface DistributionOptions {
  /** Docker Hub mirrors, tried in order before Docker Hub itself ('http://127.0.0.1:5000'). */
  mirrors?: string[];
  /** Registries reached without TLS verification / over plain HTTP ('host:port' or CIDR). */
  insecure?: string[];
  /** Docker Hub's endpoint; tests point it at loopback ($BERTH_HUB_ENDPOINT). Default: endpoints.ts. */
  hubEndpoint?: string;
  maxConcurrentDownloads?: number;
  /** Per-request inactivity timeout (ms). */
  timeoutMs?: number;
}

export class Distribution {
  constructor(readonly opts: DistributionOptions = {}) {}

  /** /info's IndexServerAddress (and the credential key clients use for Docker Hub). */
  get indexServerAddress(): string {
    return DOCKER_HUB_INDEX_SERVER;
  }

  /** Endpoints tried for a registry domain, in order. */
  endpoints(domain: string): Endpoint[] {
    return resolveEndpoints(domain, this.opts);
  }

  /**
   * Pull an image (tag defaults to latest), writing Docker's JSON progress messages to `progress`.
   * Throws typed engine errors with Docker's messages (NotFoundError for unknown tags/repositories).
   */
  pull(ref: Reference, opts: { auth?: AuthConfig; platform?: string }, deps: PullDeps, progress: ProgressSink): Promise<ImageRecord> {
    return pull(ref, { ...this.opts, ...opts }, deps, progress);
  }

  /** A client for one repository on the first endpoint of its registry (for push, inspect). */
  client(ref: Reference, auth?: AuthConfig): RegistryClient {
    const ep = this.endpoints(ref.domain).filter((e) => !e.mirror)[0]!;
    return new RegistryClient(ep, ref.path, { auth, timeoutMs: this.opts.timeoutMs });
  }
}

export { pull } from './pull.js';
export type { PullDeps, PullImageStore, PullOptions } from './pull.js';
export { RegistryClient, MediaTypes, parseManifest } from './client.js';
export type { Descriptor, FetchedManifest, ImageIndex, ImageManifest } from './client.js';
export { resolveEndpoints, DOCKER_HUB_ENDPOINT, DOCKER_HUB_INDEX_SERVER, isInsecure, isLoopback, normalizeMirror } from './endpoints.js';
export type { Endpoint, EndpointConfig } from './endpoints.js';
export { parseChallenges, Authenticator } from './auth.js';
export { hostPlatform, parsePlatform, selectPlatform, formatPlatform } from './platform.js';
export type { Platform } from './platform.js';
export { renderProgress, humanSize } from './progress.js';
export { translatePullError, RegistryHttpError } from './errors.js';
