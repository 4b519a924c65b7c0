// berth save (image save): images to a tar archive, on stdout or in a file (-o), as docker/cli.
import { closeSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { imageSave } from '../../client/transfer.js';
import { coalesce } from '../../util/coalesce.js';
import { SUMMARY } from '../summaries.js';

async function runSave(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const output = (p.flags.output as string) || '';
  if (!output && ctx.out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const client = await ctx.client();
  const res = await imageSave(client, p.args);
  if (!output) {
    await pipeline(res, ctx.out, { end: false });
    return 0;
  }
  // As docker/cli: written beside the target, then renamed over it, so a failed save leaves no half file.
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${process.pid}`);
  try {
    // Written synchronously, as a redirected stdout is: the CLI has nothing else to do, and a
    // thread-pool round trip per write cost seconds on a loaded machine.
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for await (const chunk of coalesce(res)) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
    } finally {
      closeSync(fd);
    }
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new StatusError(1, `failed to save image: ${(e as Error).message}`);
  }
  return 0;
}

export const commands: Record<string, CommandDef> = {
  save: {
    spec: {
      use: '[OPTIONS] IMAGE [IMAGE...]',
      short: SUMMARY.save,
      aliases: ['image save', 'save'],
      flags: [{ name: 'output', short: 'o', type: 'string', usage: 'File to write to instead of STDOUT' }],
      minArgs: 1,
    },
    run: runSave,
  },
};
