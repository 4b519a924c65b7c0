import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from '../../src/cli/format/tabwriter.js';
import { bytesSize, formatG, humanDuration, humanSize, humanSizeWithPrecision } from '../../src/util/units.js';
import { parseFormat, renderTemplate, Template } from '../../src/cli/format/template.js';
import { ProgressRenderer, progressString } from '../../src/cli/format/progress.js';
import { ellipsis, goQuote, getTimestamp } from '../../src/cli/commands/common.js';
import { ContainerContext, displayablePorts } from '../../src/cli/commands/ps.js';
import { imageRows } from '../../src/cli/commands/image.js';
import { familiarName, parseNormalizedNamed, referenceString, truncateId, withDefaultTag } from '../../src/wire/reference.js';

test('tabwriter: docker table layout (minwidth 10, padding 3)', () => {
  const out = tabwrite('CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tweb\n');
  assert.equal(out, 'CONTAINER ID   IMAGE     NAMES\nabc            busybox   web\n');
  // the last cell is not padded, empty cells still take the column width
  assert.equal(tabwrite('A\t\tC\nxx\tyyyyyyyyyyyy\tz\n'), 'A' + ' '.repeat(24) + 'C\nxx        yyyyyyyyyyyy   z\n');
  // rune width, not bytes
  assert.equal(tabwrite('"sh -c …"\tx\nab\ty\n'), '"sh -c …"   x\nab          y\n');
});

test('tabwriter: a line without tabs ends a column block', () => {
  assert.equal(tabwrite('a\tb\nplain\nlonger-cell\tc\n'), 'a         b\nplain\nlonger-cell   c\n');
});

test('units: HumanDuration like go-units', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [2 * s, '2 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [8 * 7 * d, '8 weeks'],
    [63 * d, '2 months'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
    [3 * 365 * d, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}`);
});

test('units: sizes', () => {
  assert.equal(humanSizeWithPrecision(1976320, 3), '1.98MB');
  assert.equal(humanSizeWithPrecision(4264960, 3), '4.26MB');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1024), '1.024kB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(69180), '69.18kB');
  assert.equal(humanSize(4066000), '4.066MB');
  assert.equal(humanSize(1e15), '1PB');
  assert.equal(bytesSize(25275858944), '23.54GiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(formatG(1234, 3), '1.23e+03');
  assert.equal(formatG(100, 3), '100');
  assert.equal(formatG(0.5, 3), '0.5');
});

test('template: fields, json, literals, functions', () => {
  const data = { State: { Status: 'running', Pid: 42 }, Config: { Cmd: ['sh', '-c', 'x'], Labels: { a: 'b' } }, Name: '/web' };
  assert.equal(renderTemplate('{{.State.Status}}', data), 'running');
  assert.equal(renderTemplate('{{.State.Pid}}', data), '42');
  assert.equal(renderTemplate('{{json .Config.Cmd}}', data), '["sh","-c","x"]');
  assert.equal(renderTemplate('{{.Name}}{{"\\t"}}x', data), '/web\tx');
  assert.equal(renderTemplate('{{.Config.Labels}}', data), 'map[a:b]');
  assert.equal(renderTemplate('{{.Config.Cmd}}', data), '[sh -c x]');
  assert.equal(renderTemplate('{{index .Config.Labels "a"}}', data), 'b');
  assert.equal(renderTemplate('{{join .Config.Cmd ","}}', data), 'sh,-c,x');
  assert.equal(renderTemplate('{{upper .State.Status}} {{.State.Status | upper}}', data), 'RUNNING RUNNING');
  assert.equal(renderTemplate('{{if .State.Pid}}up{{else}}down{{end}}', data), 'up');
  assert.equal(renderTemplate('{{range .Config.Cmd}}[{{.}}]{{end}}', data), '[sh][-c][x]');
  assert.equal(renderTemplate('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}ok', data), 'a=b;ok');
  assert.equal(renderTemplate('{{.Missing}}', data), '<no value>');
  assert.throws(() => new Template('{{.Missing}}', { missingKeyError: true }).execute(data), {
    message: 'template: :1:2: executing "" at <.Missing>: map has no entry for key "Missing"',
  });
  assert.throws(() => new Template('{{.State.Foo}}', { missingKeyError: true }).execute(data), {
    message: 'template: :1:8: executing "" at <.State.Foo>: map has no entry for key "Foo"',
  });
  assert.throws(() => new Template('{{.ID'), { message: 'template: :1: unclosed action' });
});

test('template: docker format keywords', () => {
  assert.deepEqual(parseFormat('table', 'DEF'), { table: true, template: 'DEF' });
  assert.deepEqual(parseFormat('json', 'DEF'), { table: false, template: '{{json .}}' });
  assert.deepEqual(parseFormat('table {{.ID}}\\t{{.Names}}', 'DEF'), { table: true, template: '{{.ID}}\t{{.Names}}' });
  assert.deepEqual(parseFormat('table{{.ID}}', 'DEF'), { table: true, template: '{{.ID}}' });
  assert.deepEqual(parseFormat('{{.ID}}', 'DEF'), { table: false, template: '{{.ID}}' });
});

test('progress: non-TTY prints status lines, drops progress bars', () => {
  let out = '';
  const r = new ProgressRenderer({ write: (s: string) => (out += s) }, false);
  r.write({ status: 'Pulling from library/busybox', id: 'latest' });
  r.write({ status: 'Pulling fs layer', progressDetail: {}, id: 'abc123' });
  r.write({ status: 'Downloading', progressDetail: { current: 10, total: 100 }, progress: '[=>   ]', id: 'abc123' });
  r.write({ status: 'Download complete', progressDetail: {}, id: 'abc123' });
  r.write({ status: 'Pull complete', progressDetail: {}, id: 'abc123' });
  r.write({ status: 'Digest: sha256:1234' });
  r.write({ status: 'Status: Downloaded newer image for busybox:latest' });
  assert.equal(
    out,
    'latest: Pulling from library/busybox\nabc123: Pulling fs layer\nabc123: Download complete\nabc123: Pull complete\nDigest: sha256:1234\nStatus: Downloaded newer image for busybox:latest\n',
  );
  assert.throws(() => r.write({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }), { message: 'manifest unknown' });
});

test('progress: TTY updates lines in place', () => {
  let out = '';
  const r = new ProgressRenderer({ write: (s: string) => (out += s) }, true, 80);
  r.write({ status: 'Pulling fs layer', progressDetail: {}, id: 'a' });
  r.write({ status: 'Pulling fs layer', progressDetail: {}, id: 'b' });
  r.write({ status: 'Downloading', progressDetail: { current: 69180, total: 4066000 }, id: 'a' });
  assert.equal(
    out,
    '\n\x1b[1A\x1b[2K\ra: Pulling fs layer \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rb: Pulling fs layer \r\x1b[1B' +
      '\x1b[2A\x1b[2K\ra: Downloading  69.18kB/4.066MB\r\x1b[2B',
  );
  assert.equal(progressString({ current: 2033000, total: 4066000 }, 200), '[=========================>                         ]  2.033MB/4.066MB');
});

test('ps: COMMAND is quoted and truncated at 20 columns with …', () => {
  assert.equal(goQuote(ellipsis(`sh -c 'echo "hello world this is long"'`, 20)), `"sh -c 'echo \\"hello …"`);
  assert.equal(goQuote(ellipsis('sleep 300', 20)), '"sleep 300"');
  assert.equal(goQuote('a\tb\x01'), '"a\\tb\\x01"');
  const c = new ContainerContext(
    {
      Id: 'f4c89a9267fde45065d4c9ba76eea83815fb64a608c6fb10da7fc6e174bced51',
      Names: ['/web', '/other/link'],
      Image: 'busybox',
      ImageID: 'sha256:a33874c69aae',
      Command: 'sleep 300',
      Created: 1000,
      Ports: [],
      Labels: { b: '2', a: '1' },
      State: 'running',
      Status: 'Up 2 minutes',
    },
    true,
    1000 * 1000 + 120 * 1000,
  );
  assert.equal(c.ID, 'f4c89a9267fd');
  assert.equal(c.Names, 'web');
  assert.equal(c.RunningFor, '2 minutes ago');
  assert.equal(c.Labels, 'a=1,b=2');
  assert.equal(c.Command, '"sleep 300"');
  assert.equal(truncateId('sha256:a33874c69aae466baf68ddc51a14d409dd06b16b03a0573f9df41dc915fade7f'), 'a33874c69aae');
});

test('ps: ports', () => {
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
    ]),
    '53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 81, Type: 'tcp' }]), '80-81/tcp');
});

test('images: rows, dangling, references', () => {
  const dd = 'sha256:' + 'dd'.repeat(32);
  const base = { Id: 'sha256:aa', ParentId: '', Created: 0, Size: 1, SharedSize: -1, Labels: null, Containers: -1 };
  assert.deepEqual(
    imageRows([{ ...base, RepoTags: [], RepoDigests: [] }], false).map((r) => [r.repo, r.tag]),
    [['<none>', '<none>']],
  );
  assert.deepEqual(
    imageRows([{ ...base, RepoTags: ['busybox:latest', 'foo/bar:v1'], RepoDigests: [`busybox@${dd}`] }], true).map((r) => [r.repo, r.tag, r.digest]),
    [
      ['busybox', 'latest', dd],
      ['foo/bar', 'v1', '<none>'],
    ],
  );
  assert.deepEqual(
    imageRows([{ ...base, RepoTags: [], RepoDigests: [`busybox@${dd}`] }], false).map((r) => [r.repo, r.tag]),
    [['busybox', '<none>']],
  );
  // entries that are not references (as docker/cli, which skips what ParseNormalizedNamed refuses)
  assert.deepEqual(
    imageRows([{ ...base, RepoTags: ['<none>:<none>', 'Bad:1', 'ok:2'], RepoDigests: ['<none>@<none>', 'ok@sha256:dd'] }], true).map((r) => [r.repo, r.tag, r.digest]),
    [['ok', '2', '<none>']],
  );
  // the CLI reads references with the one parser in src/wire
  assert.equal(referenceString(withDefaultTag(parseNormalizedNamed('busybox'))), 'docker.io/library/busybox:latest');
  assert.equal(familiarName(parseNormalizedNamed('docker.io/library/busybox:1')), 'busybox');
  assert.equal(referenceString(parseNormalizedNamed('127.0.0.1:5000/x/y:2')), '127.0.0.1:5000/x/y:2');
  assert.equal(referenceString(parseNormalizedNamed('foo/bar')), 'docker.io/foo/bar');
});

test('logs: --since durations become unix timestamps', () => {
  assert.equal(getTimestamp('42m', 10_000_000), '7480.000000000');
  assert.equal(getTimestamp('1700000000'), '1700000000');
  assert.equal(getTimestamp('2013-01-02T13:23:37Z'), '1357133017.000000000');
});
