/**
 * The data root, the API socket and the bridge option as an attacker on the host would try them
 * (issue 8): tests named after the hole each one closes.
 * - data-root-private: secrets in a container's spec and record are root-only; layers and
 *   containers cannot be entered by other users, nor images, content, network and events be read
 *   (0700), volumes only traversed (0701); an older, open data root is closed at start.
 * - socket-mode: the socket is root:berth (root:root without the group) 0660.
 * - bridge-name-injection / bridge-adopt-foreign: berthd refuses to start on a bridge name that
 *   would inject into ip/iptables input, or on a host interface it did not create.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { chmod, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { projectRoot } from '../../src/util/paths.js';

let d: TestDaemon;
let dataRoot = '';

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  dataRoot = join(d.root, d.dataRoot);
  assert.equal((await d.docker(['pull', 'busybox'])).code, 0);
});

// stop() also kills and unmounts any container a failed test left.
after(() => d?.stop());

const mode = async (path: string) => (await stat(path)).mode & 0o7777;

/** The stores no container reaches, owner only as dockerd's image/ and network/; volumes/ as dockerd's. */
const STORE_MODES: Array<[string, number]> = [['images', 0o700], ['content', 0o700], ['network', 0o700], ['events', 0o700], ['volumes', 0o701]];

async function berthGid(): Promise<number | undefined> {
  const r = await run('getent', ['group', 'berth']);
  return r.code === 0 ? Number(r.stdout.split(':')[2]) : undefined;
}

test('data-root-private: folders 0711/0710, a container\'s config.json and record 0600, fixed at restart', async () => {
  const r = await d.docker(['run', '-d', '--name', 'secret-holder', '-e', 'SECRET=x', 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const dir = join(dataRoot, 'containers', id);
  assert.match(await readFile(join(dir, 'config.json'), 'utf8'), /SECRET=x/);
  assert.equal(await mode(dataRoot), 0o711);
  assert.equal(await mode(join(dataRoot, 'containers')), 0o710);
  assert.equal(await mode(join(dataRoot, 'layers')), 0o710);
  assert.equal(await mode(join(dir, 'config.json')), 0o600);
  assert.equal(await mode(join(dir, 'config.v2.json')), 0o600);
  for (const [name, m] of STORE_MODES) assert.equal(await mode(join(dataRoot, name)), m, name);
  assert.equal(await mode(join(dataRoot, 'engine-id')), 0o600);
  for (const p of [dataRoot, join(dataRoot, 'containers'), join(dataRoot, 'layers'), ...STORE_MODES.map(([n]) => join(dataRoot, n))]) {
    const s = await stat(p);
    assert.deepEqual([s.uid, s.gid], [0, 0], p);
  }

  // A data root left open by an older version is closed at the next start.
  await d.kill('SIGTERM');
  await chmod(dataRoot, 0o755);
  await chmod(join(dataRoot, 'containers'), 0o755);
  await chmod(join(dataRoot, 'layers'), 0o755);
  for (const [name] of STORE_MODES) await chmod(join(dataRoot, name), 0o755);
  await chmod(join(dataRoot, 'engine-id'), 0o644);
  await d.restart();
  assert.equal(await mode(dataRoot), 0o711);
  assert.equal(await mode(join(dataRoot, 'containers')), 0o710);
  assert.equal(await mode(join(dataRoot, 'layers')), 0o710);
  for (const [name, m] of STORE_MODES) assert.equal(await mode(join(dataRoot, name)), m, `${name} after restart`);
  assert.equal(await mode(join(dataRoot, 'engine-id')), 0o600);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', id])).stdout.trim(), 'true');
  // An old 0644 config.json is narrowed when the container starts again.
  await chmod(join(dir, 'config.json'), 0o644);
  assert.equal((await d.docker(['restart', '-t', '0', id])).code, 0);
  assert.equal(await mode(join(dir, 'config.json')), 0o600);
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);

  // A non-root user in the container still runs (the runtime, as root, reaches the private folders).
  const u = await d.docker(['run', '--rm', '-u', '1000:1000', '-e', 'SECRET=y', 'busybox', 'sh', '-c', 'id -u; echo $SECRET']);
  assert.equal(u.code, 0, u.stderr);
  assert.equal(u.stdout, '1000\ny\n');
});

test('socket-mode: the API socket is 0660, owned by root and the berth group when it exists', async () => {
  const s = await stat(d.socket);
  assert.ok(s.isSocket());
  assert.equal(s.mode & 0o7777, 0o660);
  assert.equal(s.uid, 0);
  assert.equal(s.gid, (await berthGid()) ?? 0);
  // Nothing left from the bind-then-rename.
  const left = (await run('ls', ['-A', d.root])).stdout.split('\n').filter((n) => n.startsWith('.berth.sock'));
  assert.deepEqual(left, []);
});

/** Start berthd with these extra arguments, expecting it to refuse; its exit code and output. */
async function startRefused(extra: string[]): Promise<{ code: number; output: string }> {
  const root = mkdtempSync('/tmp/bt-refuse-');
  try {
    const r = await run(process.execPath, [
      join(projectRoot(), 'dist', 'berthd.mjs'), '-H', `unix://${join(root, 's.sock')}`, '--data-root', join(root, 'data'),
      '--pidfile', join(root, 'pid'), '--config-file', join(root, 'daemon.json'), '--bip', '10.251.77.1/24', ...extra,
    ], { timeoutMs: 30_000, env: { ...process.env, BERTH_HUB_ENDPOINT: 'http://127.0.0.1:9' } });
    return { code: r.code, output: r.stdout + r.stderr };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('bridge-name-injection: berthd refuses a bridge name with a newline or a space, saying why', async () => {
  for (const name of ['bt-x\nlink del lo', 'bt x']) {
    const r = await startRefused(['--bridge', name]);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /invalid bridge name/);
  }
  // And over the API: a network's bridge name option is checked the same way.
  const n = await d.docker(['network', 'create', '-o', 'com.docker.network.bridge.name=bt-a b', 'bt-inject']);
  assert.notEqual(n.code, 0);
  assert.match(n.stderr, /invalid bridge name/);
});

test('bridge-adopt-foreign: berthd refuses an existing interface it did not create (lo, a foreign bridge)', async () => {
  const lo = await startRefused(['--bridge', 'lo']);
  assert.notEqual(lo.code, 0, lo.output);
  assert.match(lo.output, /interface lo already exists on the host and was not created by this daemon/);
  assert.ok((await run('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'])).stdout.split('\n').every((l) => !l.includes('10.251.77.1')), 'lo got an address');

  // A bridge of someone else's (as docker0): refused at start and for a network's bridge name.
  const foreign = `bt-f${randomBytes(3).toString('hex')}`;
  assert.equal((await run('ip', ['link', 'add', foreign, 'type', 'bridge'])).code, 0);
  try {
    const r = await startRefused(['--bridge', foreign]);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`interface ${foreign} already exists on the host`));
    const n = await d.docker(['network', 'create', '-o', `com.docker.network.bridge.name=${foreign}`, 'bt-adopt']);
    assert.notEqual(n.code, 0);
    assert.match(n.stderr, /not created by this daemon/);
    // The host's bridge is still there, untouched.
    const link = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', foreign]);
    assert.equal(link.code, 0);
    assert.equal(link.stdout.trim(), '');
  } finally {
    await run('ip', ['link', 'del', foreign]);
  }
});
