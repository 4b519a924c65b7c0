// The CLI's own checks, made before any request (no daemon: the host is a socket that does not exist),
// run in process through cli.ts's main():
// global options, image references and refused flags print docker's wording and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { berthInProcess } from '../helpers/berth-in-process.js';

const NO_DAEMON = 'unix:///nonexistent/berth-test.sock';
process.env.BERTH_HOST = NO_DAEMON;
delete process.env.DOCKER_HOST;

const berth = berthInProcess;

const CASES: Array<{ args: string[]; code: number; stderr: RegExp; stdout?: string }> = [
  { args: ['--log-level', 'bad', 'version'], code: 1, stderr: /^Unable to parse logging level: bad\n$/ },
  { args: ['-c', 'foo', 'ps'], code: 1, stderr: /^Failed to initialize: unable to resolve berth endpoint: context "foo": context not found\n$/ },
  { args: ['-H', NO_DAEMON, '-c', 'default', 'ps'], code: 1, stderr: /^conflicting options: cannot specify both --host and --context\n$/ },
  // the TLS options as docker/cli's: a CA file that cannot be read is named
  { args: ['--tlsverify', '--tlscacert', '/nonexistent/ca.pem', '-H', 'tcp://127.0.0.1:9', 'ps'], code: 1, stderr: /^could not read CA certificate "\/nonexistent\/ca\.pem"/ },
  { args: ['--tlsverify=maybe', 'ps'], code: 125, stderr: /invalid argument "maybe" for "--tlsverify"/ },
  // docker create has no --detach-keys (run has)
  { args: ['create', '--detach-keys', 'x', 'busybox'], code: 125, stderr: /^unknown flag: --detach-keys\n/ },
  // references are checked by the CLI, as docker/cli does, and reported as it reports them
  { args: ['pull', 'Bad'], code: 1, stderr: /^invalid reference format: repository name \(library\/Bad\) must be lowercase\n$/, stdout: '' },
  { args: ['push', 'a b'], code: 1, stderr: /^invalid reference format\n$/, stdout: '' },
  { args: ['commit', 'c1', 'Bad'], code: 1, stderr: /^invalid reference format: repository name \(library\/Bad\) must be lowercase\n$/ },
  { args: ['create', 'Bad:1'], code: 1, stderr: /^invalid reference format: repository name \(library\/Bad\) must be lowercase\n$/ },
  { args: ['run', 'Bad'], code: 125, stderr: /^berth: invalid reference format: repository name \(library\/Bad\) must be lowercase\n\nRun 'berth run --help' for more information\n$/ },
  { args: ['tag', 'busybox', 'x@sha256:abc'], code: 1, stderr: /^Error parsing reference: "x@sha256:abc" is not a valid repository\/tag: invalid reference format\n$/ },
  { args: ['tag', 'busybox', `x@sha256:${'a'.repeat(64)}`], code: 1, stderr: /^refusing to create a tag with a digest reference\n$/ },
  { args: ['pull', '-a', 'busybox:1'], code: 1, stderr: /^tag can't be used with --all-tags\/-a\n$/ },
  // content trust cannot be honoured: refused rather than ignored
  { args: ['pull', '--disable-content-trust=false', 'busybox'], code: 1, stderr: /^content trust is not supported/ },
  // a bad flag value is reported for the command at hand
  { args: ['create', '-p', 'abc', 'busybox'], code: 125, stderr: /^berth: invalid containerPort: abc\n\nRun 'berth create --help' for more information\n$/ },
  { args: ['create', '--label-file', '/nonexistent/labels', 'busybox'], code: 125, stderr: /^berth: open \/nonexistent\/labels: no such file or directory\n\nRun 'berth create --help'/ },
];

test('cli: checks made before any request, with docker\'s wording', async () => {
  for (const c of CASES) {
    const r = await berth(c.args);
    assert.equal(r.code, c.code, `berth ${c.args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, c.stderr, `berth ${c.args.join(' ')}`);
    if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout, `berth ${c.args.join(' ')}`);
  }
});

test('cli: every command and subcommand has its help (the lazily loaded module table is complete)', async () => {
  const names = [
    'run', 'create', 'start', 'stop', 'restart', 'kill', 'wait', 'rm', 'ps', 'logs', 'exec', 'inspect', 'images', 'pull', 'tag',
    'push', 'history', 'commit', 'rmi', 'version', 'info', 'attach', 'rename', 'pause', 'unpause', 'top', 'stats', 'events', 'port',
    'container prune', 'image prune', 'volume prune', 'network prune', 'system prune', 'system events', 'container inspect',
    'image inspect', 'volume ls', 'network ls', 'container stats', 'container attach',
  ];
  for (const n of names) {
    const r = await berth([...n.split(' '), '--help']);
    assert.equal(r.code, 0, `berth ${n} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage:  berth ${n} `), `berth ${n} --help`);
  }
});
