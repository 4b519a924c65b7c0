// A project's networks, volumes and images: made when missing (external ones must exist),
// removed by `down`. Labels as Compose v2 puts them, so other tools recognise them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { EngineClient } from '../../../client/index.js';
import { iterateJSON } from '../../../client/jsonstream.js';
import { errorText, isNotFound, renderProgress } from '../common.js';
import { ComposeError } from './errors.js';
import type { ServiceConfig } from './model.js';
import { COMPOSE_VERSION, imageName, LABEL, serviceNetworks } from './spec.js';
import { progress, type Opts } from './state.js';

/** Networks the services use, created when missing. */
export async function ensureNetworks(o: Opts, services: ServiceConfig[]): Promise<void> {
  const used = new Set(services.flatMap((s) => serviceNetworks(s)));
  for (const key of [...used].sort()) {
    const n = o.project.networks[key];
    const found = await o.client.networkList({ name: [n.name] });
    if (found.some((x) => x.Name === n.name)) continue;
    if (n.external) throw new ComposeError(`network ${n.name} declared as external, but could not be found`);
    progress(o.ctx, 'Network', n.name, 'Creating');
    await o.client.networkCreate({
      Name: n.name,
      Driver: n.driver,
      Internal: n.internal,
      Attachable: n.attachable,
      EnableIPv6: n.enable_ipv6,
      Options: n.driver_opts ? Object.fromEntries(Object.entries(n.driver_opts).map(([k, v]) => [k, String(v)])) : undefined,
      IPAM: n.ipam ? { Driver: n.ipam.driver, Config: (n.ipam.config ?? []).map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway })) } : undefined,
      Labels: { ...(n.labels ?? {}), [LABEL.network]: key, [LABEL.project]: o.project.name, [LABEL.version]: COMPOSE_VERSION },
    });
    progress(o.ctx, 'Network', n.name, 'Created');
  }
}

/** Named volumes the services mount, created when missing. */
export async function ensureVolumes(o: Opts, services: ServiceConfig[]): Promise<void> {
  const used = new Set(services.flatMap((s) => (s.volumes ?? []).filter((m) => m.type === 'volume' && m.source).map((m) => m.source!)));
  for (const key of [...used].sort()) {
    const v = o.project.volumes[key];
    try {
      await o.client.volumeInspect(v.name);
      continue;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (v.external) throw new ComposeError(`external volume "${v.name}" not found`);
    progress(o.ctx, 'Volume', v.name, 'Creating');
    await o.client.volumeCreate({
      Name: v.name,
      Driver: v.driver,
      DriverOpts: v.driver_opts ? Object.fromEntries(Object.entries(v.driver_opts).map(([k, x]) => [k, String(x)])) : undefined,
      Labels: { ...(v.labels ?? {}), [LABEL.volume]: key, [LABEL.project]: o.project.name, [LABEL.version]: COMPOSE_VERSION },
    });
    progress(o.ctx, 'Volume', v.name, 'Created');
  }
}

/** The image's ID, or undefined when the daemon does not have it. */
export async function imageId(client: EngineClient, name: string): Promise<string | undefined> {
  try {
    return (await client.imageInspect(name)).Id;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function pullImage(o: Opts, s: ServiceConfig, quiet: boolean): Promise<void> {
  const ref = imageName(o.project, s);
  progress(o.ctx, 'Image', ref, 'Pulling');
  const at = ref.indexOf('@');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = at >= 0 ? [ref.slice(0, at), ref.slice(at + 1)] : colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const res = await o.client.imagePullStream(name, tag);
  await renderProgress(res, undefined);
  void quiet;
  progress(o.ctx, 'Image', ref, 'Pulled');
}

/**
 * A tar of the build context on stdout of tar(1), .dockerignore included: the daemon applies its
 * rules (tar's --exclude patterns are not .dockerignore's: `!` exceptions, `**`).
 */
function contextTar(dir: string): NodeJS.ReadableStream {
  if (!existsSync(dir)) throw new ComposeError(`building: unable to prepare context: path "${dir}" not found`);
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

/** POST /build with the context (the classic builder's protocol, as Compose uses without BuildKit). */
export async function buildImage(o: Opts, s: ServiceConfig, opts: { noCache?: boolean; pull?: boolean; quiet?: boolean } = {}): Promise<void> {
  const b = s.build!;
  const tag = imageName(o.project, s);
  progress(o.ctx, 'Service', s.name, 'Building');
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) {
    const val = v ?? o.project.environment[k];
    if (val !== undefined) args[k] = val;
  }
  const res = await o.client.request('POST', '/build', {
    query: {
      t: tag,
      dockerfile: b.dockerfile,
      target: b.target,
      buildargs: JSON.stringify(args),
      labels: JSON.stringify(b.labels ?? {}),
      nocache: opts.noCache || b.no_cache ? '1' : undefined,
      pull: opts.pull || b.pull ? '1' : undefined,
      networkmode: b.network,
      rm: '1',
    },
    body: contextTar(b.context),
    headers: { 'Content-Type': 'application/x-tar' },
  });
  for await (const m of iterateJSON(res)) {
    const msg = m as { stream?: string; error?: string; errorDetail?: { message?: string } };
    if (msg.error || msg.errorDetail) throw new ComposeError(`failed to solve: ${msg.errorDetail?.message ?? msg.error}`);
    if (msg.stream && !opts.quiet) o.ctx.err.write(msg.stream);
  }
  progress(o.ctx, 'Service', s.name, 'Built');
}

/** Images for the services: built (missing, or always with --build), pulled when missing. */
export async function ensureImages(o: Opts, services: ServiceConfig[], opts: { build?: boolean; noBuild?: boolean; quietPull?: boolean; pull?: string }): Promise<void> {
  // One service per image (several services often share one): each image is pulled or built once.
  const byImage = new Map<string, ServiceConfig>();
  for (const s of services) if (!byImage.has(imageName(o.project, s)) || s.build) byImage.set(imageName(o.project, s), s);
  await Promise.all([...byImage.values()].map((s) => ensureImage(o, s, opts)));
}

async function ensureImage(o: Opts, s: ServiceConfig, opts: { build?: boolean; noBuild?: boolean; quietPull?: boolean; pull?: string }): Promise<void> {
  const name = imageName(o.project, s);
  const policy = opts.pull ?? s.pull_policy ?? 'missing';
  if (s.build && !opts.noBuild && (opts.build || policy === 'build' || !(await imageId(o.client, name)))) {
    await buildImage(o, s);
    return;
  }
  if (policy === 'always' || ((policy === 'missing' || policy === 'if_not_present') && !(await imageId(o.client, name)))) {
    try {
      await pullImage(o, s, !!opts.quietPull);
    } catch (e) {
      throw new ComposeError(`Error response from daemon: ${errorText(e)}`);
    }
  } else if (policy === 'never' && !(await imageId(o.client, name))) {
    throw new ComposeError(`No such image: ${name}`);
  }
}
