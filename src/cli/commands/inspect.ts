// inspect: `container inspect`, and the top-level `inspect` that tries containers, then images.
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { INSPECT_FORMAT_FLAG, inspectEach, isNotFound } from './common.js';
import { SUMMARY } from '../summaries.js';

async function runContainerInspect(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, p.args, p.flags.format as string, (n) => client.containerInspect(n, { size: p.flags.size as boolean }));
}

/** Ask for the object as each type in turn; a 404 moves on to the next type, other errors stop. */
async function runInspectAny(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const type = p.flags.type as string;
  if (type && !['container', 'image'].includes(type)) throw new StatusError(1, `"${type}" is not a valid value for --type`);
  const getters: Array<[string, (n: string) => Promise<unknown>]> = [
    ['container', (n) => client.containerInspect(n, { size: p.flags.size as boolean })],
    ['image', (n) => client.imageInspect(n)],
  ];
  return inspectEach(ctx, p.args, p.flags.format as string, async (n) => {
    for (const [kind, get] of getters) {
      if (type && type !== kind) continue;
      try {
        return await get(n);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    throw new Error(type ? `Error: No such ${type}: ${n}` : `Error: No such object: ${n}`);
  });
}

export const commands: Record<string, CommandDef> = {
  inspect: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY['container inspect'],
      flags: [
        INSPECT_FORMAT_FLAG,
        { name: 'size', short: 's', type: 'bool', usage: "Add the container's size" },
      ],
      minArgs: 1,
    },
    run: runContainerInspect,
  },
  'inspect-any': {
    spec: {
      use: '[OPTIONS] NAME|ID [NAME|ID...]',
      short: SUMMARY.inspect,
      flags: [
        INSPECT_FORMAT_FLAG,
        { name: 'size', short: 's', type: 'bool', usage: 'Add the size of containers' },
        { name: 'type', type: 'string', usage: 'Look only for this kind of object: "container" or "image"' },
      ],
      minArgs: 1,
    },
    run: runInspectAny,
  },
};
