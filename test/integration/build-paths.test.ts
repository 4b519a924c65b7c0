/**
 * COPY/ADD destinations that are symlinks in the base image resolve inside the image's root,
 * never on the host: the staging folder is written through components resolved in-root
 * (build/copy.ts, host/in-root.ts). Regression test `copy-dest-symlink-escape`: absolute,
 * relative-climbing and parent symlinks in the base point at a real host folder, which must stay
 * untouched, while the image gets the files where the links lead inside it (Docker's semantics).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { removeContainersAndStop, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { writeContext } from '../helpers/build-context.js';

let d: TestDaemon;
let tmp: string;
let hostDir: string;

before(async () => {
  d = await startDaemonWithImages(['busybox']);
  tmp = mkdtempSync('/tmp/berth-build-paths-');
  // a real host folder the links name: a host-side follow would land here
  hostDir = mkdtempSync('/tmp/berth-escape-target-');
});

after(async () => {
  await removeContainersAndStop(d);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(hostDir, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string>): string {
  return writeContext(tmp, name, files);
}

test('copy-dest-symlink-escape: COPY/ADD into a destination that is (or is under) a symlink of the base image stays in the image', async () => {
  const climb = '../'.repeat(12) + hostDir.slice(1);
  const base = context('base', {
    'Dockerfile': `FROM busybox\nRUN ln -s ${hostDir} /abs && ln -s ${climb} /rel && ln -s ${hostDir}/sub /parent && ln -s ${hostDir}/file /filelink\n`,
  });
  const b1 = await d.docker(['build', '-t', 'links:base', base], { timeoutMs: 180_000 });
  assert.equal(b1.code, 0, b1.stderr);
  const c = context('escape', {
    'Dockerfile': [
      'FROM links:base',
      'COPY f /abs/',
      'COPY f /rel/via-rel',
      'COPY dir /parent/deeper/',
      'COPY f /filelink',
      'ADD f /abs/added',
      'WORKDIR /parent/wd',
      'COPY f ./in-workdir',
      '',
    ].join('\n'),
    'f': 'payload\n',
    'dir/inner': 'inner\n',
  });
  const b2 = await d.docker(['build', '-t', 'links:escape', c], { timeoutMs: 180_000 });
  assert.equal(b2.code, 0, b2.stderr);
  assert.deepEqual(readdirSync(hostDir), [], 'nothing was written on the host through the links');
  // inside the image the links were followed in its own root
  const look = await d.docker(['run', '--rm', 'links:escape', 'sh', '-c',
    `cat ${hostDir}/f ${hostDir}/via-rel ${hostDir}/sub/deeper/inner ${hostDir}/file ${hostDir}/added ${hostDir}/sub/wd/in-workdir`], { timeoutMs: 60_000 });
  assert.equal(look.code, 0, look.stderr);
  assert.equal(look.stdout, 'payload\npayload\ninner\npayload\npayload\npayload\n');
  assert.deepEqual(readdirSync(hostDir), [], 'nor by running the image');
});
