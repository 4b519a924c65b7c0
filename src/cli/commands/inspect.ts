// inspect: `container inspect`, and the top-level `inspect` that tries containers, then images.
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { INSPECT_FORMAT_FLAG, inspectEach, isNotFound } from './common.js';

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
      short: 'Display detailed information on one or more containers',
      flags: [
        INSPECT_FORMAT_FLAG,
        { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
      ],
      minArgs: 1,
    },
    run: runContainerInspect,
  },
  'inspect-any': {
    spec: {
      use: '[OPTIONS] NAME|ID [NAME|ID...]',
      short: 'Return low-level information on Docker objects',
      flags: [
        INSPECT_FORMAT_FLAG,
        { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
        { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
      ],
      minArgs: 1,
    },
    run: runInspectAny,
  },
};
