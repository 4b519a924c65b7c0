/**
 * `images` with filters against a real berthd, with the berth CLI and the real docker CLI: the
 * positional name (sent as a `reference` filter), reference globs, dangling, label, before/since,
 * and an unknown filter key, each answered as dockerd answers it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let danglingId = '';

const CLIS = ['berth', 'docker'] as const;

async function ok(args: string[], via: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d[via](args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${via} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `images ARGS` as `repo:tag` lines (short ID for untagged ones), in the daemon's order. */
async function images(via: 'berth' | 'docker', args: string[]): Promise<string[]> {
  const out = await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', ...args], via);
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [name, id] = l.split(' ');
    return name === '<none>:<none>' ? id! : name!;
  });
}

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  await ok(['pull', 'busybox']);
  await ok(['tag', 'busybox', 'other/tool:1']);
  await ok(['create', '--name', 'src', 'busybox']);
  // Committed twice to one tag: the first image loses its tag and becomes dangling.
  danglingId = (await ok(['commit', 'src', 'mine/app:v1'])).trim().slice(7, 19);
  await new Promise((r) => setTimeout(r, 1100)); // distinct Created seconds for before/since
  await ok(['commit', 'src', 'mine/app:v1']);
  await new Promise((r) => setTimeout(r, 1100));
  await ok(['commit', '--change', 'LABEL a=1', '--change', 'LABEL b=2', 'src', 'mine/labelled']);
});

after(async () => {
  await d?.stop();
});

test('images NAME and --filter reference: only the matching references are listed', async () => {
  for (const via of CLIS) {
    assert.deepEqual(await images(via, ['busybox']), ['busybox:latest'], via);
    assert.deepEqual(await images(via, ['busybox:latest']), ['busybox:latest'], via);
    assert.deepEqual(await images(via, ['--filter', 'reference=bus*']), ['busybox:latest'], via);
    assert.deepEqual(await images(via, ['--filter', 'reference=mine/*']), ['mine/labelled:latest', 'mine/app:v1'], via);
    // As Go's path.Match, `*` stops at a slash.
    assert.deepEqual(await images(via, ['--filter', 'reference=*:latest']), ['busybox:latest'], via);
    assert.deepEqual(await images(via, ['--filter', 'reference=*/*:latest']), ['mine/labelled:latest'], via);
    // Two patterns are alternatives (one image, two repositories: the docker CLI's row order
    // among one image's repositories is Go's map order); a name nothing has gives an empty table.
    const both = await images(via, ['-f', 'reference=other/tool', '-f', 'reference=busybox']);
    assert.deepEqual(both.sort(), ['busybox:latest', 'other/tool:1'], via);
    assert.deepEqual(await images(via, ['nosuch']), [], via);
  }
});

test('images -f dangling=true / false', async () => {
  for (const via of CLIS) {
    assert.deepEqual(await images(via, ['-f', 'dangling=true']), [danglingId], via);
    const tagged = await images(via, ['-f', 'dangling=false']);
    assert.ok(!tagged.includes(danglingId), `${via}: ${tagged.join(',')}`);
    assert.ok(tagged.includes('mine/app:v1') && tagged.includes('busybox:latest'), `${via}: ${tagged.join(',')}`);
    const q = (await ok(['images', '-q', '-f', 'dangling=true'], via)).trim();
    assert.equal(q, danglingId, via);
  }
});

test('images -f label=: every label must match', async () => {
  for (const via of CLIS) {
    assert.deepEqual(await images(via, ['-f', 'label=a=1']), ['mine/labelled:latest'], via);
    assert.deepEqual(await images(via, ['-f', 'label=a', '-f', 'label=b=2']), ['mine/labelled:latest'], via);
    assert.deepEqual(await images(via, ['-f', 'label=a=1', '-f', 'label=b=3']), [], via);
  }
});

test('images -f before= / since=: created strictly before / after the named image', async () => {
  for (const via of CLIS) {
    const sinceApp = await images(via, ['-f', 'since=mine/app:v1']);
    assert.deepEqual(sinceApp, ['mine/labelled:latest'], via);
    const beforeApp = await images(via, ['-f', 'before=mine/app:v1']);
    assert.ok(beforeApp.includes(danglingId) && beforeApp.includes('busybox:latest'), `${via}: ${beforeApp.join(',')}`);
    assert.ok(!beforeApp.includes('mine/app:v1') && !beforeApp.includes('mine/labelled:latest'), `${via}: ${beforeApp.join(',')}`);
    assert.deepEqual(await images(via, ['-f', 'before=mine/app:v1', '-f', 'since=' + danglingId]), [], via);
    const r = await d[via](['images', '-f', 'since=nosuch:1']);
    assert.equal(r.code, 1, via);
    assert.match(r.stderr, /Error response from daemon: No such image: nosuch:1/, via);
  }
});

test('images -f with an unknown key: 400 invalid filter', async () => {
  for (const via of CLIS) {
    const r = await d[via](['images', '-f', 'colour=red']);
    assert.equal(r.code, 1, via);
    assert.match(r.stderr, /Error response from daemon: invalid filter 'colour'/, via);
  }
});
