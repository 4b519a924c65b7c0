// `berth compose`: Compose v2's global flags, then a subcommand (commands.ts) over the loaded
// project. Also what `docker compose` runs through the CLI plugin (scripts/install.sh installs
// ~/.docker/cli-plugins/docker-compose, which answers docker-cli-plugin-metadata).
import type { CommandDef, Ctx } from '../../context.js';
import { PROG, StatusError } from '../../context.js';
import { FlagError, parseFlags, renderHelp, usageLine, type CommandSpec, type FlagSpec, type ParsedFlags } from '../../flags.js';
import { SUBCOMMANDS as BASE } from './commands.js';
import { EXTRA_SUBCOMMANDS } from './extra.js';
import { loadProject } from './load.js';
import type { Project } from './model.js';
import { resolveUI, setUI } from './ui.js';

const SUBCOMMANDS = { ...BASE, ...EXTRA_SUBCOMMANDS };

const GLOBAL: FlagSpec[] = [
  { name: 'ansi', type: 'string', def: 'auto', usage: 'When to print ANSI control characters: "never", "always" or "auto"' },
  { name: 'compatibility', type: 'bool', usage: 'Behave like docker-compose v1 (backward compatibility mode)' },
  { name: 'dry-run', type: 'bool', usage: 'Show what the command would do without doing it (refused by Berth)' },
  { name: 'env-file', type: 'list', usage: 'Environment file to read instead of the project directory\'s .env' },
  { name: 'file', short: 'f', type: 'list', usage: 'Compose file to load (repeat it to merge several)' },
  { name: 'parallel', type: 'int', def: -1, usage: 'Most operations to run at once (-1: no limit)' },
  { name: 'profile', type: 'list', usage: 'Profile whose services to enable' },
  { name: 'progress', type: 'string', def: 'auto', usage: 'How to show progress: auto, tty, plain, json or quiet' },
  { name: 'project-directory', type: 'string', usage: 'Working directory of the project\n(default: the directory of the first Compose file)' },
  { name: 'project-name', short: 'p', type: 'string', usage: 'Name of the project' },
];

export const COMPOSE_SPEC: CommandSpec = {
  use: '[OPTIONS] COMMAND',
  short: 'Run applications made of several containers, as Compose files describe them',
  flags: GLOBAL,
  interspersed: false,
};

function help(): string {
  const names = Object.keys(SUBCOMMANDS).sort();
  const lines = names.map((n) => `  ${n.padEnd(10)} ${SUBCOMMANDS[n].spec.short}`);
  const h = renderHelp(PROG, { ...COMPOSE_SPEC, path: 'compose' });
  return `${h.trimEnd()}\n\nCommands:\n${lines.join('\n')}\n\nFor the options of one command: '${PROG} compose COMMAND --help'.\n`;
}

async function runCompose(ctx: Ctx, g: ParsedFlags): Promise<number> {
  const [name, ...rest] = g.args;
  if (!name || name === 'help' || g.help) {
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
  const given = <T>(flag: string): T | undefined => (g.changed.has(flag) ? (g.flags[flag] as T) : undefined);
  setUI(ctx, resolveUI({ ansi: given<string>('ansi'), progress: given<string>('progress'), parallel: given<number>('parallel') }, process.env));
  const project: Project = sub.needsProject === false && !g.changed.has('file')
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
  // docker-compose v1 names (project_service_1), as Compose's --compatibility or COMPOSE_COMPATIBILITY=true.
  if (g.flags.compatibility || project.environment.COMPOSE_COMPATIBILITY === 'true') project.separator = '_';
  const client = name === 'config' || name === 'version' ? (undefined as never) : await ctx.client();
  const code = await sub.run({ ctx, client, project }, p);
  return code ?? 0;
}

export const commands: Record<string, CommandDef> = {
  compose: { spec: COMPOSE_SPEC, run: runCompose },
};
