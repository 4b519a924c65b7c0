/**
 * Runs last (the suite runs files in name order): after every other test, nothing the tests made
 * is left on the host. Test daemons live under /tmp/bt-*, own bridges named bt-*, chains
 * BERTH-BT-*; test registries store under /tmp/berth-registry-*. Whatever belongs to a system
 * berthd (data root /var/lib/berth) is not counted: only what no data root on disk owns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/daemon.js';

const SYSTEM_CONTAINERS = '/var/lib/berth/containers';

/** Whether a container ID (or its 12-character prefix) belongs to the system daemon. */
function systemOwns(idOrPrefix: string): boolean {
  if (!existsSync(SYSTEM_CONTAINERS)) return false;
  return readdirSync(SYSTEM_CONTAINERS).some((id) => id.startsWith(idOrPrefix));
}

function cmdlines(): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // A zombie has an empty command line and holds nothing.
      if (argv.length) out.push({ pid: Number(name), argv });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

test('no-leaks: no mounts, interfaces, namespaces, chains, cgroups or processes of the tests remain', async () => {
  const leaks: string[] = [];

  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint?.startsWith('/tmp/bt-') || mountPoint?.startsWith('/tmp/berth-registry-')) leaks.push(`mount ${mountPoint}`);
  }

  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string; master?: string }>;
  for (const l of links) {
    if (l.ifname.startsWith('bt-')) leaks.push(`interface ${l.ifname}`);
    // A container's host-side veth always sits on a bridge; one without is what a lost namespace left.
    if (/^veth[0-9a-f]{7}$/.test(l.ifname) && !l.master) leaks.push(`veth ${l.ifname} on no bridge`);
  }

  for (const ns of (await run('ip', ['netns', 'list'])).stdout.split('\n')) {
    const m = /^berth-([0-9a-f]{12})\b/.exec(ns);
    if (m && !systemOwns(m[1]!)) leaks.push(`netns ${ns.split(' ')[0]}`);
  }

  for (const table of ['nat', 'filter']) {
    for (const line of (await run('iptables-save', ['-t', table])).stdout.split('\n')) {
      if (/^:BERTH-BT/.test(line) || /-j BERTH-BT/.test(line)) leaks.push(`iptables ${table}: ${line}`);
    }
  }

  for (const controller of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', controller, 'berth');
    if (!existsSync(dir)) continue;
    for (const id of readdirSync(dir)) {
      if (/^[0-9a-f]{64}$/.test(id) && !systemOwns(id)) leaks.push(`cgroup ${join(dir, id)}`);
    }
  }

  for (const { pid, argv } of cmdlines()) {
    const text = argv.join(' ');
    if (text.includes('/tmp/bt-')) leaks.push(`process ${pid}: ${text.slice(0, 160)}`);
    else if (text.includes('/tmp/berth-registry-')) leaks.push(`process ${pid}: ${text.slice(0, 160)}`);
  }

  assert.deepEqual(leaks, []);
});
