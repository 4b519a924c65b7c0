// Container state beyond the lifecycle: attach, rename, pause, unpause, top.
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { tabwrite } from '../format/tabwriter.js';
import { eachArg, errorText } from './common.js';
import { DETACH_KEYS_FLAG, forwardStdin, monitorTty, pipeOutput, proxySignals } from './attach-io.js';
import { SUMMARY } from '../summaries.js';

/* -------------------------------------------------------------- attach */

async function runAttach(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const client = await ctx.client();
  const name = p.args[0];
  // As docker/cli: the wait goes out first, so an exit during the attach is not missed.
  const wait = client.containerWait(name, 'not-running');
  const check = async () => {
    const c = await client.containerInspect(name);
    if (!c.State.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
    if (c.State.Restarting) throw new StatusError(1, 'You cannot attach to a restarting container, wait until it is running');
    return c;
  };
  const c = await check();
  const tty = !!c.Config.Tty;
  const stdin = !(f['no-stdin'] as boolean) && !!c.Config.OpenStdin;
  if (stdin && tty && !process.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const stopSignals = (f['sig-proxy'] as boolean) && !tty ? proxySignals(client, c.Id) : () => {};
  try {
    const stream = await client.containerAttach(c.Id, {
      stream: true, stdin, stdout: true, stderr: true, detachKeys: (f['detach-keys'] as string) || undefined,
    });
    try {
      await check();
    } catch (e) {
      stream.destroy();
      throw e;
    }
    const stopTty = tty ? monitorTty((h, w) => client.containerResize(c.Id, h, w)) : () => {};
    const done = pipeOutput(stream, ctx, tty);
    const stopStdin = stdin && stream.input ? forwardStdin(stream, tty) : () => {};
    await done;
    stopStdin();
    stopTty();
    // The stream ended: the container stopped, or the detach keys were read (it still runs).
    const result = await Promise.race([
      wait.result.then((r) => r, () => undefined),
      new Promise<'detached'>((r) => setTimeout(() => r('detached'), 1500).unref()),
    ]);
    if (result === 'detached') throw new StatusError(1, 'read escape sequence');
    if (!result) return 0;
    if (result.Error?.Message) throw new StatusError(125, result.Error.Message);
    return result.StatusCode;
  } finally {
    stopSignals();
  }
}

/* ---------------------------------------------------------- rename, pause */

async function runRename(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const [oldName, newName] = p.args;
  const client = await ctx.client();
  try {
    await client.containerRename(oldName, newName);
  } catch (e) {
    ctx.err.write(errorText(e) + '\n');
    throw new StatusError(1, `Error: failed to rename container named ${oldName}`);
  }
  return 0;
}

/* ----------------------------------------------------------------- top */

async function runTop(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const list = await client.containerTop(p.args[0], p.args.slice(1));
  let text = list.Titles.join('\t') + '\n';
  for (const proc of list.Processes ?? []) text += proc.join('\t') + '\n';
  ctx.out.write(tabwrite(text, { minwidth: 20, padding: 3 }));
  return 0;
}

export const commands: Record<string, CommandDef> = {
  attach: {
    spec: {
      use: '[OPTIONS] CONTAINER',
      short: SUMMARY.attach,
      aliases: ['container attach', 'attach'],
      flags: [
        DETACH_KEYS_FLAG,
        { name: 'no-stdin', type: 'bool', usage: 'Leave STDIN unattached' },
        { name: 'sig-proxy', type: 'bool', def: true, usage: 'Pass signals this client receives on to the process' },
      ],
      minArgs: 1,
      maxArgs: 1,
    },
    run: runAttach,
  },
  rename: {
    spec: { use: 'CONTAINER NEW_NAME', short: SUMMARY.rename, aliases: ['container rename', 'rename'], flags: [], minArgs: 2, maxArgs: 2 },
    run: runRename,
  },
  pause: {
    spec: { use: 'CONTAINER [CONTAINER...]', short: SUMMARY.pause, aliases: ['container pause', 'pause'], flags: [], minArgs: 1 },
    run: async (ctx, p) => {
      const client = await ctx.client();
      return eachArg(ctx, p.args, async (n) => { await client.containerPause(n); });
    },
  },
  unpause: {
    spec: { use: 'CONTAINER [CONTAINER...]', short: SUMMARY.unpause, aliases: ['container unpause', 'unpause'], flags: [], minArgs: 1 },
    run: async (ctx, p) => {
      const client = await ctx.client();
      return eachArg(ctx, p.args, async (n) => { await client.containerUnpause(n); });
    },
  },
  top: {
    spec: { use: 'CONTAINER [ps OPTIONS]', short: SUMMARY.top, aliases: ['container top', 'top'], flags: [], interspersed: false, minArgs: 1 },
    run: runTop,
  },
};
