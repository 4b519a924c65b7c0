// berth import (image import): a filesystem tarball (file, URL or -) as a new image.
import type { Readable } from 'node:stream';
import type { CommandDef, Ctx } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { imageImport } from '../../client/transfer.js';
import { parseNormalizedNamed } from '../../wire/reference.js';
import { openArchive } from './archive-input.js';
import { renderProgress } from './common.js';
import { SUMMARY } from '../summaries.js';

async function runImport(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [source, reference] = p.args;
  if (reference) parseNormalizedNamed(reference); // refused here as docker/cli does
  let fromSrc = '-';
  let body: Readable | undefined;
  if (source === '-') body = process.stdin;
  else if (/^https?:\/\//.test(source)) fromSrc = source;
  else {
    body = await openArchive(source);
  }
  const client = await ctx.client();
  const res = await imageImport(client, {
    fromSrc, body, repo: reference || undefined,
    message: (f.message as string) || undefined,
    changes: f.change as string[],
    platform: (f.platform as string) || undefined,
  });
  await renderProgress(res, ctx.out);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  import: {
    spec: {
      use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
      short: SUMMARY.import,
      aliases: ['image import', 'import'],
      flags: [
        { name: 'change', short: 'c', type: 'list', usage: 'Dockerfile instruction (CMD, ENV, EXPOSE…) to apply to the new image' },
        { name: 'message', short: 'm', type: 'string', usage: 'Message to record with the image' },
        { name: 'platform', type: 'string', usage: 'Platform to use, as os[/arch[/variant]] (for daemons that serve several)' },
      ],
      minArgs: 1,
      maxArgs: 2,
    },
    run: runImport,
  },
};
