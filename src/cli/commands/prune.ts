// The prune commands: container, image, network and volume prune, and system prune running them all
// (docker/cli's */prune.go): a confirmation unless --force, then what went and the space reclaimed.
import type { EngineClient, ImageDeleteItem } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { humanSize } from '../../util/units.js';
import { filterFlag, parseFilters } from './common.js';
import { SUMMARY } from '../summaries.js';

type Filters = Record<string, string[]>;

/** What one prune step removed: the space reclaimed (none for networks) and Docker's "Deleted …:" block. */
interface Pruned {
  space?: number;
  output: string;
}

/** prompt.Confirm: the question and ` [y/N] `, then one line of stdin; only y/Y says yes. */
async function confirm(ctx: Ctx, message: string): Promise<boolean> {
  ctx.out.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) finish(buf.slice(0, i));
    };
    const finish = (s: string) => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      resolve(s);
    };
    const onEnd = () => finish(buf);
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.resume();
  });
  return line.trim().toLowerCase() === 'y';
}

/** "Deleted Containers:\n<id>\n…", or '' when nothing went. */
function deletedBlock(title: string, lines: string[] | null | undefined): string {
  return lines?.length ? `${title}:\n${lines.map((l) => l + '\n').join('')}` : '';
}

/** The `--filter` values of a prune command (its flag has no `-f`: that is --force). */
function pruneFilters(p: ParsedFlags): Filters {
  return parseFilters(p.flags.filter as string[], '--filter');
}

async function pruneContainers(client: EngineClient, filters: Filters): Promise<Pruned> {
  const r = await client.containersPrune(filters);
  return { space: r.SpaceReclaimed ?? 0, output: deletedBlock('Deleted Containers', r.ContainersDeleted) };
}

async function pruneImages(client: EngineClient, filters: Filters, all: boolean): Promise<Pruned> {
  const r = await client.imagesPrune({ ...filters, dangling: [String(!all)] });
  const line = (it: ImageDeleteItem) => (it.Untagged ? `untagged: ${it.Untagged}` : `deleted: ${it.Deleted}`);
  return { space: r.SpaceReclaimed ?? 0, output: deletedBlock('Deleted Images', r.ImagesDeleted?.map(line)) };
}

async function pruneNetworks(client: EngineClient, filters: Filters): Promise<Pruned> {
  const r = await client.networksPrune(filters);
  return { output: deletedBlock('Deleted Networks', r.NetworksDeleted) };
}

async function pruneVolumes(client: EngineClient, filters: Filters, all: boolean): Promise<Pruned> {
  const r = await client.volumesPrune(all ? { ...filters, all: ['true'] } : filters);
  return { space: r.SpaceReclaimed ?? 0, output: deletedBlock('Deleted Volumes', r.VolumesDeleted) };
}

async function pruneBuildCache(client: EngineClient, filters: Filters, all: boolean): Promise<Pruned> {
  const r = await client.buildPrune(filters, { all });
  return { space: r.SpaceReclaimed ?? 0, output: deletedBlock('Deleted build cache objects', r.CachesDeleted) };
}

/** Ask unless --force, run the prune steps, print each block, then the total space when there is one. */
async function confirmAndPrune(ctx: Ctx, p: ParsedFlags, warning: string, steps: (client: EngineClient) => Array<() => Promise<Pruned>>): Promise<number> {
  if (!(p.flags.force as boolean) && !(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
  const client = await ctx.client();
  let total: number | undefined;
  for (const step of steps(client)) {
    const r = await step();
    if (r.space !== undefined) total = (total ?? 0) + r.space;
    if (r.output) ctx.out.write(r.output + '\n');
  }
  if (total !== undefined) ctx.out.write(`Total reclaimed space: ${humanSize(total)}\n`);
  return 0;
}

async function runContainerPrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const filters = pruneFilters(p);
  return confirmAndPrune(ctx, p, 'WARNING! This will remove all stopped containers.', (c) => [() => pruneContainers(c, filters)]);
}

async function runImagePrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const all = p.flags.all as boolean;
  const filters = pruneFilters(p);
  const warning = all
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  return confirmAndPrune(ctx, p, warning, (c) => [() => pruneImages(c, filters, all)]);
}

async function runNetworkPrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const filters = pruneFilters(p);
  return confirmAndPrune(ctx, p, 'WARNING! This will remove all custom networks not used by at least one container.', (c) => [
    () => pruneNetworks(c, filters),
  ]);
}

async function runVolumePrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const filters = pruneFilters(p);
  const all = (p.flags.all as boolean) || (filters.all ?? []).some((v) => v === 'true' || v === '1');
  const what = all ? 'all local volumes' : 'anonymous local volumes';
  return confirmAndPrune(ctx, p, `WARNING! This will remove ${what} not used by at least one container.`, (c) => [
    () => pruneVolumes(c, filters, all),
  ]);
}

async function runSystemPrune(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const all = p.flags.all as boolean;
  const volumes = p.flags.volumes as boolean;
  const filters = pruneFilters(p);
  if (volumes && filters.until) throw new StatusError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(all ? 'all build cache' : 'unused build cache');
  const shown: string[] = [];
  for (const k of ['label', 'label!', 'until']) for (const v of filters[k] ?? []) shown.push(`${k}=${v}`);
  shown.sort();
  let warning = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n`;
  if (shown.length) warning += `\n  Items to be pruned will be filtered with:\n${shown.map((w) => `  - ${w}`).join('\n')}\n`;
  return confirmAndPrune(ctx, p, warning, (c) => [
    () => pruneContainers(c, filters),
    () => pruneNetworks(c, filters),
    ...(volumes ? [() => pruneVolumes(c, filters, false)] : []),
    () => pruneImages(c, filters, all),
    () => pruneBuildCache(c, filters, all),
  ]);
}

const FORCE: FlagSpec = { name: 'force', short: 'f', type: 'bool', usage: "Don't ask for confirmation" };
const UNTIL_FILTER = filterFlag('Remove only what matches a condition, e.g. until=<timestamp>', false);

export const commands: Record<string, CommandDef> = {
  'container-prune': {
    spec: { use: '[OPTIONS]', short: SUMMARY['container prune'], flags: [UNTIL_FILTER, FORCE], maxArgs: 0 },
    run: runContainerPrune,
  },
  'image-prune': {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['image prune'],
      flags: [{ name: 'all', short: 'a', type: 'bool', usage: 'Remove every unused image, not only dangling ones' }, UNTIL_FILTER, FORCE],
      maxArgs: 0,
    },
    run: runImagePrune,
  },
  'network-prune': {
    spec: { use: '[OPTIONS]', short: SUMMARY['network prune'], flags: [UNTIL_FILTER, FORCE], maxArgs: 0 },
    run: runNetworkPrune,
  },
  'volume-prune': {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['volume prune'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Remove every unused volume, named ones as well as anonymous' },
        filterFlag('Remove only what matches a condition, e.g. label=<label>', false),
        FORCE,
      ],
      maxArgs: 0,
    },
    run: runVolumePrune,
  },
  'builder-prune': {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['builder prune'],
      flags: [{ name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused build cache, not only dangling entries' }, filterFlag('Remove only what matches a condition, e.g. until=24h', false), FORCE],
      maxArgs: 0,
    },
    run: (ctx, p) => confirmAndPrune(ctx, p, 'WARNING! This will remove all dangling build cache.',
      (c) => [() => pruneBuildCache(c, pruneFilters(p), p.flags.all as boolean)]),
  },
  'system-prune': {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY['system prune'],
      flags: [
        { name: 'all', short: 'a', type: 'bool', usage: 'Remove every unused image, not only dangling ones' },
        filterFlag('Remove only what matches a condition, e.g. label=<key>=<value>', false),
        FORCE,
        { name: 'volumes', type: 'bool', usage: 'Also remove anonymous volumes' },
      ],
      maxArgs: 0,
    },
    run: runSystemPrune,
  },
};
