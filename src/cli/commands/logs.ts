// logs: a container's log stream, demultiplexed unless it has a TTY.
import type { CommandDef, Ctx } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { pipeOutput } from './attach-io.js';
import { getTimestamp } from './common.js';

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
      short: 'Fetch the logs of a container',
      aliases: ['container logs', 'logs'],
      flags: [
        { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
        { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
        { name: 'since', type: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
        { name: 'tail', short: 'n', type: 'string', def: 'all', usage: 'Number of lines to show from the end of the logs' },
        { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
        { name: 'until', type: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runLogs,
  },
};
