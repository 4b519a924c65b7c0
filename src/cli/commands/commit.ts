// berth commit (container commit): a container's changes as a new image.
import type { CommandDef, Ctx } from '../context.js';
import { StatusError } from '../context.js';
import type { ParsedFlags } from '../flags.js';
import { familiarName, parseNormalizedNamed } from '../../wire/reference.js';
import { SUMMARY } from '../summaries.js';

async function runCommit(ctx: Ctx, p: ParsedFlags): Promise<number> {
  const f = p.flags;
  const [container, reference] = p.args;
  let repo: string | undefined;
  let tag: string | undefined;
  if (reference) {
    const ref = parseNormalizedNamed(reference);
    if (ref.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
    repo = familiarName(ref);
    tag = ref.tag ?? 'latest';
  }
  const client = await ctx.client();
  const res = await client.containerCommit(container, {
    repo, tag,
    comment: (f.message as string) || undefined,
    author: (f.author as string) || undefined,
    changes: f.change as string[],
    pause: f.pause as boolean,
  });
  ctx.out.write(`${res.Id}\n`);
  return 0;
}

export const commands: Record<string, CommandDef> = {
  commit: {
    spec: {
      use: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
      short: SUMMARY.commit,
      aliases: ['container commit', 'commit'],
      flags: [
        { name: 'author', short: 'a', type: 'string', usage: 'Author to record, e.g. "Jane Doe <jane@example.com>"' },
        { name: 'change', short: 'c', type: 'list', usage: 'Dockerfile instruction (CMD, ENV, EXPOSE…) to apply to the new image' },
        { name: 'message', short: 'm', type: 'string', usage: 'Message to record with the image' },
        { name: 'pause', short: 'p', type: 'bool', def: true, usage: 'Pause the container while the image is made' },
      ],
      minArgs: 1,
      maxArgs: 2,
    },
    run: runCommit,
  },
};
