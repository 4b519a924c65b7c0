// Lifecycle of existing containers: start (with -a/-i), stop, restart, kill, rm, wait.
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { DETACH_KEYS_FLAG, forwardStdin, pipeOutput, proxySignals, startErrorStatus } from './attach-io.js';
import { eachArg, errorText, isNotFound } from './common.js';
import { SUMMARY } from '../summaries.js';

async function runStart(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const attach = p.flags.attach as boolean;
  const interactive = p.flags.interactive as boolean;
  if (attach || interactive) {
    if (p.args.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
    const name = p.args[0];
    const info = await client.containerInspect(name);
    const tty = !!info.Config?.Tty;
    const stream = await client.containerAttach(info.Id, {
      stream: true,
      stdin: interactive && !!info.Config?.OpenStdin,
      stdout: true,
      stderr: true,
      detachKeys: (p.flags['detach-keys'] as string) || undefined,
    });
    const wait = client.containerWait(info.Id, 'next-exit');
    await wait.headers.catch(() => {});
    const done = pipeOutput(stream, ctx, tty);
    const stopStdin = interactive && info.Config?.OpenStdin ? forwardStdin(stream, tty) : () => {};
    const stopSignals = !tty ? proxySignals(client, info.Id) : () => {};
    try {
      await client.containerStart(info.Id);
    } catch (e) {
      stopStdin();
      stopSignals();
      stream.destroy();
      throw new StatusError(startErrorStatus(e) === 125 ? 1 : startErrorStatus(e), errorText(e));
    }
    await done;
    stopStdin();
    stopSignals();
    const r = await wait.result.catch(() => ({ StatusCode: 0 }));
    return r.StatusCode;
  }
  const failedNames: string[] = [];
  for (const n of p.args) {
    try {
      await client.containerStart(n, { detachKeys: (p.flags['detach-keys'] as string) || undefined });
      ctx.out.write(n + '\n');
    } catch (e) {
      ctx.err.write(errorText(e) + '\n');
      failedNames.push(n);
    }
  }
  if (failedNames.length) throw new StatusError(1, `Error: failed to start containers: ${failedNames.join(', ')}`);
  return 0;
}

/** stop and restart: the same flags and per-container loop, one API call apart. */
function stopOrRestart(call: 'containerStop' | 'containerRestart'): CommandDef['run'] {
  return async (ctx, p) => {
    const client = await ctx.client();
    const timeout = p.changed.has('timeout') ? (p.flags.timeout as number) : undefined;
    const signal = (p.flags.signal as string) || undefined;
    return eachArg(ctx, p.args, async (n) => {
      await client[call](n, { timeout, signal });
    });
  };
}

async function runKill(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const signal = (p.flags.signal as string) || undefined;
  return eachArg(ctx, p.args, async (n) => {
    await client.containerKill(n, signal);
  });
}

async function runRm(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const force = p.flags.force as boolean;
  return eachArg(ctx, p.args, async (n) => {
    const name = n.replace(/^\/+/, '');
    if (!name) throw new Error('Container name cannot be empty');
    try {
      await client.containerRemove(name, { force, volumes: p.flags.volumes as boolean, link: p.flags.link as boolean });
    } catch (e) {
      if (force && isNotFound(e)) return null;
      throw e;
    }
  });
}

async function runWait(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  return eachArg(ctx, p.args, async (n) => {
    const r = await client.containerWait(n, 'not-running').result;
    return String(r.StatusCode);
  });
}

const TIMEOUT_FLAGS: FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', usage: "Signal to stop with (the container's stop signal when not given)" },
  { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait for it to stop before killing it' },
];

export const commands: Record<string, CommandDef> = {
  start: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.start,
      aliases: ['container start', 'start'],
      flags: [
        { name: 'attach', short: 'a', type: 'bool', usage: "Stream the container's output here and pass signals on" },
        DETACH_KEYS_FLAG,
        { name: 'interactive', short: 'i', type: 'bool', usage: "Connect this terminal's input to the container's STDIN" },
      ],
      minArgs: 1,
    },
    run: runStart,
  },
  stop: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.stop,
      aliases: ['container stop', 'stop'],
      flags: TIMEOUT_FLAGS,
      minArgs: 1,
    },
    run: stopOrRestart('containerStop'),
  },
  restart: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.restart,
      aliases: ['container restart', 'restart'],
      flags: TIMEOUT_FLAGS,
      minArgs: 1,
    },
    run: stopOrRestart('containerRestart'),
  },
  kill: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.kill,
      aliases: ['container kill', 'kill'],
      flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send (SIGKILL when not given)' }],
      minArgs: 1,
    },
    run: runKill,
  },
  wait: {
    spec: {
      use: 'CONTAINER [CONTAINER...]',
      short: SUMMARY.wait,
      aliases: ['container wait', 'wait'],
      flags: [],
      minArgs: 1,
    },
    run: runWait,
  },
  rm: {
    spec: {
      use: '[OPTIONS] CONTAINER [CONTAINER...]',
      short: SUMMARY.rm,
      aliases: ['container rm', 'container remove', 'rm'],
      flags: [
        { name: 'force', short: 'f', type: 'bool', usage: 'Remove running containers too, killing them (SIGKILL)' },
        { name: 'link', short: 'l', type: 'bool', usage: 'Remove the named link instead of a container' },
        { name: 'volumes', short: 'v', type: 'bool', usage: "Also delete the container's anonymous volumes" },
      ],
      minArgs: 1,
    },
    run: runRm,
  },
};
