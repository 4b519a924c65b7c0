/**
 * `GET /distribution/{name}/json`: what a registry holds for a reference, without pulling it:
 * the descriptor of the manifest (or index) the tag points to and the platforms it serves, as
 * dockerd answers it (an index's entries' platforms; a single manifest's from its image config).
 */
import type { AuthConfig, Reference } from '../images/types.js';
import { RegistryProtocolError } from '../errors.js';
import { RegistryClient, type ImageIndex, type ImageManifest } from './client.js';
import { resolveEndpoints, type EndpointConfig } from './endpoints.js';
import { translatePullError } from './errors.js';
import { NetworkError } from './http.js';

export interface OciPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: OciPlatform[];
}

function platformOf(p: Record<string, unknown> | undefined): OciPlatform {
  const out: OciPlatform = { architecture: String(p?.architecture ?? ''), os: String(p?.os ?? '') };
  if (typeof p?.['os.version'] === 'string' && p['os.version']) out['os.version'] = p['os.version'];
  if (Array.isArray(p?.['os.features']) && p['os.features'].length) out['os.features'] = p['os.features'].map(String);
  if (typeof p?.variant === 'string' && p.variant) out.variant = p.variant;
  return out;
}

export async function inspectDistribution(ref: Reference, auth: AuthConfig | undefined, opts: EndpointConfig & { timeoutMs?: number } = {}): Promise<DistributionInspect> {
  const endpoints = resolveEndpoints(ref.domain, opts);
  let last: unknown;
  for (const [i, ep] of endpoints.entries()) {
    try {
      const client = new RegistryClient(ep, ref.path, { auth, timeoutMs: opts.timeoutMs });
      const m = await client.getManifest(ref.digest ?? ref.tag ?? 'latest');
      const Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      if (m.kind === 'index') {
        const Platforms = (m.json as ImageIndex).manifests.filter((d) => d.platform).map((d) => platformOf(d.platform));
        return { Descriptor, Platforms };
      }
      const config = await client.getBlobBytes((m.json as ImageManifest).config.digest);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(config.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new RegistryProtocolError(`invalid image config ${(m.json as ImageManifest).config.digest}: not JSON`);
      }
      return { Descriptor, Platforms: [platformOf(parsed)] };
    } catch (e) {
      // What a registry answered outweighs a later endpoint that could not be reached.
      if (last === undefined || !(e instanceof NetworkError)) last = e;
      // A mirror that fails hands over to the next endpoint, as for a pull; so does an unreachable insecure https.
      const next = i < endpoints.length - 1 && (ep.mirror || (ep.fallbackOnNetworkError && e instanceof NetworkError));
      if (!next) break;
    }
  }
  throw translatePullError(last, ref);
}
