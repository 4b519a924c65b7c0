/**
 * Distribution API v2 / OCI distribution client for one repository on one endpoint:
 * manifests (Docker schema2, manifest lists, OCI manifests and indexes) and blobs, with
 * anonymous, Bearer-token and Basic authentication.
 */
import { sha256Digest } from '../../util/digest.js';
import type { IncomingMessage } from 'node:http';
import type { AuthConfig } from '../images/types.js';
import { Authenticator, parseChallenges } from './auth.js';
import type { Endpoint } from './endpoints.js';
import { RegistryProtocolError, UnauthorizedError } from '../errors.js';
import { DigestMismatchError, RegistryHttpError, parseRegistryErrors, type RegistryErrorEntry } from './errors.js';
import { discard, httpRequest, readBody, type HttpResponse } from './http.js';

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] };
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface FetchedManifest {
  /** Media type: the Content-Type, else the body's mediaType, else guessed from the shape. */
  mediaType: string;
  /** sha256 of the bytes exactly as received. */
  digest: string;
  bytes: Buffer;
  /** Parsed JSON. */
  json: ImageManifest | ImageIndex;
  kind: 'manifest' | 'index';
}

export interface ClientOptions {
  auth?: AuthConfig;
  /** Token scope actions: 'pull' (default) or 'pull,push'. */
  actions?: string;
  /** A whole token scope instead of the repository's (`registry:catalog:*` for search). */
  scope?: string;
  timeoutMs?: number;
}

/** Client for `<endpoint>/v2/<repository>/…`. */
export class RegistryClient {
  private readonly authn: Authenticator;
  private readonly timeoutMs: number;
  private readonly actions: string;
  private readonly scopeOverride: string | undefined;

  constructor(
    readonly endpoint: Endpoint,
    /** Repository path at this endpoint: 'library/busybox'. */
    readonly repository: string,
    opts: ClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.actions = opts.actions ?? 'pull';
    this.scopeOverride = opts.scope;
    this.authn = new Authenticator(opts.auth, { insecureTLS: endpoint.insecureTLS, timeoutMs: this.timeoutMs });
  }

  get scope(): string {
    return this.scopeOverride ?? `repository:${this.repository}:${this.actions}`;
  }

  url(suffix: string): string {
    return `${this.endpoint.url}/v2/${this.repository}/${suffix}`;
  }

  /**
   * Send a request, authenticating on a 401 challenge and retrying once. Returns any non-401
   * response (callers check the status) or throws RegistryHttpError for a final 401.
   */
  async request(
    method: string, url: string, headers: Record<string, string> = {},
    body?: { bytes?: Buffer; stream?: () => import('node:stream').Readable; length?: number },
  ): Promise<HttpResponse> {
    const send = async (authz: string | undefined) => {
      const h = { ...headers };
      if (authz) h.Authorization = authz;
      return httpRequest(url, {
        method, headers: h, insecureTLS: this.endpoint.insecureTLS, timeoutMs: this.timeoutMs,
        body: body?.bytes, bodyStream: body?.stream, contentLength: body?.length,
      });
    };
    let res = await send(await withUrl(method, url, this.authn.headerFor(this.scope)));
    if (res.status === 401) {
      const challenge = res.headers['www-authenticate'];
      const body = method === 'HEAD' ? Buffer.alloc(0) : await readBody(res.body, 1024 * 1024).catch(() => Buffer.alloc(0));
      const retry = await withUrl(method, url, this.authn.onUnauthorized(challenge, this.scope));
      if (!retry) throw new RegistryHttpError(401, parseRegistryErrors(body), url, method);
      res = await send(retry);
      if (res.status === 401) {
        const b2 = method === 'HEAD' ? Buffer.alloc(0) : await readBody(res.body, 1024 * 1024).catch(() => Buffer.alloc(0));
        throw new RegistryHttpError(401, bearerErrors(res.headers['www-authenticate']) ?? parseRegistryErrors(b2), url, method);
      }
    }
    return res;
  }

  async fail(res: HttpResponse, method: string): Promise<never> {
    const body = method === 'HEAD' ? Buffer.alloc(0) : await readBody(res.body, 1024 * 1024).catch(() => Buffer.alloc(0));
    if (method === 'HEAD') discard(res.body);
    throw new RegistryHttpError(res.status, parseRegistryErrors(body), res.url, method);
  }

  /** GET a manifest by tag or digest. When `reference` is a digest the bytes are verified against it. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', this.url(`manifests/${reference}`), { Accept: MANIFEST_ACCEPT });
    if (res.status !== 200) await this.fail(res, 'GET');
    const bytes = await readBody(res.body, 8 * 1024 * 1024);
    const digest = sha256Digest(bytes);
    if (reference.includes(':') && reference !== digest) {
      throw new DigestMismatchError(`manifest verification failed for digest ${reference}`);
    }
    return parseManifest(bytes, digest, String(res.headers['content-type'] ?? ''));
  }

  /**
   * GET a blob; redirects (to storage backends) are followed. The caller consumes the body.
   * With `from` > 0 asks for the bytes from there on (Range); `start` says where the body begins:
   * `from` when the registry answered 206, 0 when it ignored the Range and sent everything.
   */
  async getBlob(digest: string, from = 0): Promise<{ body: IncomingMessage; size?: number; start: number }> {
    const res = await this.request('GET', this.url(`blobs/${digest}`), from > 0 ? { Range: `bytes=${from}-` } : {});
    let start = 0;
    if (res.status === 206 && from > 0) {
      const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      start = m ? Number(m[1]) : NaN;
      if (start !== from) {
        discard(res.body);
        throw new RegistryProtocolError(`GET ${res.url}: asked for bytes from ${from}, got Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')}`);
      }
    } else if (res.status !== 200) await this.fail(res, 'GET');
    const len = res.headers['content-length'];
    return { body: res.body, size: len !== undefined ? Number(len) : undefined, start };
  }

  /** GET a small blob (config) fully, verified against its digest. */
  async getBlobBytes(digest: string, limit = 32 * 1024 * 1024): Promise<Buffer> {
    const { body } = await this.getBlob(digest);
    const bytes = await readBody(body, limit);
    if (sha256Digest(bytes) !== digest) throw new DigestMismatchError(`image config verification failed for digest ${digest}`);
    return bytes;
  }
}

/**
 * RFC 6750's error in a Bearer challenge, read first as docker/distribution does: a token without
 * the scope (`insufficient_scope`) is `denied: requested access to the resource is denied`.
 */
function bearerErrors(header: string | string[] | undefined): RegistryErrorEntry[] | undefined {
  const ch = parseChallenges(header).find((c) => c.scheme === 'bearer');
  const code = ch?.params.error === 'insufficient_scope' ? 'DENIED' : ch?.params.error === 'invalid_token' ? 'UNAUTHORIZED' : undefined;
  if (!code) return undefined;
  const fallback = code === 'DENIED' ? 'requested access to the resource is denied' : 'authentication required';
  return [{ code, message: ch!.params.error_description || fallback }];
}

/**
 * A credential failure (token endpoint refusal, no basic credentials) named after the request it
 * stopped, as Go's url.Error: `Get "http://…/v2/…": unauthorized: incorrect username or password`.
 */
async function withUrl<T>(method: string, url: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof UnauthorizedError) throw new UnauthorizedError(`${method.charAt(0)}${method.slice(1).toLowerCase()} "${url}": ${e.message}`);
    throw e;
  }
}

/** Classify and validate manifest bytes. Schema 1 is refused with a clear message. */
export function parseManifest(bytes: Buffer, digest: string, contentType = ''): FetchedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryProtocolError(`invalid manifest ${digest}: not JSON`);
  }
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  const declared = typeof json.mediaType === 'string' ? json.mediaType : '';
  const schema1 = ct === MediaTypes.dockerSchema1 || ct === MediaTypes.dockerSchema1Signed || json.schemaVersion === 1;
  if (schema1) {
    throw new RegistryProtocolError(
      'Docker Image manifest version 2, schema 1 is not supported: it was deprecated and removed from Docker. ' +
        'Ask the image author to push it again in the Docker v2 schema 2 or OCI format.',
    );
  }
  let mediaType = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest].includes(ct as never)
    ? ct
    : declared;
  if (!mediaType) mediaType = Array.isArray(json.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
  const isIndex = mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
  if (isIndex) {
    if (!Array.isArray(json.manifests)) throw new RegistryProtocolError(`invalid manifest list ${digest}: no manifests`);
    return { mediaType, digest, bytes, json: json as unknown as ImageIndex, kind: 'index' };
  }
  if (mediaType !== MediaTypes.ociManifest && mediaType !== MediaTypes.dockerManifest) {
    throw new RegistryProtocolError(`unsupported manifest media type ${mediaType}`);
  }
  const m = json as unknown as ImageManifest;
  if (!m.config || typeof m.config.digest !== 'string' || !Array.isArray(m.layers)) {
    throw new RegistryProtocolError(`invalid manifest ${digest}: missing config or layers`);
  }
  return { mediaType, digest, bytes, json: m, kind: 'manifest' };
}
