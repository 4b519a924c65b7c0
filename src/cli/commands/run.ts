// run and create: the create body from the flags, the image pulled when missing, then for run
// the attach, start and wait (docker/cli's container/run.go and create.go).
import type { EngineClient, HijackedStream } from '../../client/index.js';
import type { CommandDef, Ctx } from '../context.js';
import { PROG, StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { InvalidParameterError } from '../../wire/errors.js';
import { familiarName, familiarString, parseAnyReference, withDefaultTag, type Reference } from '../../wire/reference.js';
import { forwardStdin, monitorTty, pipeOutput, proxySignals, startErrorStatus } from './attach-io.js';
import { isNotFound, renderProgress, runStyleError } from './common.js';
import { buildCreate, CREATE_FLAGS, RUN_FLAGS } from './create-flags.js';
import { SUMMARY } from '../summaries.js';

/**
 * The image to pull when it is missing, as docker/cli's createContainer reads it
 * (ParseAnyReference + TagNameOnly): undefined for an image ID, which is never pulled.
 */
function pullableRef(image: string): Reference | undefined {
  const ref = parseAnyReference(image);
  return ref.path ? withDefaultTag(ref) : undefined;
}

async function pullForRun(ctx: Ctx, client: EngineClient, ref: Reference, quiet: boolean, platform?: string): Promise<void> {
  const { registryAuthHeader } = await import('../../client/credentials.js');
  const res = await client.imagePullStream(familiarName(ref), ref.digest ?? ref.tag, { platform, registryAuth: await registryAuthHeader(ref.domain, ctx.configDir) });
  await renderProgress(res, quiet ? undefined : ctx.err);
}

async function createContainer(ctx: Ctx, client: EngineClient, p: ParsedFlags, isRun: boolean): Promise<string> {
  const path = isRun ? 'run' : 'create';
  const cr = await buildCreate(p, isRun);
  const pull = p.flags.pull as string;
  if (!['always', 'missing', 'never'].includes(pull))
    throw new StatusError(125, `${PROG}: invalid pull option: '${pull}': must be one of "always", "missing" or "never"\n\nRun '${PROG} ${path} --help' for more information`);
  const quiet = p.flags.quiet as boolean;
  try {
    const ref = pullableRef(cr.image);
    if (pull === 'always' && ref) await pullForRun(ctx, client, ref, quiet, cr.platform);
    let resp;
    try {
      resp = await client.containerCreate(cr.body, { name: cr.name, platform: cr.platform });
    } catch (e) {
      if (ref && isNotFound(e) && pull === 'missing' && /No such image/i.test((e as Error).message)) {
        ctx.err.write(`Unable to find image '${familiarString(ref)}' locally\n`);
        await pullForRun(ctx, client, ref, quiet, cr.platform);
        resp = await client.containerCreate(cr.body, { name: cr.name, platform: cr.platform });
      } else throw e;
    }
    for (const w of resp.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
    return resp.Id;
  } catch (e) {
    if (e instanceof StatusError) throw e;
    // docker create prints a bad reference as is (exit 1); docker run reports it run-style (125)
    if (!isRun && e instanceof InvalidParameterError) throw new StatusError(1, e.message);
    throw runStyleError(e, path);
  }
}

async function runRun(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const detach = f.detach as boolean;
  const tty = f.tty as boolean;
  const interactive = f.interactive as boolean;
  if (detach && p.changed.has('attach'))
    throw new StatusError(125, `${PROG}: Conflicting options: -a and -d\n\nRun '${PROG} run --help' for more information`);
  if (tty && interactive && !process.stdin.isTTY)
    throw new StatusError(1, 'the input device is not a TTY');
  const client = await ctx.client();
  const id = await createContainer(ctx, client, p, true);

  if (detach) {
    try {
      await client.containerStart(id);
    } catch (e) {
      throw runStyleError(e, 'run', startErrorStatus(e));
    }
    ctx.out.write(id + '\n');
    return 0;
  }

  const attach = (f.attach as string[]).map((s) => s.toLowerCase());
  const wantStdin = interactive || attach.includes('stdin');
  const wantStdout = attach.length ? attach.includes('stdout') : true;
  const wantStderr = attach.length ? attach.includes('stderr') : true;
  let stream: HijackedStream | null = null;
  if (wantStdin || wantStdout || wantStderr) {
    try {
      stream = await client.containerAttach(id, {
        stream: true,
        stdin: wantStdin,
        stdout: wantStdout,
        stderr: wantStderr,
        detachKeys: (f['detach-keys'] as string) || undefined,
      });
    } catch (e) {
      throw runStyleError(e, 'run');
    }
  }
  const autoRemove = f.rm as boolean;
  const wait = client.containerWait(id, autoRemove ? 'removed' : 'next-exit');
  try {
    await wait.headers;
  } catch (e) {
    stream?.destroy();
    throw runStyleError(e, 'run');
  }
  const outputDone = stream ? pipeOutput(stream, ctx, tty) : Promise.resolve();
  const stopStdin = stream && wantStdin && stream.input ? forwardStdin(stream, tty) : () => {};
  const stopSignals = !tty && (f['sig-proxy'] as boolean) ? proxySignals(client, id) : () => {};
  try {
    await client.containerStart(id);
  } catch (e) {
    stopStdin();
    stopSignals();
    stream?.destroy();
    throw runStyleError(e, 'run', startErrorStatus(e));
  }
  const stopTty = tty ? monitorTty((h, w) => client.containerResize(id, h, w)) : () => {};
  await outputDone;
  stopStdin();
  stopTty();
  let code = 0;
  try {
    const r = await wait.result;
    if (r.Error && r.Error.Message) ctx.err.write(`${PROG}: Error response from daemon: ${r.Error.Message}\n`);
    code = r.StatusCode;
  } catch (e) {
    stopSignals();
    throw runStyleError(e, 'run');
  }
  stopSignals();
  return code;
}

async function runCreate(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const client = await ctx.client();
  const id = await createContainer(ctx, client, p, false);
  ctx.out.write(id + '\n');
  return 0;
}

export const commands: Record<string, CommandDef> = {
  run: {
    spec: {
      use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
      short: SUMMARY.run,
      aliases: ['container run', 'run'],
      flags: RUN_FLAGS,
      interspersed: false,
      minArgs: 1,
    },
    run: runRun,
  },
  create: {
    spec: {
      use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
      short: SUMMARY.create,
      aliases: ['container create', 'create'],
      flags: CREATE_FLAGS,
      interspersed: false,
      minArgs: 1,
    },
    run: runCreate,
  },
};
