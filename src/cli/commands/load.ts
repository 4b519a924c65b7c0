// berth load (image load): images from a tar archive (stdin or -i), with docker/cli's output.
import type { Readable } from 'node:stream';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { imageLoad } from '../../client/transfer.js';
import { openArchive } from './archive-input.js';
import { renderProgress } from './common.js';
import { SUMMARY } from '../summaries.js';

async function runLoad(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const input = (p.flags.input as string) || '';
  if (!input && process.stdin.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
  let body: Readable;
  if (input) {
    body = await openArchive(input);
  } else {
    body = process.stdin;
  }
  // As docker/cli: no progress bars when the output is not a terminal.
  const quiet = !!p.flags.quiet || !ctx.out.isTTY;
  const client = await ctx.client();
  const res = await imageLoad(client, body, quiet);
  await renderProgress(res, ctx.out);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  load: {
    spec: {
      use: '[OPTIONS]',
      short: SUMMARY.load,
      aliases: ['image load', 'load'],
      flags: [
        { name: 'input', short: 'i', type: 'string', usage: 'Archive file to read instead of STDIN' },
        { name: 'quiet', short: 'q', type: 'bool', usage: "Don't print load progress" },
      ],
      maxArgs: 0,
    },
    run: runLoad,
  },
};
