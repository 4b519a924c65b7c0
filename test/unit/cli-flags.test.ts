import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, flagUsages, parseFlags, wrapText, type FlagSpec } from '../../src/cli/flags.js';

const RUN: FlagSpec[] = [
  { name: 'rm', type: 'bool', usage: 'remove' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'i' },
  { name: 'tty', short: 't', type: 'bool', usage: 't' },
  { name: 'detach', short: 'd', type: 'bool', usage: 'd' },
  { name: 'env', short: 'e', type: 'list', usage: 'env' },
  { name: 'name', type: 'string', usage: 'name' },
  { name: 'user', short: 'u', type: 'string', usage: 'user' },
  { name: 'hostname', short: 'h', type: 'string', usage: 'host' },
  { name: 'last', short: 'n', type: 'int', def: -1, usage: 'n' },
];
const run = (argv: string[]) => parseFlags({ flags: RUN, interspersed: false }, argv);

test('run --rm -it -e A=1 -e B=2 alpine sh -c "ls -la"', () => {
  const p = run(['--rm', '-it', '-e', 'A=1', '-e', 'B=2', 'alpine', 'sh', '-c', 'ls -la']);
  assert.equal(p.flags.rm, true);
  assert.equal(p.flags.interactive, true);
  assert.equal(p.flags.tty, true);
  assert.deepEqual(p.flags.env, ['A=1', 'B=2']);
  assert.deepEqual(p.args, ['alpine', 'sh', '-c', 'ls -la']);
});

test('interspersed off: flags after the image belong to the command', () => {
  const p = run(['alpine', 'ls', '-la', '--rm']);
  assert.equal(p.flags.rm, false);
  assert.deepEqual(p.args, ['alpine', 'ls', '-la', '--rm']);
});

test('interspersed on: flags anywhere', () => {
  const p = parseFlags({ flags: RUN }, ['a', '--rm', 'b', '-d']);
  assert.deepEqual(p.args, ['a', 'b']);
  assert.equal(p.flags.rm, true);
  assert.equal(p.flags.detach, true);
});

test('-e=X, --name=x, --name x, -uroot, -u root', () => {
  let p = run(['-e=X', '--name=x', '-uroot', 'img']);
  assert.deepEqual(p.flags.env, ['X']);
  assert.equal(p.flags.name, 'x');
  assert.equal(p.flags.user, 'root');
  p = run(['--name', 'y', '-u', 'root', 'img']);
  assert.equal(p.flags.name, 'y');
  assert.equal(p.flags.user, 'root');
  p = run(['-ituroot', 'img']);
  assert.equal(p.flags.interactive, true);
  assert.equal(p.flags.tty, true);
  assert.equal(p.flags.user, 'root');
  assert.ok(p.changed.has('user'));
});

test('bool with explicit value', () => {
  assert.equal(run(['--rm=false', 'x']).flags.rm, false);
  assert.equal(run(['--rm=true', 'x']).flags.rm, true);
  assert.equal(run(['-d=false', 'x']).flags.detach, false);
  assert.throws(() => run(['--rm=x', 'img']), (e: Error) => e instanceof FlagError && e.message === 'invalid argument "x" for "--rm" flag: strconv.ParseBool: parsing "x": invalid syntax');
});

test('-- ends flags', () => {
  const p = parseFlags({ flags: RUN }, ['--rm', '--', '-d', 'x']);
  assert.equal(p.flags.detach, false);
  assert.deepEqual(p.args, ['-d', 'x']);
});

test('errors are pflag-exact', () => {
  assert.throws(() => run(['--bogus']), { message: 'unknown flag: --bogus' });
  assert.throws(() => run(['-x']), { message: "unknown shorthand flag: 'x' in -x" });
  assert.throws(() => run(['-ix']), { message: "unknown shorthand flag: 'x' in -x" });
  assert.throws(() => run(['--name']), { message: 'flag needs an argument: --name' });
  assert.throws(() => run(['-e']), { message: "flag needs an argument: 'e' in -e" });
  assert.throws(() => run(['-n', 'x']), { message: 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax' });
});

test('-h is hostname when defined, help otherwise; --help always', () => {
  assert.equal(run(['-h', 'box', 'img']).flags.hostname, 'box');
  assert.equal(parseFlags({ flags: [] }, ['-h']).help, true);
  assert.equal(run(['--help']).help, true);
});

test('int defaults and values', () => {
  assert.equal(run(['img']).flags.last, -1);
  assert.equal(run(['-n', '3', 'img']).flags.last, 3);
  assert.equal(run(['-n3', 'img']).flags.last, 3);
});

test('help layout matches cobra/pflag', () => {
  const text = flagUsages(
    [
      { name: 'all', short: 'a', type: 'bool', usage: 'Include stopped containers (only running ones by default)' },
      { name: 'filter', short: 'f', type: 'list', typeName: 'filter', usage: 'Show only what matches a condition (name=value)' },
      { name: 'last', short: 'n', type: 'int', def: -1, usage: 'Show the n most recently created containers, in any state' },
    ],
    79,
  );
  assert.equal(
    text,
    '  -a, --all             Include stopped containers (only running ones by\n' +
      '                        default)\n' +
      '  -f, --filter filter   Show only what matches a condition (name=value)\n' +
      '  -n, --last int        Show the n most recently created containers, in\n' +
      '                        any state (default -1)\n',
  );
  assert.equal(wrapText(23, 79, 'Only output after this time: a timestamp such as 2013-01-02T13:23:37Z, or an age such as 42m'),
    'Only output after this time: a timestamp such as\n                       2013-01-02T13:23:37Z, or an age such as 42m');
});
