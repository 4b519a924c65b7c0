/**
 * `berth system check [--repair]` (issue 8) against a real berthd: each kind of damage a crash or a
 * careless `rm` can leave is planted in the test daemon's data root or on the host under Berth's
 * names, then the check must name each one (in plain words and as JSON, exit 1), --repair must
 * fix them (exit 0) without harming what is whole, and a second check must be clean (exit 0).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { chainNames } from '../../src/engine/network/chains.js';
import { isMountPoint } from '../../src/engine/mountinfo.js';

let d: TestDaemon;
const data = (...p: string[]): string => join(d.root, d.dataRoot, ...p);
const hex = (n: number) => randomBytes(n).toString('hex');

// Host objects planted under Berth's names: removed in after() whatever the test did.
const netns = `berth-${hex(6)}`;
const veth = `veth${hex(4).slice(0, 7)}`;
const nsVeth = `veth${hex(4).slice(0, 7)}`;
const cgroup = join('/sys/fs/cgroup/pids/berth', hex(32));

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox', 'hello-world', 'layered'] });
  for (const img of ['busybox', 'hello-world', 'layered']) assert.equal((await d.docker(['pull', img])).code, 0);
});

after(async () => {
  await run('ip', ['netns', 'del', netns]).catch(() => undefined);
  await run('ip', ['link', 'del', veth]).catch(() => undefined);
  await run('ip', ['link', 'del', nsVeth]).catch(() => undefined);
  await run('rmdir', [cgroup]).catch(() => undefined);
  for (const c of ['rootless', 'broken']) await run('umount', ['-l', data('containers', await idOf(c).catch(() => 'x'), 'rootfs')]).catch(() => undefined);
  await d?.stop();
});

async function idOf(ref: string): Promise<string> {
  const r = await d.docker(['inspect', '-f', '{{.Id}}', ref]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().replace(/^sha256:/, '');
}

const twoMinutesAgo = () => new Date(Date.now() - 120_000);

/**
 * Whether a finding is about this test's daemon. Cgroups are shared by every daemon on the host,
 * and one that another test's killed daemon left empty is an orphan the check rightly reports:
 * only the one planted here counts for "clean". Everything else is attributed to this daemon by
 * the check itself (its data root, its bridge, its chain).
 */
const ours = (f: { Kind: string; Object: string }) => f.Kind !== 'cgroup-orphan' || f.Object === cgroup.split('/').at(-1);

interface Report { Repair: boolean; Findings: Array<{ Kind: string; Object: string; Path: string; Problem: string; Repair: string; Repaired?: boolean; Error?: string }>; Remaining: number }

async function checkJson(args: string[] = []): Promise<{ code: number; report: Report }> {
  const r = await d.berth(['system', 'check', '--format', 'json', ...args], { timeoutMs: 120_000 });
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

/** A check that must be clean as far as this daemon goes, in words and as JSON. */
async function assertClean(): Promise<void> {
  const j = await checkJson();
  assert.deepEqual(j.report.Findings.filter(ours), [], JSON.stringify(j.report, null, 1));
  assert.equal(j.code, j.report.Remaining ? 1 : 0);
  const r = await d.berth(['system', 'check']);
  if (j.report.Findings.length === 0) {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'no problems found\n');
  }
}

test('system-check: a whole data root is clean (exit 0, in words and as JSON)', async () => {
  await assertClean();
  const help = await d.berth(['system', 'check', '--help']);
  assert.match(help.stdout, /exit status 0 when clean, 1 while problems remain/);
});

test('system-check: finds each kind of damage, --repair fixes it, a second check is clean', async () => {
  // A container whose image loses a layer, and one whose writable layer is removed and whose
  // rootfs is left mounted (a shim killed before it unmounted).
  assert.equal((await d.docker(['create', '--name', 'broken', 'layered', 'true'])).code, 0);
  assert.equal((await d.docker(['create', '--name', 'rootless', 'busybox', 'echo', 'whole again'])).code, 0);
  const broken = await idOf('broken');
  const rootless = await idOf('rootless');
  await rm(data('containers', rootless, 'upper'), { recursive: true });
  assert.equal((await run('mount', ['-t', 'tmpfs', 'tmpfs', data('containers', rootless, 'rootfs')])).code, 0);

  // A corrupt blob: hello-world's config.
  const hello = await idOf('hello-world');
  await writeFile(data('content', 'blobs', 'sha256', hello), '{"corrupt": true}');

  // A layer folder removed by hand: layered's top layer.
  const layered = await idOf('layered');
  const layeredRec = JSON.parse(await readFile(data('images', `${layered}.json`), 'utf8')) as { chainIDs: string[] };
  const top = layeredRec.chainIDs.at(-1)!.slice(7);
  await rm(data('layers', top), { recursive: true });

  // A layer no image or container uses (a copy of busybox's under another chain ID, made long ago).
  const busybox = JSON.parse(await readFile(data('images', `${await idOf('busybox')}.json`), 'utf8')) as { chainIDs: string[] };
  const loose = hex(32);
  await cp(data('layers', busybox.chainIDs[0]!.slice(7)), data('layers', loose), { recursive: true });
  const meta = JSON.parse(await readFile(data('layers', loose, 'meta.json'), 'utf8'));
  await writeFile(data('layers', loose, 'meta.json'), JSON.stringify({ ...meta, chainID: `sha256:${loose}`, parent: null, created: 1 }));

  // The temp file of an interrupted atomic write.
  const tmp = data('images', `${hex(32)}.json.tmp-${hex(4)}`);
  await writeFile(tmp, '{');
  await utimes(tmp, twoMinutesAgo(), twoMinutesAgo());

  // Downloads cut short: a partial from two minutes ago is where the next pull resumes (kept,
  // not reported); one older than the week startup keeps them is stale.
  await mkdir(data('content', 'ingest'), { recursive: true });
  const resumePoint = data('content', 'ingest', `${hex(32)}.partial`);
  const stalePartial = data('content', 'ingest', `${hex(32)}.partial`);
  for (const p of [resumePoint, stalePartial]) await writeFile(p, 'partial bytes');
  await utimes(resumePoint, twoMinutesAgo(), twoMinutesAgo());
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000);
  await utimes(stalePartial, eightDaysAgo, eightDaysAgo);

  // Host objects named as Berth names them, for containers that do not exist.
  // A namespace left with its veth (the host side on our bridge), and a veth left alone on it.
  assert.equal((await run('ip', ['netns', 'add', netns])).code, 0);
  let r = await run('ip', ['link', 'add', nsVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run('ip', ['link', 'set', nsVeth, 'master', d.bridge])).code, 0);
  r = await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `p${veth.slice(4)}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run('ip', ['link', 'set', veth, 'master', d.bridge])).code, 0);
  await mkdir(cgroup);
  await utimes(cgroup, twoMinutesAgo(), twoMinutesAgo());
  const nat = chainNames(d.bridge).nat;
  r = await run('iptables', ['-w', '-t', 'nat', '-A', nat, '!', '-i', d.bridge, '-p', 'tcp', '-m', 'tcp', '--dport', '1', '-j', 'DNAT', '--to-destination', '10.255.255.99:80']);
  assert.equal(r.code, 0, r.stderr);

  const expected: Array<[string, string]> = [
    ['container-missing-layer', broken],
    ['container-missing-rootfs', rootless],
    ['image-missing-config', `sha256:${hello}`],
    ['image-missing-layer', `sha256:${layered}`],
    ['layer-unreferenced', `sha256:${loose}`],
    ['blob-corrupt', `sha256:${hello}`],
    ['mount-leftover', data('containers', rootless, 'rootfs')],
    ['netns-orphan', netns],
    ['veth-orphan', veth],
    ['veth-orphan', nsVeth],
    ['cgroup-orphan', cgroup.split('/').at(-1)!],
    ['temp-leftover', tmp.slice(data().length + 1)],
    ['temp-leftover', stalePartial.slice(data().length + 1)],
  ];

  // In words: one line per finding (what, where, what --repair does), exit 1.
  const words = await d.berth(['system', 'check'], { timeoutMs: 120_000 });
  assert.equal(words.code, 1, words.stdout + words.stderr);
  const lines = words.stdout.trim().split('\n');
  for (const [kind] of expected) assert.ok(lines.some((l) => l.startsWith(`${kind}: `) && l.includes('; --repair will ')), `${kind} in:\n${words.stdout}`);
  assert.ok(lines.some((l) => l.startsWith('iptables-rule-stale: ') && l.includes('10.255.255.99')), words.stdout);
  assert.match(lines.at(-1)!, /^\d+ problem\(s\) found; run with --repair to fix them$/);

  // As JSON: the same findings, each with its object.
  const before = await checkJson();
  assert.equal(before.code, 1);
  for (const [kind, object] of expected) {
    assert.ok(before.report.Findings.some((f) => f.Kind === kind && f.Object.endsWith(object)), `${kind} ${object} in ${JSON.stringify(before.report.Findings, null, 1)}`);
  }
  assert.ok(before.report.Findings.some((f) => f.Kind === 'iptables-rule-stale' && f.Object.includes('10.255.255.99:80')));
  assert.equal(before.report.Remaining, before.report.Findings.length);
  assert.ok(!before.report.Findings.some((f) => f.Object.endsWith(resumePoint.slice(data().length + 1))), 'a recent partial download is a resume point, not a leftover');

  // Repair: every finding repaired, exit 0.
  const repaired = await d.berth(['system', 'check', '--repair'], { timeoutMs: 120_000 });
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  const rlines = repaired.stdout.trim().split('\n');
  assert.equal(rlines.at(-1), 'all problems repaired');
  for (const l of rlines.slice(0, -1)) assert.match(l, /^repaired /);
  for (const [kind] of expected) assert.ok(rlines.some((l) => l.startsWith(`repaired ${kind}: `)), `${kind} repaired in:\n${repaired.stdout}`);

  // What the repairs did, as a user would see it.
  assert.equal((await run('ip', ['netns', 'pids', netns])).code !== 0, true, 'namespace deleted');
  assert.notEqual((await run('ip', ['link', 'show', veth])).code, 0, 'veth deleted');
  assert.notEqual((await run('ip', ['link', 'show', nsVeth])).code, 0, 'the namespace\'s veth deleted');
  assert.equal(existsSync(cgroup), false, 'cgroup removed');
  assert.equal(existsSync(tmp), false, 'temp file removed');
  assert.equal(existsSync(stalePartial), false, 'stale partial download removed');
  assert.equal(existsSync(resumePoint), true, 'the resume point is kept');
  assert.equal(existsSync(data('layers', loose)), false, 'loose layer removed');
  assert.equal(await isMountPoint(data('containers', rootless, 'rootfs')), false, 'leftover mount unmounted');
  assert.doesNotMatch((await run('iptables-save', ['-t', 'nat'])).stdout, /10\.255\.255\.99/);
  const images = (await d.docker(['images', '--format', '{{.Repository}}'])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(images, ['busybox'], 'broken images removed, the whole one kept');
  assert.notEqual((await d.docker(['inspect', 'broken'])).code, 0, 'the container without its layers is removed');
  const start = await d.docker(['start', '-a', 'rootless']);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, 'whole again\n', 'the container with a new writable layer starts');
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');

  // A second check is clean, in words and as JSON.
  await assertClean();
  // And the repaired image can be pulled again.
  assert.equal((await d.docker(['pull', 'hello-world'])).code, 0);
  assert.equal((await d.docker(['rm', 'rootless'])).code, 0);
});

test('system-check: a running container is never repaired, only reported', async () => {
  const r = await d.docker(['run', '-d', '--name', 'live', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  await rm(data('containers', id, 'work'), { recursive: true });
  const j = await checkJson(['--repair']);
  assert.equal(j.code, 1);
  const f = j.report.Findings.find((x) => x.Kind === 'container-missing-rootfs' && x.Object === id);
  assert.ok(f, JSON.stringify(j.report));
  assert.equal(f.Repaired, false);
  assert.match(f.Error ?? '', /running/);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', id])).stdout.trim(), 'true');
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
  await assertClean();
});
