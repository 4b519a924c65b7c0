// `up`'s reconciliation, like Compose v2's convergence: per service, in dependency order, keep
// the containers whose config hash and image are unchanged, recreate the others, add or remove
// containers to reach the scale, start what is stopped; wait for dependency conditions first.
import type { ContainerInspect, ContainerSummary } from '../../../client/index.js';
import { errorText, isNotFound } from '../common.js';
import { ComposeError } from './errors.js';
import type { Condition, ServiceConfig } from './model.js';
import { imageId } from './resources.js';
import { configHash, containerName, createBody, endpointOf, imageName, LABEL, replicas, serviceNetworks } from './spec.js';
import { dependencyOrder, limiter, nameOf, numberOf, progress, serviceOf, type Opts } from './state.js';
import { uiOf } from './ui.js';

export interface ConvergeOptions {
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noStart?: boolean;
  scale: Record<string, number>;
  timeout?: number;
  /** Services whose dependencies are not waited for / started (--no-deps). */
  noDeps?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Create one container of a service (and connect it to its other networks). */
async function createContainer(o: Opts, s: ServiceConfig, n: number, hash: string, image: string | undefined, opts: { oneoff?: boolean; name?: string; override?: (b: ReturnType<typeof createBody>) => void } = {}): Promise<string> {
  const nets = serviceNetworks(s);
  const body = createBody(o.project, s, { number: n, hash, imageId: image, primaryNetwork: nets[0], oneoff: opts.oneoff });
  opts.override?.(body);
  const name = opts.name ?? containerName(o.project, s, n);
  const { Id, Warnings } = await o.client.containerCreate(body, { name });
  for (const w of Warnings ?? []) o.ctx.err.write(`WARNING: ${w}\n`);
  for (const net of nets.slice(1)) {
    await o.client.networkConnect(o.project.networks[net].name, { Container: Id, EndpointConfig: endpointOf(s, net, opts.oneoff) });
  }
  return Id;
}

export { createContainer };

async function removeContainer(o: Opts, c: ContainerSummary, timeout?: number, volumes = false): Promise<void> {
  const name = nameOf(c);
  if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
    progress(o.ctx, 'Container', name, 'Stopping');
    await o.client.containerStop(c.Id, { timeout });
    progress(o.ctx, 'Container', name, 'Stopped');
  }
  progress(o.ctx, 'Container', name, 'Removing');
  await o.client.containerRemove(c.Id, { force: true, volumes });
  progress(o.ctx, 'Container', name, 'Removed');
}

export { removeContainer };

async function start(o: Opts, id: string, name: string): Promise<void> {
  progress(o.ctx, 'Container', name, 'Starting');
  await o.client.containerStart(id);
  progress(o.ctx, 'Container', name, 'Started');
}

/** Block until a dependency's containers meet the condition (or fail it). */
export async function waitCondition(o: Opts, dep: string, condition: Condition, deadline = Infinity): Promise<void> {
  const containers = (await o.client.containerList({ all: true, filters: { label: [`${LABEL.project}=${o.project.name}`, `${LABEL.service}=${dep}`, `${LABEL.oneoff}=False`] } }));
  for (const c of containers) {
    const name = nameOf(c);
    if (condition === 'service_started') continue;
    progress(o.ctx, 'Container', name, 'Waiting');
    for (;;) {
      let info: ContainerInspect;
      try {
        info = await o.client.containerInspect(c.Id);
      } catch (e) {
        if (isNotFound(e)) throw new ComposeError(`dependency failed to start: container ${name} was removed`);
        throw e;
      }
      const st = info.State as { Status?: string; ExitCode?: number; Health?: { Status?: string } } | undefined;
      if (condition === 'service_healthy') {
        const h = st?.Health?.Status;
        if (!st?.Health) throw new ComposeError(`dependency failed to start: container ${name} has no healthcheck configured`);
        if (h === 'healthy') {
          progress(o.ctx, 'Container', name, 'Healthy');
          break;
        }
        if (h === 'unhealthy') throw new ComposeError(`dependency failed to start: container ${name} is unhealthy`);
        if (st.Status === 'exited' || st.Status === 'dead') throw new ComposeError(`dependency failed to start: container ${name} exited (${st.ExitCode})`);
      } else {
        if (st?.Status === 'exited' || st?.Status === 'dead') {
          if (st.ExitCode !== 0) throw new ComposeError(`service "${dep}" didn't complete successfully: exit ${st.ExitCode}`);
          progress(o.ctx, 'Container', name, 'Exited');
          break;
        }
      }
      if (Date.now() > deadline) throw new ComposeError(`timeout waiting for ${name}`);
      await sleep(250);
    }
  }
}

/** Converge the given services (already with their dependencies, when wanted). */
export async function converge(o: Opts, services: ServiceConfig[], existing: ContainerSummary[], opts: ConvergeOptions): Promise<void> {
  const ordered = dependencyOrder(services);
  const selected = new Set(ordered.map((s) => s.name));
  const done = new Map<string, Promise<void>>();
  // --parallel N: at most N services converge at once (taken after their dependencies are met).
  const slot = limiter(uiOf(o.ctx).parallel);
  const one = async (s: ServiceConfig): Promise<void> => {
    // Wait for the services this one depends on (converged in this run or already there).
    for (const [dep, cfg] of Object.entries(s.depends_on ?? {})) {
      if (!o.project.services[dep]) continue;
      if (done.has(dep)) await done.get(dep);
      if (!opts.noDeps || selected.has(dep)) {
        if (!opts.noStart) await waitCondition(o, dep, cfg.condition);
      }
    }
    await slot(() => convergeService(s));
  };
  const convergeService = async (s: ServiceConfig): Promise<void> => {
    const hash = configHash(s);
    const image = await imageId(o.client, imageName(o.project, s));
    const mine = existing.filter((c) => serviceOf(c) === s.name);
    const want = replicas(s, opts.scale);
    const keep: ContainerSummary[] = [];
    // Extras (highest numbers) go first.
    const sorted = [...mine].sort((a, b) => numberOf(a) - numberOf(b));
    for (const c of sorted.slice(want)) await removeContainer(o, c, opts.timeout);
    for (const c of sorted.slice(0, want)) {
      const stale = c.Labels?.[LABEL.hash] !== hash || (image !== undefined && c.ImageID !== image && c.Labels?.[LABEL.image] !== image);
      if (!opts.noRecreate && (opts.forceRecreate || stale)) {
        const n = numberOf(c);
        const name = nameOf(c);
        progress(o.ctx, 'Container', name, 'Recreate');
        await removeQuiet(o, c, opts.timeout);
        const id = await createContainer(o, s, n, hash, image);
        progress(o.ctx, 'Container', name, 'Recreated');
        if (!opts.noStart) await start(o, id, name);
        keep.push({ ...c, Id: id, State: 'running' });
      } else {
        if (!opts.noStart && c.State !== 'running') await start(o, c.Id, nameOf(c));
        else if (!opts.noStart) progress(o.ctx, 'Container', nameOf(c), 'Running');
        keep.push(c);
      }
    }
    const used = new Set(keep.map(numberOf));
    let n = 1;
    for (let i = keep.length; i < want; i++) {
      while (used.has(n)) n++;
      used.add(n);
      const name = containerName(o.project, s, n);
      if (s.container_name && want > 1) throw new ComposeError(`service "${s.name}" has a container_name and cannot be scaled to ${want}`);
      progress(o.ctx, 'Container', name, 'Creating');
      let id: string;
      try {
        id = await createContainer(o, s, n, hash, image);
      } catch (e) {
        throw new ComposeError(`Error response from daemon: ${errorText(e)}`);
      }
      progress(o.ctx, 'Container', name, 'Created');
      if (!opts.noStart) await start(o, id, name);
    }
  };
  for (const s of ordered) {
    const p = one(s);
    done.set(s.name, p);
    p.catch(() => undefined);
  }
  await Promise.all(done.values());
}

async function removeQuiet(o: Opts, c: ContainerSummary, timeout?: number): Promise<void> {
  if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') await o.client.containerStop(c.Id, { timeout });
  await o.client.containerRemove(c.Id, { force: true });
}

/** --wait: every container of the services running, and healthy when it has a healthcheck. */
export async function waitRunning(o: Opts, services: ServiceConfig[], timeoutSec?: number): Promise<void> {
  const deadline = timeoutSec ? Date.now() + timeoutSec * 1000 : Infinity;
  const names = new Set(services.map((s) => s.name));
  const containers = (await o.client.containerList({ all: true, filters: { label: [`${LABEL.project}=${o.project.name}`, `${LABEL.oneoff}=False`] } })).filter((c) => names.has(serviceOf(c)));
  await Promise.all(containers.map(async (c) => {
    const name = nameOf(c);
    progress(o.ctx, 'Container', name, 'Waiting');
    for (;;) {
      const info = await o.client.containerInspect(c.Id);
      const st = info.State as { Status?: string; ExitCode?: number; Health?: { Status?: string } } | undefined;
      if (st?.Health) {
        if (st.Health.Status === 'healthy') { progress(o.ctx, 'Container', name, 'Healthy'); return; }
        if (st.Health.Status === 'unhealthy') throw new ComposeError(`container ${name} is unhealthy`);
      } else if (st?.Status === 'running') { progress(o.ctx, 'Container', name, 'Healthy'); return; }
      if (st?.Status === 'exited' || st?.Status === 'dead') {
        // A one-shot service that finished well is fine (depends_on: service_completed_successfully).
        if (st.ExitCode === 0 && !st.Health) { progress(o.ctx, 'Container', name, 'Exited'); return; }
        throw new ComposeError(`container ${name} exited (${st.ExitCode})`);
      }
      if (Date.now() > deadline) throw new ComposeError(`timeout waiting for ${name} to be healthy`);
      await sleep(250);
    }
  }));
}
