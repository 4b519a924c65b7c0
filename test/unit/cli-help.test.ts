// The help text is Berth's own words (facts from Docker, sentences not), and the command lists of
// `berth --help` / `berth GROUP --help` say of each command what that command's own --help says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { berthInProcess as berth } from '../helpers/berth-in-process.js';
import { usage as daemonUsage } from '../../src/daemon/config.js';

process.env.BERTH_HOST = 'unix:///nonexistent/berth-test.sock';
delete process.env.DOCKER_HOST;

/** Sentences of docker/cli's and dockerd's help, which ours must not repeat (a sample). */
const DOCKER_SENTENCES = [
  'docs.docker.com',
  'A self-sufficient runtime for containers',
  'Show all containers (default shows just running)',
  'John Hannibal Smith',
  'Always follow symbol link in SRC_PATH',
  'Completely Fair Scheduler',
  "Don't truncate output",
  'Format output using a custom template',
  'Filter output based on conditions provided',
  'Create and run a new container from an image',
  'Display detailed information on one or more',
  'Keep STDIN open even if not attached',
  'Set platform if server is multi-platform capable',
  'Number of lines to show from the end of the logs',
  'Run container in background and print container ID',
  'Trust certs signed only by this CA',
  'Print version information and quit',
  'Name of the context to use to connect to the daemon',
  'for more information on a command',
];

function assertOwnWords(text: string, where: string): void {
  for (const s of DOCKER_SENTENCES) assert.ok(!text.includes(s), `${where} repeats Docker's "${s}"`);
}

/** "  name        description" rows of a help section, up to the next blank line. */
function listed(help: string, section: string): Map<string, string> {
  const start = help.indexOf(`${section}:\n`);
  assert.ok(start >= 0, `no ${section} section`);
  const rows = help.slice(start + section.length + 2).split('\n\n')[0].split('\n');
  return new Map(rows.map((r) => {
    const m = /^ {2}(\S+)\s+(.+)$/.exec(r);
    assert.ok(m, `row "${r}" of ${section}`);
    return [m[1], m[2]];
  }));
}

/** The description of a command's --help: the paragraph after the Usage line(s). */
function description(help: string): string {
  return help.split('\n\n')[1].trimEnd();
}

test('help: every command listed by berth --help and berth GROUP --help has help in our own words, as listed', async () => {
  const top = await berth(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /^Usage: {2}berth \[OPTIONS\] COMMAND\n/);
  assertOwnWords(top.stdout, 'berth --help');
  let checked = 0;
  const commands = new Map([...listed(top.stdout, 'Common Commands'), ...listed(top.stdout, 'Commands')]);
  const groups = listed(top.stdout, 'Management Commands');
  for (const [group, short] of groups) {
    const g = await berth([group, '--help']);
    assert.equal(g.code, 0, `berth ${group} --help`);
    assert.equal(description(g.stdout), short, `berth ${group} --help`);
    assertOwnWords(g.stdout, `berth ${group} --help`);
    for (const [sub, d] of listed(g.stdout, 'Commands')) commands.set(`${group} ${sub}`, d);
  }
  for (const [name, short] of commands) {
    const r = await berth([...name.split(' '), '--help']);
    assert.equal(r.code, 0, `berth ${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: {2}berth ${name}[ \n]`), `berth ${name} --help`);
    // system check's own help is a paragraph (with its exit statuses); its listing is a short summary of it
    if (name !== 'system check') assert.equal(description(r.stdout), short, `berth ${name} --help says other than its listing`);
    assertOwnWords(r.stdout, `berth ${name} --help`);
    assert.doesNotMatch(r.stdout, /(\(default [^)]*\))\s*\1/, `berth ${name} --help names a default twice`);
    checked++;
  }
  assert.ok(checked >= 60, `only ${checked} commands checked`);
});

/** Sentences of Docker Compose's help, which `berth compose` must not repeat (a sample). */
const COMPOSE_SENTENCES = [
  'Define and run multi-container applications with Docker',
  'Create and start containers',
  'Stop and remove containers, networks',
  'View output from containers',
  'Specify a shutdown timeout in seconds',
  'Detached mode: Run',
  'Disable pseudo-TTY allocation',
  'Pull what it can and ignores images with pull failures',
  'Show the Docker Compose version information',
  'Specify an alternate working directory',
  'Run compose in backward compatibility mode',
  'Allocate a pseudo-TTY',
  'Bind mount a volume',
  'Remove containers for services not defined in the Compose file',
  "Don't start linked services",
  'Produce monochrome output',
  'Execute a command in a running container',
  'Index of the container if service has multiple replicas',
  'Removes stopped service containers',
  'Parse, resolve and render compose file in canonical format',
  'Block until containers of all (or specified) services stop',
  'Receive real time events from containers',
  'Copy files/folders between a service container',
  'Display a live stream of container(s) resource usage statistics',
  'Watch the build context for services',
  'Control max parallelism',
  'Specify a profile to enable',
  'Set type of progress output',
];

test('help: berth compose and each of its subcommands have help in our own words, as listed', async () => {
  const top = await berth(['compose']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^Usage: {2}berth compose \[OPTIONS\] COMMAND\n/);
  assert.match(top.stdout, /\n\nFor the options of one command: 'berth compose COMMAND --help'\.\n$/);
  const own = (text: string, where: string) => {
    assertOwnWords(text, where);
    for (const s of COMPOSE_SENTENCES) assert.ok(!text.includes(s), `${where} repeats Docker Compose's "${s}"`);
  };
  own(top.stdout, 'berth compose');
  const flagsHelp = await berth(['compose', '--help']);
  assert.equal(flagsHelp.code, 0);
  assert.equal(description(flagsHelp.stdout), description(top.stdout), 'berth compose --help');
  own(flagsHelp.stdout, 'berth compose --help');
  let checked = 0;
  for (const [sub, short] of listed(top.stdout, 'Commands')) {
    const r = await berth(['compose', sub, '--help']);
    assert.equal(r.code, 0, `berth compose ${sub} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: {2}berth compose ${sub}[ \n]`), `berth compose ${sub} --help`);
    assert.equal(description(r.stdout), short, `berth compose ${sub} --help says other than its listing`);
    own(r.stdout, `berth compose ${sub} --help`);
    assert.doesNotMatch(r.stdout, /(\(default [^)]*\))\s*\1/, `berth compose ${sub} --help names a default twice`);
    checked++;
  }
  assert.ok(checked >= 30, `only ${checked} compose subcommands checked`);
  // names, short letters, types and defaults stay as Compose has them
  const up = (await berth(['compose', 'up', '--help'])).stdout;
  assert.match(entry(up, 'timeout'), /^-t, --timeout int .*\(default -1\)$/);
  assert.match(entry(up, 'detach'), /^-d, --detach {2,}\S/);
  const exec = (await berth(['compose', 'exec', '--help'])).stdout;
  assert.match(entry(exec, 'index'), /^--index int .*\(default 1\)$/);
  assert.match(entry(exec, 'interactive'), /^-i, --interactive .*\(default true\)$/);
  assert.match(entry(exec, 'no-TTY'), /^-T, --no-TTY {2,}\S/);
  assert.match(entry(flagsHelp.stdout, 'project-directory'), /^--project-directory string .*\(default: the directory of the first Compose file\)$/);
  assert.match(entry(flagsHelp.stdout, 'ansi'), /^--ansi string .*\(default "auto"\)$/);
});

/** A flag's entry in the Options section: its line and the wrapped lines under it, joined. */
function entry(help: string, flag: string): string {
  const lines = help.split('\n');
  const at = lines.findIndex((l) => l.includes(`--${flag} `) || l.endsWith(`--${flag}`));
  assert.ok(at >= 0, `no --${flag} in the help`);
  let end = at + 1;
  while (end < lines.length && /^ {10,}\S/.test(lines[end])) end++;
  return lines.slice(at, end).map((l) => l.trim()).join(' ');
}

test('help: the layout scripts read is unchanged (Usage line, Aliases, Options with names, types and defaults)', async () => {
  const r = await berth(['ps', '--help']);
  assert.match(r.stdout, /^Usage: {2}berth ps \[OPTIONS\]\n\n[^\n]+\n\nAliases:\n {2}berth container ls, berth container list, berth container ps, berth ps\n\nOptions:\n/);
  assert.match(r.stdout, /\n {2}-a, --all {13}\S/);
  assert.match(entry(r.stdout, 'last'), /^-n, --last int .*\(default -1\)$/);
  const run = (await berth(['run', '--help'])).stdout;
  assert.match(entry(run, 'memory-swappiness'), /^--memory-swappiness int .*\(default -1\)$/);
  assert.match(entry(run, 'pull'), /^--pull string .*\(default "missing"\)$/);
});

test("help: berthd --help is in our own words and keeps its flags and defaults", () => {
  const text = daemonUsage();
  assert.match(text, /^Usage:\tberthd \[OPTIONS\]\n/);
  assertOwnWords(text, 'berthd --help');
  for (const s of ['Enable debug mode', 'Daemon socket to listen on', 'Path to use for daemon PID file', 'Root directory of persistent state']) {
    assert.ok(!text.includes(s), `berthd --help repeats dockerd's "${s}"`);
  }
  for (const f of ['-b, --bridge string', '--data-root string', '-H, --host list', '(default "/var/lib/berth")', '(default unix:///run/berth/berth.sock)']) {
    assert.ok(text.includes(f), `berthd --help lost "${f}"`);
  }
});
