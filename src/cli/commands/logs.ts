// logs: a container's log stream, demultiplexed unless it has a TTY.
import type { CommandDef, Ctx } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { pipeOutput } from './attach-io.js';
import { getTimestamp } from './common.js';
import { SUMMARY } from '../summaries.js';

async function runLogs(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const info = await client.containerInspect(p.args[0]);
  const res = await client.containerLogs(info.Id, {
    follow: f.follow as boolean,
    stdout: true,
    stderr: true,
    since: f.since ? getTimestamp(f.since as string) : undefined,
    until: f.until ? getTimestamp(f.until as string) : undefined,
    timestamps: f.timestamps as boolean,
    tail: f.tail as string,
    details: f.details as boolean,
  });
  await pipeOutput({ output: res }, ctx, !!info.Config?.Tty);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  logs: {
    spec: {
      use: '[OPTIONS] CONTAINER',
      short: SUMMARY.logs,
      aliases: ['container logs', 'logs'],
      flags: [
        { name: 'details', type: 'bool', usage: 'Include the extra attributes recorded with each line' },
        { name: 'follow', short: 'f', type: 'bool', usage: 'Keep printing new output as it comes' },
        { name: 'since', type: 'string', usage: 'Only output after this time: a timestamp such as 2013-01-02T13:23:37Z, or an age such as 42m' },
        { name: 'tail', short: 'n', type: 'string', def: 'all', usage: 'How many lines to print from the end of the log ("all" for every line)' },
        { name: 'timestamps', short: 't', type: 'bool', usage: 'Start each line with its timestamp' },
        { name: 'until', type: 'string', usage: 'Only output before this time: a timestamp such as 2013-01-02T13:23:37Z, or an age such as 42m' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runLogs,
  },
};
