/**
 * `berth system df [-v] [--format]` prints what the docker CLI prints against the same daemon:
 * the summary table, the verbose sections, JSON and a template.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox', 'hello-world'] });
  for (const img of ['busybox', 'hello-world']) assert.equal((await d.docker(['pull', img])).code, 0);
  // A running container with a volume, a stopped one that wrote a file, an unused volume.
  let r = await d.docker(['run', '-d', '--name', 'up', '-v', 'data:/data', 'busybox', 'sh', '-c', 'head -c 300000 /dev/zero > /data/f; sleep 300']);
  assert.equal(r.code, 0, r.stderr);
  r = await d.docker(['run', '--name', 'done', 'busybox', 'sh', '-c', 'head -c 50000 /dev/zero > /f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.docker(['volume', 'create', 'spare'])).code, 0);
});

after(async () => {
  await d?.docker(['rm', '-f', 'up', 'done']);
  await d?.stop();
});

/**
 * Ages ("37 seconds ago", "Up 2 minutes") tick between the two CLIs' runs, and a wider age moves
 * the columns after it: with ages, both outputs are compared with each age as one token and runs
 * of spaces as one.
 */
function withoutAges(text: string): string {
  return text.replace(/(\d+|About an?|Less than a) (second|minute|hour)s?/g, '<age>').replace(/ +/g, ' ');
}

/** Both CLIs' output for the same arguments: equal, byte for byte when no age is in it. */
async function same(args: string[]): Promise<string> {
  const b = await d.berth(args);
  const k = await d.docker(args);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(k.code, 0, k.stderr);
  if (b.stdout !== k.stdout) {
    assert.notEqual(withoutAges(b.stdout), b.stdout.replace(/ +/g, ' '), `outputs differ for ${args.join(' ')} and hold no age:\nberth:\n${b.stdout}\ndocker:\n${k.stdout}`);
    assert.equal(withoutAges(b.stdout), withoutAges(k.stdout), `outputs differ for ${args.join(' ')}`);
  }
  return b.stdout;
}

test('system df: the summary table as the docker CLI prints it', async () => {
  const out = await same(['system', 'df']);
  const lines = out.split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.match(lines[1]!, /^Images\s+2\s+1\s+/);
  assert.match(lines[2]!, /^Containers\s+2\s+1\s+/);
  assert.match(lines[3]!, /^Local Volumes\s+2\s+1\s+\d/);
  assert.match(lines[4]!, /^Build Cache\s+0\s+0\s+0B\s+0B$/);
});

test('system df -v: the images, containers, volumes and build cache sections', async () => {
  const out = await same(['system', 'df', '-v']);
  assert.match(out, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/);
  assert.match(out, /\nContainers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n/);
  assert.match(out, /\nLocal Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndata\s+1\s+300kB\n/);
  assert.match(out, /\nBuild cache usage: 0B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED\n$/);
});

test('system df --format: json and a template', async () => {
  const json = await same(['system', 'df', '--format', 'json']);
  assert.deepEqual(JSON.parse(json.split('\n')[0]!).Type, 'Images');
  await same(['system', 'df', '--format', '{{.Type}}: {{.Active}}/{{.TotalCount}}']);
  await same(['system', 'df', '--format', 'table {{.Type}}\t{{.Size}}']);
});
