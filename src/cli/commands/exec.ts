// exec: a command in a running container, attached or detached.
import type { ExecCreateBody } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { DETACH_KEYS_FLAG, forwardStdin, pipeOutput } from './attach-io.js';
import { createFlags, envFromList, readLinesFile } from './create-flags.js';
import { SUMMARY } from '../summaries.js';

async function runExec(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [container, ...cmd] = p.args;
  const client = await ctx.client();
  const tty = f.tty as boolean;
  const interactive = f.interactive as boolean;
  const detach = f.detach as boolean;
  if (tty && interactive && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const env = envFromList(f.env as string[]);
  for (const file of f['env-file'] as string[]) env.push(...envFromList(await readLinesFile(file)));
  const body: ExecCreateBody = {
    User: (f.user as string) || '',
    Privileged: f.privileged as boolean,
    Tty: tty,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Detach: detach,
    DetachKeys: (f['detach-keys'] as string) || '',
    Env: env.length ? env : null,
    WorkingDir: (f.workdir as string) || '',
    Cmd: cmd,
  };
  if (tty && process.stdout.isTTY) body.ConsoleSize = [process.stdout.rows || 0, process.stdout.columns || 0];
  const { Id } = await client.execCreate(container, body);
  if (detach) {
    const s = await client.execStart(Id, { Detach: true, Tty: tty });
    s.destroy();
    return 0;
  }
  const stream = await client.execStart(Id, { Detach: false, Tty: tty, ConsoleSize: body.ConsoleSize ?? undefined });
  const done = pipeOutput(stream, ctx, tty);
  const stopStdin = interactive && stream.input ? forwardStdin(stream, tty) : () => {};
  if (!interactive) stream.closeWrite();
  await done;
  stopStdin();
  const info = await client.execInspect(Id);
  return Number(info.ExitCode ?? 0);
}

export const commands: Record<string, CommandDef> = {
  exec: {
    spec: {
      use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
      short: SUMMARY.exec,
      aliases: ['container exec', 'exec'],
      flags: [
        { name: 'detach', short: 'd', type: 'bool', usage: 'Run the command in the background' },
        DETACH_KEYS_FLAG,
        ...createFlags('env', 'env-file', 'interactive'),
        { name: 'privileged', type: 'bool', usage: 'Run the command with extended privileges' },
        ...createFlags('tty', 'user', 'workdir'),
      ],
      interspersed: false,
      minArgs: 2,
    },
    run: runExec,
  },
};
