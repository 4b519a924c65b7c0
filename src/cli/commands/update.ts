// `update`: change the resources and restart policy of containers (docker/cli's container update).
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { errorText } from './common.js';
import { RESOURCE_FLAGS, resourcesFromFlags } from './resource-flags.js';
import { SUMMARY } from '../summaries.js';

async function runUpdate(ctx: Ctx, p: ParsedFlags): Promise<number> {
  if (p.changed.size === 0) throw new StatusError(1, 'you must provide one or more flags when using this command');
  const body: Record<string, unknown> = resourcesFromFlags(p);
  if (p.changed.has('restart')) {
    const [name, max] = (p.flags.restart as string).split(':');
    const count = max === undefined ? 0 : Number(max);
    if (!Number.isInteger(count)) throw new StatusError(125, 'invalid restart policy format: maximum retry count must be an integer');
    body.RestartPolicy = { Name: name, MaximumRetryCount: count };
  }
  const client = await ctx.client();
  const errs: string[] = [];
  for (const name of p.args) {
    try {
      const r = await client.containerUpdate(name, body);
      for (const w of r?.Warnings ?? []) ctx.err.write(w + '\n');
      ctx.out.write(name + '\n');
    } catch (e) {
      errs.push(errorText(e));
    }
  }
  if (errs.length) throw new StatusError(1, errs.join('\n'));
  return 0;
}

export const commands: Record<string, CommandDef> = {
  update: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.update,
      aliases: ['container update', 'update'],
      flags: [...RESOURCE_FLAGS, { name: 'restart', type: 'string', usage: 'What to do when the container exits (restart policy)' }],
      minArgs: 1,
    },
    run: runUpdate,
  },
};
