// berth diff and berth export (container diff, container export), and the tar-to-file plumbing
// that `volume export` shares: output to -o FILE (written beside it, renamed into place when
// complete, as docker/cli's CopyToFile) or to stdout, never to a terminal.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { containerChanges, containerExport } from '../../client/archive.js';
import { SUMMARY } from '../summaries.js';

const KINDS = ['C', 'A', 'D'] as const;

/** Write a tar response to `-o FILE` or stdout (refusing a terminal). */
export async function saveTar(ctx: Ctx, body: IncomingMessage, output: string | undefined): Promise<void> {
  if (!output) {
    if (ctx.out.isTTY) {
      body.destroy();
      throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    await pipeline(body, ctx.out, { end: false });
    return;
  }
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    await pipeline(body, createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new StatusError(1, `failed to save: ${(e as Error).message}`);
  }
}

async function runDiff(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  for (const c of await containerChanges(client, p.args[0]!)) ctx.out.write(`${KINDS[c.Kind] ?? '?'} ${c.Path}\n`);
  return 0;
}

async function runExport(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const output = (p.flags.output as string) || undefined;
  if (!output && ctx.out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  await saveTar(ctx, await containerExport(client, p.args[0]!), output);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  diff: {
    spec: {
      use: 'CONTAINER',
      short: SUMMARY.diff,
      aliases: ['container diff', 'diff'],
      flags: [],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runDiff,
  },
  export: {
    spec: {
      use: '[OPTIONS] CONTAINER',
      short: SUMMARY.export,
      aliases: ['container export', 'export'],
      flags: [{ name: 'output', short: 'o', type: 'string', usage: 'File to write to instead of STDOUT' }],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runExport,
  },
};
