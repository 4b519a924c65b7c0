import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VolumeService } from '../../src/engine/volumes/service.js';
import { mergeTmpfsOptions, parseBind, parseTmpfsEntry, tmpfsData, validMountMode, validateMountSpec, mountPointFromSpec } from '../../src/engine/volumes/parse.js';
import { validateVolumeName, generateVolumeName } from '../../src/engine/volumes/names.js';
import { applyUserMounts, planMounts, shouldCopyUp, userSpecMounts } from '../../src/engine/volumes/mounts.js';
import { parseMountFlag, splitVolumeFlags } from '../../src/cli/commands/mount-flag.js';

test('-v: named volume, bind, anonymous, modes (moby linux_parser cases)', () => {
  assert.deepEqual(parseBind('name:/p'), {
    Type: 'volume', Source: '', Destination: '/p', Mode: 'z', RW: true, Propagation: '', Name: 'name', Anonymous: false, Driver: 'local', CopyData: true,
  });
  const ro = parseBind('/h:/p:ro');
  assert.equal(ro.Type, 'bind');
  assert.equal(ro.Source, '/h');
  assert.equal(ro.RW, false);
  assert.equal(ro.Mode, 'ro');
  assert.equal(ro.Propagation, 'rprivate');
  assert.equal(ro.CreateSource, true);
  const anon = parseBind('/p');
  assert.equal(anon.Type, 'volume');
  assert.equal(anon.Anonymous, true);
  assert.equal(anon.Name, '');
  assert.equal(parseBind('/h/:/p/sub/').Destination, '/p/sub');
  assert.equal(parseBind('/h:/p:rw,rshared').Propagation, 'rshared');
  assert.equal(parseBind('vol:/p:nocopy').CopyData, false);
  assert.equal(parseBind('/:/host').Source, '/');
});

test('-v errors, with dockerd messages', () => {
  const bad = (spec: string, msg: string | RegExp) => assert.throws(() => parseBind(spec), (e: Error) => (typeof msg === 'string' ? e.message === msg : msg.test(e.message)));
  bad('', "invalid volume specification: ''");
  bad(':/p', "invalid volume specification: ':/p'");
  bad('/p:rw', "invalid volume specification: '/p:rw'");
  bad('a:b:c:d', "invalid volume specification: 'a:b:c:d'");
  bad('/h:/p:xx', 'invalid mode: xx');
  bad('/h:/p:ro,rw', 'invalid mode: ro,rw');
  bad('name:rel', `invalid volume specification: 'name:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
  bad('rel', `invalid volume specification: 'rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`);
  bad('/h:/', `invalid volume specification: '/h:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
});

test('mode validation: one of each kind', () => {
  for (const m of ['', 'ro', 'rw', 'z', 'Z', 'ro,z', 'rw,rslave', 'nocopy', 'ro,nocopy,private', 'cached']) assert.ok(validMountMode(m), m);
  for (const m of ['x', 'ro,ro', 'z,Z', 'shared,slave', 'nocopy,nocopy', 'ro,']) assert.ok(!validMountMode(m), m);
});

test('--mount specs: validation messages', () => {
  const bad = (m: object, msg: string, exists?: (p: string) => boolean) => assert.throws(() => validateMountSpec(m, exists), { message: msg });
  bad({ Type: 'bind', Source: '/x', Target: '/t' }, 'invalid mount config for type "bind": bind source path does not exist: /x', () => false);
  bad({ Type: 'bind', Target: '/t' }, 'invalid mount config for type "bind": field Source must not be empty');
  bad({ Type: 'bind', Source: 'rel', Target: '/t' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
  bad({ Type: 'volume', Source: 'v' }, 'invalid mount config for type "volume": field Target must not be empty');
  bad({ Type: 'volume', Target: '/t', ReadOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
  bad({ Type: 'volume', Source: 'v', Target: '/t', BindOptions: {} }, 'invalid mount config for type "volume": field BindOptions must not be specified');
  bad({ Type: 'tmpfs', Source: 'x', Target: '/t' }, 'invalid mount config for type "tmpfs": field Source must not be specified');
  bad({ Type: 'npipe', Target: '/t' }, 'invalid mount config for type "npipe": mount type unknown');
  bad({ Type: 'bind', Source: '/x', Target: '/t', BindOptions: { Propagation: 'weird' } }, 'invalid mount config for type "bind": invalid propagation mode: weird');
  validateMountSpec({ Type: 'bind', Source: '/x', Target: '/t' }, () => true);
  assert.equal(mountPointFromSpec({ Type: 'bind', Source: '/x', Target: '/t' }).Propagation, 'rprivate');
});

test('tmpfs: size with the largest exact suffix, mode in octal, options merged last-wins', () => {
  assert.equal(tmpfsData({ SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 }, false), 'mode=1777,size=64m');
  assert.equal(tmpfsData({ SizeBytes: 1536 }, true), 'ro,size=1536');
  assert.equal(tmpfsData({ SizeBytes: 2048 }, false), 'size=2k');
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m']), ['nosuid', 'nodev', 'rprivate', 'exec', 'size=2m']);
  assert.throws(() => parseTmpfsEntry('run', ''), { message: "invalid mount path: 'run' mount path must be absolute" });
  assert.equal(parseTmpfsEntry('/run/', 'size=1m').Destination, '/run');
});

test('volume names: Docker pattern (two characters at least), no path tricks', () => {
  for (const n of ['ab', 'my_vol', 'a.b-c', '0x', 'A1']) validateVolumeName(n);
  for (const n of ['a', '', '.hidden', '-x', '_x', 'a/b', '../x', '..', 'a b', 'a:b']) {
    assert.throws(() => validateVolumeName(n), /includes invalid characters for a local volume name/, n);
  }
  assert.match(generateVolumeName(), /^[0-9a-f]{64}$/);
});

test('copy-up: empty volumes only, not nocopy, not binds, a directory in the image', () => {
  const vol = parseBind('v1:/data');
  assert.ok(shouldCopyUp(vol, { volumeEmpty: true, imageHasDir: true }));
  assert.ok(!shouldCopyUp(vol, { volumeEmpty: false, imageHasDir: true }));
  assert.ok(!shouldCopyUp(vol, { volumeEmpty: true, imageHasDir: false }));
  assert.ok(!shouldCopyUp(parseBind('v1:/data:nocopy'), { volumeEmpty: true, imageHasDir: true }));
  assert.ok(!shouldCopyUp(parseBind('/h:/data'), { volumeEmpty: true, imageHasDir: true }));
});

test('planMounts: binds override volumes-from, image VOLUMEs fill the gaps, duplicates refused', () => {
  const deps = { exists: () => true, mountsOf: () => [parseBind('shared:/s'), parseBind('/h:/o')] };
  const mps = planMounts({
    VolumesFrom: ['other:ro'], Binds: ['/host:/o'], Tmpfs: { '/run': 'size=1m' }, Volumes: { '/data': {}, '/o': {} },
  }, deps);
  const by = Object.fromEntries(mps.map((m) => [m.Destination, m]));
  assert.equal(by['/s']!.RW, false);
  assert.equal(by['/s']!.Anonymous, false);
  assert.equal(by['/o']!.Source, '/host');
  assert.equal(by['/data']!.Anonymous, true);
  assert.equal(by['/run']!.Type, 'tmpfs');
  assert.throws(() => planMounts({ Binds: ['/a:/x', 'v1:/x'] }, deps), { message: 'Duplicate mount point: /x' });
  assert.throws(() => planMounts({ Binds: ['/a:/x'], Mounts: [{ Type: 'volume', Source: 'vv', Target: '/x' }] }, deps), { message: 'Duplicate mount point: /x' });
  assert.throws(() => planMounts({ Binds: 'x' as unknown as string[] }, deps), /Binds must be a list of strings/);
});

test('spec mounts: parents first, rbind + rprivate + ro, tmpfs defaults, defaults replaced', () => {
  const mps = [parseBind('/h:/a/b:ro'), parseBind('/g:/a'), parseTmpfsEntry('/dev/shm', 'size=1m')];
  const m = userSpecMounts(mps);
  assert.deepEqual(m.map((x) => x.destination), ['/a', '/a/b', '/dev/shm']);
  assert.deepEqual(m[1]!.options, ['rbind', 'rprivate', 'ro']);
  assert.deepEqual(m[2]!.options, ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m']);
  const spec: Record<string, unknown> = { mounts: [{ destination: '/proc' }, { destination: '/dev/shm', type: 'tmpfs' }] };
  applyUserMounts(spec, mps);
  assert.deepEqual((spec.mounts as Array<{ destination: string }>).map((x) => x.destination), ['/proc', '/a', '/a/b', '/dev/shm']);
});

test('CLI --mount and -v parsing (docker/cli opts/mount.go)', () => {
  assert.deepEqual(parseMountFlag('type=volume,source=v1,target=/d,volume-opt=type=tmpfs,volume-label=a=b,volume-nocopy'), {
    Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { DriverConfig: { Name: '', Options: { type: 'tmpfs' } }, Labels: { a: 'b' }, NoCopy: true },
  });
  assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMountFlag('type=bind,src=./x,target=/t,readonly,bind-propagation=rshared', '/cwd'), {
    Type: 'bind', Source: '/cwd/x', Target: '/t', ReadOnly: true, BindOptions: { Propagation: 'rshared' },
  });
  assert.throws(() => parseMountFlag('type=bind,source=/x'), { message: 'target is required' });
  assert.throws(() => parseMountFlag('type=bind,target=/x,tmpfs-size=1m'), { message: "cannot mix 'tmpfs-*' options with mount type 'bind'" });
  assert.throws(() => parseMountFlag('target=/x,bogus'), { message: "invalid field 'bogus' must be a key=value pair" });
  assert.throws(() => parseMountFlag('target=/x,foo=bar'), { message: "unexpected key 'foo' in 'foo=bar'" });
  assert.deepEqual(splitVolumeFlags(['/data', 'v:/p', './rel:/q:ro'], '/cwd'), { binds: ['v:/p', '/cwd/rel:/q:ro'], volumes: { '/data': {} } });
});

test('volume list and prune filters: labels all match, names as dockerd matches them, unknown keys refused', async () => {
  const root = mkdtempSync('/tmp/bt-vol-filters-');
  try {
    const svc = new VolumeService(root);
    await svc.init();
    await svc.create({ Name: 'both', Labels: { a: '1', b: '2' } });
    await svc.create({ Name: 'only-a', Labels: { a: '1' } });
    await svc.create({ Name: 'plain' });
    svc.setUsers({ all: (n) => (n === 'plain' ? ['c1'] : []), running: () => [] });
    const names = (filters: Record<string, string[]>) => svc.list(new Map(Object.entries(filters))).map((v) => v.Name);
    assert.deepEqual(names({}), ['both', 'only-a', 'plain']);
    assert.deepEqual(names({ label: ['a=1', 'b=2'] }), ['both']);
    assert.deepEqual(names({ label: ['a'] }), ['both', 'only-a']);
    assert.deepEqual(names({ name: ['^p', 'both'] }), ['both', 'plain']);
    assert.deepEqual(names({ driver: ['local'] }).length, 3);
    assert.deepEqual(names({ driver: ['loc'] }), []);
    assert.deepEqual(names({ dangling: ['true'] }), ['both', 'only-a']);
    assert.deepEqual(names({ dangling: ['false'] }), ['plain']);
    assert.throws(() => names({ color: ['red'] }), (e: Error) => e.message === "invalid filter 'color'");
    assert.equal(svc.get('plain').Mountpoint, join(root, 'plain', '_data'));
    await assert.rejects(svc.prune(new Map([['until', ['1h']]]), true), (e: Error) => e.message === "invalid filter 'until'");
    // API ≥ 1.42 prunes only anonymous volumes unless all=true; labels all match; label! none.
    assert.deepEqual((await svc.prune(new Map([['label', ['a']]]), true)).VolumesDeleted, []);
    const pruned = await svc.prune(new Map([['all', ['true']], ['label', ['a']], ['label!', ['b']]]), true);
    assert.deepEqual(pruned.VolumesDeleted, ['only-a']);
    assert.deepEqual(names({}), ['both', 'plain']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
