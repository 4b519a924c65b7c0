// `berth compose`: Compose v2's global flags, then a subcommand (commands.ts) over the loaded
// project. Also what `docker compose` runs through the CLI plugin (scripts/install.sh installs
// ~/.docker/cli-plugins/docker-compose, which answers docker-cli-plugin-metadata).
import type { CommandDef, Ctx } from '../../context.js';
import { PROG, StatusError } from '../../context.js';
import { FlagError, parseFlags, renderHelp, usageLine, type CommandSpec, type FlagSpec, type ParsedFlags } from '../../flags.js';
import { SUBCOMMANDS as BASE } from './commands.js';
import { EXTRA_SUBCOMMANDS } from './extra.js';
import { loadProject } from './load.js';

const SUBCOMMANDS = { ...BASE, ...EXTRA_SUBCOMMANDS };

const GLOBAL: FlagSpec[] = [
  { name: 'ansi', type: 'string', def: 'auto', usage: 'Control when to print ANSI control characters ("never"|"always"|"auto")' },
  { name: 'compatibility', type: 'bool', usage: 'Run compose in backward compatibility mode' },
  { name: 'dry-run', type: 'bool', usage: 'Execute command in dry run mode' },
  { name: 'env-file', type: 'list', usage: 'Specify an alternate environment file' },
  { name: 'file', short: 'f', type: 'list', usage: 'Compose configuration files' },
  { name: 'parallel', type: 'int', def: -1, usage: 'Control max parallelism, -1 for unlimited' },
  { name: 'profile', type: 'list', usage: 'Specify a profile to enable' },
  { name: 'progress', type: 'string', def: 'auto', usage: 'Set type of progress output (auto, tty, plain, json, quiet)' },
  { name: 'project-directory', type: 'string', usage: 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)' },
  { name: 'project-name', short: 'p', type: 'string', usage: 'Project name' },
];

export const COMPOSE_SPEC: CommandSpec = {
  use: '[OPTIONS] COMMAND',
  short: 'Define and run multi-container applications with Docker',
  flags: GLOBAL,
  interspersed: false,
};

function help(): string {
  const names = Object.keys(SUBCOMMANDS).sort();
  const lines = names.map((n) => `  ${n.padEnd(10)} ${SUBCOMMANDS[n].spec.short}`);
  const h = renderHelp(PROG, { ...COMPOSE_SPEC, path: 'compose' });
  return `${h.trimEnd()}\n\nCommands:\n${lines.join('\n')}\n\nRun '${PROG} compose COMMAND --help' for more information on a command.\n`;
}

async function runCompose(ctx: Ctx, g: ParsedFlags): Promise<number> {
  const [name, ...rest] = g.args;
  if (!name || name === 'help') {
    ctx.out.write(help());
    return 0;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) throw new StatusError(1, `unknown docker command: "compose ${name}"`);
  const spec: CommandSpec = { ...sub.spec, path: `compose ${name}` };
  let p: ParsedFlags;
  try {
    p = parseFlags(spec, rest);
  } catch (e) {
    if (e instanceof FlagError) throw new StatusError(1, `${e.message}\n\nUsage:  ${usageLine(PROG, spec)}\n\nRun '${PROG} compose ${name} --help' for more information`);
    throw e;
  }
  if (p.help) {
    ctx.out.write(renderHelp(PROG, spec));
    return 0;
  }
  if (spec.minArgs !== undefined && p.args.length < spec.minArgs) throw new StatusError(1, `'${PROG} compose ${name}' requires at least ${spec.minArgs} argument${spec.minArgs === 1 ? '' : 's'}`);
  if (spec.maxArgs !== undefined && p.args.length > spec.maxArgs) throw new StatusError(1, `'${PROG} compose ${name}' accepts no arguments`);
  if (g.flags['dry-run']) throw new StatusError(1, '--dry-run is not supported by Berth');
  const project = sub.needsProject === false && !g.changed.has('file')
    ? { name: (g.flags['project-name'] as string) || '', workingDir: process.cwd(), configFiles: [], environment: {}, services: {}, disabled: {}, networks: {}, volumes: {}, configs: {}, secrets: {} }
    : loadProject({
        files: g.flags.file as string[],
        projectName: (g.flags['project-name'] as string) || undefined,
        projectDirectory: (g.flags['project-directory'] as string) || undefined,
        envFiles: g.flags['env-file'] as string[],
        profiles: g.flags.profile as string[],
        env: process.env,
        cwd: process.cwd(),
      });
  const client = name === 'config' || name === 'version' ? (undefined as never) : await ctx.client();
  const code = await sub.run({ ctx, client, project }, p);
  return code ?? 0;
}

export const commands: Record<string, CommandDef> = {
  compose: { spec: COMPOSE_SPEC, run: runCompose },
};
