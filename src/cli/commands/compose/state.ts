// What exists of a project on the daemon (found by Compose's labels), and the plain progress
// lines docker compose prints without a terminal (" Container p-web-1  Started").
import type { ContainerSummary, EngineClient } from '../../../client/index.js';
import type { Ctx } from '../../context.js';
import { ComposeError } from './errors.js';
import type { Project, ServiceConfig } from './model.js';
import { LABEL } from './spec.js';
import { uiOf } from './ui.js';

export interface Opts {
  ctx: Ctx;
  client: EngineClient;
  project: Project;
}

/** One progress event, as --progress says: a plain line, a JSON object ({"id","text"}), or nothing. */
export function progress(ctx: Ctx, kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service', name: string, status: string): void {
  const mode = uiOf(ctx).progress;
  if (mode === 'quiet') return;
  const id = `${kind} ${kind === 'Volume' ? `"${name}"` : name}`;
  ctx.err.write(mode === 'json' ? `${JSON.stringify({ id, text: status })}\n` : ` ${id}  ${status}\n`);
}

export const nameOf = (c: ContainerSummary): string => (c.Names?.[0] ?? '').replace(/^\//, '');
export const serviceOf = (c: ContainerSummary): string => c.Labels?.[LABEL.service] ?? '';
export const numberOf = (c: ContainerSummary): number => Number(c.Labels?.[LABEL.number] ?? 0);
export const isOneoff = (c: ContainerSummary): boolean => c.Labels?.[LABEL.oneoff] === 'True';

/** The project's containers (all states), optionally one-off ones too, sorted by service and number. */
export async function projectContainers(client: EngineClient, project: string, opts: { oneoff?: boolean; services?: string[] } = {}): Promise<ContainerSummary[]> {
  const list = await client.containerList({ all: true, filters: { label: [`${LABEL.project}=${project}`] } });
  return list
    .filter((c) => (opts.oneoff ? true : !isOneoff(c)))
    .filter((c) => !opts.services?.length || opts.services.includes(serviceOf(c)))
    .sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b));
}

/** Service names of a command line, checked against the model (disabled ones by profile included). */
export function selectServices(p: Project, names: string[]): ServiceConfig[] {
  if (!names.length) return Object.values(p.services);
  return names.map((n) => {
    const s = p.services[n] ?? p.disabled[n];
    if (!s) throw new ComposeError(`no such service: ${n}`);
    return s;
  });
}

/** The named services plus what they depend on, transitively. */
export function withDependencies(p: Project, services: ServiceConfig[]): ServiceConfig[] {
  const out = new Map<string, ServiceConfig>();
  const add = (s: ServiceConfig) => {
    if (out.has(s.name)) return;
    out.set(s.name, s);
    for (const d of Object.keys(s.depends_on ?? {})) {
      const dep = p.services[d];
      if (dep) add(dep);
    }
  };
  services.forEach(add);
  return [...out.values()];
}

/** The named services plus those that depend on them with `restart: true`, transitively (restart's reach). */
export function withRestartDependents(p: Project, names: string[]): string[] {
  const out = new Set(names);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of Object.values(p.services)) {
      if (out.has(s.name)) continue;
      if (Object.entries(s.depends_on ?? {}).some(([dep, cfg]) => cfg.restart && out.has(dep))) {
        out.add(s.name);
        grew = true;
      }
    }
  }
  return [...out];
}

/** A bound on concurrent work: `run(fn)` waits for one of `n` slots first (n <= 0: no bound). */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (n <= 0) return fn();
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Dependency order: each service after the ones it depends on (cycles are an error). */
export function dependencyOrder(services: ServiceConfig[]): ServiceConfig[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: ServiceConfig[] = [];
  const visit = (s: ServiceConfig) => {
    if (done.has(s.name)) return;
    if (visiting.has(s.name)) throw new ComposeError(`dependency cycle detected: ${[...visiting, s.name].join(' -> ')}`);
    visiting.add(s.name);
    for (const d of Object.keys(s.depends_on ?? {}).sort()) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    visiting.delete(s.name);
    done.add(s.name);
    out.push(s);
  };
  [...services].sort((a, b) => a.name.localeCompare(b.name)).forEach(visit);
  return out;
}

/** Run `fn` over items, at most `limit` at a time, failing on the first error. */
export async function eachLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
