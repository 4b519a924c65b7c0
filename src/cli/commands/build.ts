// berth build (image build): a context folder, URL or stdin through POST /build, shown as a
// compact step view (steps, cache hits, timings; plain lines, so it reads the same without a TTY)
// or, with --progress=legacy, the daemon's stream as `docker build` prints it.
import { writeFileSync } from 'node:fs';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { ramInBytes, RESOURCE_FLAGS, resourcesFromFlags } from './resource-flags.js';

/** POST /build's resource parameters and the HostConfig fields they set. */
const BUILD_RESOURCES: Array<[string, string]> = [
  ['memory', 'Memory'], ['memswap', 'MemorySwap'], ['cpushares', 'CpuShares'], ['cpuperiod', 'CpuPeriod'],
  ['cpuquota', 'CpuQuota'], ['cpusetcpus', 'CpusetCpus'], ['cpusetmems', 'CpusetMems'],
];
const BUILD_RESOURCE_FLAGS = new Set(['cpu-period', 'cpu-quota', 'cpu-shares', 'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-swap']);
import type { JSONMessage } from '../../client/jsonstream.js';
import { SUMMARY } from '../summaries.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function keyValueList(list: string[], flag: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw new StatusError(125, `invalid argument "${kv}" for "${flag}" flag`);
    if (i < 0) out[kv] = process.env[kv] ?? null; // as docker: the client's environment value
    else out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** The compact view: one line when a step starts, its output indented, one when it ends. */
class StepView {
  private step = '';
  private started = 0;
  private cached = false;
  private atLineStart = true;
  constructor(private readonly out: NodeJS.WritableStream, private readonly t0 = Date.now()) {}

  private end(): void {
    if (!this.step) return;
    if (!this.atLineStart) this.out.write('\n');
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    this.out.write(this.cached ? `  => CACHED\n` : `  => done ${secs}s\n`);
    this.step = '';
  }

  write(m: JSONMessage): void {
    const s = m.stream;
    if (s === undefined) {
      if (m.status) this.out.write(`  ${m.id ? `${m.id}: ` : ''}${m.status}${m.progress ? ' ' + m.progress : ''}\n`);
      return;
    }
    const step = /^Step (\d+)\/(\d+) : ([\s\S]*)$/.exec(s);
    if (step) {
      this.end();
      this.step = step[1]!;
      this.started = Date.now();
      this.cached = false;
      this.out.write(`[${step[1]}/${step[2]}] ${step[3]!.replace(/\n$/, '')}\n`);
      this.atLineStart = true;
      return;
    }
    if (s === '\n' && this.atLineStart) return;
    if (s === ' ---> Using cache\n') { this.cached = true; return; }
    if (/^ ---> /.test(s) || /^Removing intermediate container /.test(s)) return;
    if (/^Successfully (built|tagged) /.test(s)) {
      this.end();
      this.out.write(s.replace(/\n$/, '') + (s.startsWith('Successfully built') ? ` in ${((Date.now() - this.t0) / 1000).toFixed(1)}s` : '') + '\n');
      return;
    }
    // step output, indented line by line
    for (const part of s.split(/(?<=\n)/)) {
      if (this.atLineStart) this.out.write('  | ');
      this.out.write(part);
      this.atLineStart = part.endsWith('\n');
    }
  }

  finish(): void { this.end(); }
}

async function runBuild(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const target = p.args[0]!;
  const { localContext, isRemoteContext, buildImage } = await import('../../client/build.js');
  const file = (f.file as string) || undefined;
  if (target === '-' && file === '-') throw new StatusError(125, 'invalid argument: can\'t use stdin for both build context and dockerfile');
  let body: import('node:stream').Readable | undefined;
  let dockerfile = file;
  let remote: string | undefined;
  if (target === '-') {
    const { Readable } = await import('node:stream');
    body = Readable.from([await readStdin()]);
  } else if (isRemoteContext(target)) {
    remote = target;
  } else {
    const { statSync } = await import('node:fs');
    let st;
    try { st = statSync(target); } catch { throw new StatusError(1, `unable to prepare context: path "${target}" not found`); }
    if (!st.isDirectory()) throw new StatusError(1, `unable to prepare context: context must be a directory: ${target}`);
    const local = await localContext(target, file === '-' ? undefined : file, file === '-' ? await readStdin() : undefined);
    body = local.body;
    dockerfile = local.dockerfile;
  }
  const shm = f['shm-size'] as string;
  // docker build's resource flags are run's, sent as the build's query parameters
  const hc = resourcesFromFlags(p);
  const resources: Record<string, string | number | undefined> = {};
  for (const [param, field] of BUILD_RESOURCES) resources[param] = hc[field] as string | number | undefined;
  const labels = keyValueList(f.label as string[], '--label');
  const query = {
    t: f.tag as string[],
    dockerfile: remote ? dockerfile : dockerfile === '-' ? undefined : dockerfile,
    remote,
    q: (f.quiet as boolean) || undefined,
    nocache: (f['no-cache'] as boolean) || undefined,
    rm: f.rm as boolean,
    forcerm: (f['force-rm'] as boolean) || undefined,
    pull: (f.pull as boolean) || undefined,
    buildargs: JSON.stringify(keyValueList(f['build-arg'] as string[], '--build-arg')),
    labels: JSON.stringify(Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? '']))),
    target: (f.target as string) || undefined,
    networkmode: (f.network as string) || undefined,
    extrahosts: (f['add-host'] as string[]).length ? (f['add-host'] as string[]) : undefined,
    shmsize: shm ? ramInBytes(shm) : undefined,
    cachefrom: (f['cache-from'] as string[]).length ? JSON.stringify(f['cache-from']) : undefined,
    platform: (f.platform as string) || undefined,
    isolation: (f.isolation as string) || undefined,
    cgroupparent: (f['cgroup-parent'] as string) || undefined,
    ...resources,
    version: '1',
  };
  const client = await ctx.client();
  const controller = new AbortController();
  const res = await buildImage(client, body, query);
  const { iterateJSON } = await import('../../client/jsonstream.js');
  const progress = (f.progress as string) || 'auto';
  if (!['auto', 'plain', 'tty', 'legacy', 'quiet'].includes(progress)) throw new StatusError(125, `invalid progress mode: ${progress}`);
  const quiet = (f.quiet as boolean) || progress === 'quiet';
  const view = quiet ? undefined : progress === 'legacy' ? undefined : new StepView(ctx.out);
  let id = '';
  void controller;
  for await (const m of iterateJSON<JSONMessage>(res)) {
    if (m.errorDetail || m.error) {
      view?.finish();
      const code = m.errorDetail?.code || 1;
      throw new StatusError(code, m.errorDetail?.message ?? m.error ?? 'build failed');
    }
    const aux = m.aux as { ID?: string } | undefined;
    if (aux?.ID) { id = aux.ID; continue; }
    if (quiet) continue;
    if (view) view.write(m);
    else if (m.stream !== undefined) ctx.out.write(m.stream);
    else if (m.status) ctx.out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  }
  view?.finish();
  if (quiet) ctx.out.write(`${id}\n`);
  if (f.iidfile) writeFileSync(f.iidfile as string, id);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  build: {
    spec: {
      use: '[OPTIONS] PATH | URL | -',
      short: SUMMARY.build,
      aliases: ['image build', 'build', 'builder build'],
      flags: [
        { name: 'add-host', type: 'list', usage: 'Extra /etc/hosts entry for RUN steps, as host:ip' },
        { name: 'build-arg', type: 'list', usage: 'Build-time variable, as NAME=value' },
        { name: 'cache-from', type: 'list', usage: 'Image to take cached layers from' },
        { name: 'cgroup-parent', type: 'string', usage: 'Parent cgroup for RUN steps' },
        ...RESOURCE_FLAGS.filter((fl) => BUILD_RESOURCE_FLAGS.has(fl.name)),
        { name: 'file', short: 'f', type: 'string', usage: 'Dockerfile to build from (PATH/Dockerfile when not given)' },
        { name: 'force-rm', type: 'bool', usage: 'Remove intermediate containers even when a step fails' },
        { name: 'iidfile', type: 'string', usage: 'File to write the image ID to' },
        { name: 'isolation', type: 'string', usage: 'Isolation technology for the build containers' },
        { name: 'label', type: 'list', usage: 'Label for the image, as key=value' },
        { name: 'network', type: 'string', usage: 'Network mode for RUN steps' },
        { name: 'no-cache', type: 'bool', usage: 'Run every step again, ignoring the cache' },
        { name: 'platform', type: 'string', usage: 'Platform to use, as os[/arch[/variant]] (for daemons that serve several)' },
        { name: 'progress', type: 'string', usage: 'Progress style: auto, plain, legacy or quiet' },
        { name: 'pull', type: 'bool', usage: 'Look for a newer base image even when one is present' },
        { name: 'quiet', short: 'q', type: 'bool', usage: 'Print nothing but the image ID, on success' },
        { name: 'rm', type: 'bool', def: true, usage: 'Remove intermediate containers once the build succeeds' },
        { name: 'shm-size', type: 'string', usage: 'Size of /dev/shm for RUN steps' },
        { name: 'tag', short: 't', type: 'list', usage: 'Name for the image, as name or name:tag' },
        { name: 'target', type: 'string', usage: 'Build stage to stop at' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runBuild,
  },
};
