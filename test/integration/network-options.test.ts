/**
 * Bridge driver options of `network create -o` (the body's `Options`), checked where they act:
 * the MTU inside the container (/sys/class/net/<if>/mtu), on the bridge and on the host's veth;
 * the container interface prefix; enable_icc=false (two containers of the network cannot talk,
 * a DROP rule in our forward chain); enable_ip_masquerade=false (no MASQUERADE rule for the
 * subnet); host_binding_ipv4 (the host address of -p bindings that name none); refusals by name
 * (unknown network options, unparsable values, endpoint DriverOpts). Both CLIs; every network is
 * removed and its rules are checked gone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { removeContainersAndStop, run, startDaemonWithImages, type TestDaemon } from '../helpers/daemon.js';
import { chainNames } from '../../src/engine/network/chains.js';
import { vethName } from '../../src/engine/network/sandbox.js';

let d: TestDaemon;
const tag = randomBytes(2).toString('hex');
/** Our own bridge names (bt-*), so a leftover is ours to find. */
const br = (what: string) => `bt-${what}${tag}`;
const nets: string[] = [];

before(async () => { d = await startDaemonWithImages(['busybox']); });

after(async () => {
  const ids = (await d?.docker(['ps', '-aq']).catch(() => undefined))?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => undefined);
  for (const n of nets) await d?.docker(['network', 'rm', n]).catch(() => undefined);
  await removeContainersAndStop(d);
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
  for (const n of nets) assert.ok(!links.includes(`${br(n.slice(3, 7))}:`), `bridge of ${n} left behind`);
});

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** A network with our bridge name and these options; `cli` makes it. */
async function network(cli: 'docker' | 'berth', short: string, opts: string[], extra: string[] = []): Promise<string> {
  const name = `bt-${short}-${tag}`;
  await ok(d[cli](['network', 'create', '-o', `com.docker.network.bridge.name=${br(short)}`, ...opts.flatMap((o) => ['-o', o]), ...extra, name]));
  nets.push(name);
  return name;
}

async function removeNetwork(name: string): Promise<void> {
  await ok(d.docker(['network', 'rm', name]));
  nets.splice(nets.indexOf(name), 1);
}

async function saved(table: 'nat' | 'filter'): Promise<string> {
  return (await run('iptables-save', ['-t', table])).stdout;
}

test('driver.mtu: the container, the bridge and the host veth get it; container_iface_prefix names the interface', async () => {
  const net = await network('docker', 'mtu', ['com.docker.network.driver.mtu=1400', 'com.docker.network.container_iface_prefix=lan']);
  const opts = JSON.parse(await ok(d.docker(['network', 'inspect', '-f', '{{json .Options}}', net])));
  assert.deepEqual(opts, {
    'com.docker.network.bridge.name': br('mtu'),
    'com.docker.network.driver.mtu': '1400',
    'com.docker.network.container_iface_prefix': 'lan',
  });
  for (const cli of ['docker', 'berth'] as const) {
    const out = await ok(d[cli](['run', '--rm', '--network', net, 'busybox', 'sh', '-c', 'cat /sys/class/net/lan0/mtu; ls /sys/class/net']));
    const [mtu, ...ifs] = out.split(/\s+/);
    assert.equal(mtu, '1400', `${cli}: ${out}`);
    assert.ok(ifs.includes('lan0') && !ifs.includes('eth0'), `${cli}: interfaces ${ifs.join(' ')}`);
  }
  await ok(d.docker(['run', '-d', '--name', `mtu-${tag}`, '--network', net, 'busybox', 'sleep', '300']));
  const id = await ok(d.docker(['inspect', '-f', '{{.Id}}', `mtu-${tag}`]));
  const netId = await ok(d.docker(['network', 'inspect', '-f', '{{.Id}}', net]));
  assert.equal((await readFile(`/sys/class/net/${br('mtu')}/mtu`, 'utf8')).trim(), '1400');
  assert.equal((await readFile(`/sys/class/net/${vethName(id, netId)}/mtu`, 'utf8')).trim(), '1400');
  // A second network on a running container keeps its own prefix and the default MTU.
  const plain = await network('berth', 'pln', []);
  await ok(d.berth(['network', 'connect', plain, `mtu-${tag}`]));
  const second = await ok(d.docker(['exec', `mtu-${tag}`, 'cat', '/sys/class/net/eth0/mtu']));
  assert.equal(second, '1500');
  await ok(d.docker(['rm', '-f', `mtu-${tag}`]));
  await removeNetwork(net);
  await removeNetwork(plain);
});

test('enable_icc=false: containers of the network cannot reach each other (a DROP in our chain); the default can', async () => {
  const fwd = chainNames(d.bridge).fwd;
  const closed = await network('berth', 'icc', ['com.docker.network.bridge.enable_icc=false']);
  const open = await network('docker', 'opn', []);
  const drop = `-A ${fwd} -i ${br('icc')} -o ${br('icc')} -j DROP`;
  assert.ok((await saved('filter')).split('\n').includes(drop), `no ${drop}`);
  for (const net of [closed, open]) {
    await ok(d.docker(['run', '-d', '--name', `srv-${net}`, '--network', net, 'busybox', 'sh', '-c',
      'mkdir /www && echo up > /www/index.html && exec httpd -f -p 8080 -h /www']));
  }
  const ipOf = (net: string) => ok(d.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, `srv-${net}`]));
  // (busybox's nc: Debian's static busybox wget crashes on this host)
  const fetch = (cli: 'docker' | 'berth', net: string, ip: string) => d[cli](['run', '--rm', '--network', net, 'busybox', 'sh', '-c',
    `r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080 | tail -n 1); echo "\${r:-unreachable}"`]);
  const openIp = await ipOf(open);
  const closedIp = await ipOf(closed);
  // The server answers (from the host, and from a peer on the open network)...
  assert.equal((await run('curl', ['-s', '--max-time', '5', `http://${closedIp}:8080/`])).stdout.trim(), 'up');
  assert.equal(await ok(fetch('docker', open, openIp)), 'up');
  // ...but not to a peer on the ICC-less network, through either CLI; its DNS still works.
  for (const cli of ['docker', 'berth'] as const) assert.equal(await ok(fetch(cli, closed, closedIp)), 'unreachable', cli);
  assert.match(await ok(d.docker(['run', '--rm', '--network', closed, 'busybox', 'nslookup', `srv-${closed}`])), new RegExp(closedIp.replace(/\./g, '\\.')));
  await ok(d.docker(['rm', '-f', `srv-${closed}`, `srv-${open}`]));
  await removeNetwork(closed);
  await removeNetwork(open);
  assert.ok(!(await saved('filter')).includes(br('icc')), 'rules of the removed network left behind');
});

test('enable_ip_masquerade=false: no MASQUERADE rule for the subnet (the default network has one)', async () => {
  const post = chainNames(d.bridge).post;
  const plain = await network('docker', 'msq', [], ['--subnet', `10.251.${(parseInt(tag, 16) % 200) + 20}.0/24`]);
  const bare = await network('berth', 'nmq', ['com.docker.network.bridge.enable_ip_masquerade=false'], ['--subnet', `10.252.${(parseInt(tag, 16) % 200) + 20}.0/24`]);
  const subnetOf = (n: string) => ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', n]));
  const nat = (await saved('nat')).split('\n');
  assert.ok(nat.includes(`-A ${post} -s ${await subnetOf(plain)} ! -o ${br('msq')} -j MASQUERADE`), 'the plain network lacks its MASQUERADE rule');
  assert.ok(!nat.some((l) => l.includes(br('nmq'))), 'a nat rule names the unmasqueraded bridge');
  const bareSubnet = await subnetOf(bare);
  assert.ok(!nat.some((l) => l.includes(`-s ${bareSubnet}`)), `a MASQUERADE rule for ${bareSubnet}`);
  // Containers still get an address and their gateway.
  const gw = await ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', bare]));
  assert.match(await ok(d.berth(['run', '--rm', '--network', bare, 'busybox', 'ping', '-c1', '-W3', gw])), / 0% packet loss/);
  await removeNetwork(plain);
  await removeNetwork(bare);
  assert.ok(!(await saved('nat')).includes(br('msq')), 'the MASQUERADE rule of the removed network left behind');
});

test('host_binding_ipv4: -p without an address binds there; an explicit address wins', async () => {
  const net = await network('docker', 'hbi', ['com.docker.network.bridge.host_binding_ipv4=127.0.0.1']);
  const httpd = ['sh', '-c', 'mkdir /www && echo bound > /www/index.html && exec httpd -f -p 8080 -h /www'];
  await ok(d.docker(['run', '-d', '--name', `hb-${tag}`, '--network', net, '-p', '8080', 'busybox', ...httpd]));
  await ok(d.berth(['run', '-d', '--name', `hb2-${tag}`, '--network', net, '-p', '0.0.0.0::8080', 'busybox', ...httpd]));
  const port = await ok(d.docker(['port', `hb-${tag}`, '8080']));
  assert.match(port, /^127\.0\.0\.1:\d+$/);
  assert.equal((await run('curl', ['-s', '--max-time', '5', `http://${port}/`])).stdout.trim(), 'bound');
  assert.match(await ok(d.berth(['port', `hb2-${tag}`, '8080'])), /^0\.0\.0\.0:\d+$/);
  const hostIp = await ok(d.docker(['inspect', '-f', '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostIp}}', `hb-${tag}`]));
  assert.equal(hostIp, '127.0.0.1');
  await ok(d.docker(['rm', '-f', `hb-${tag}`, `hb2-${tag}`]));
  await removeNetwork(net);
});

test('refused by name: unknown options, bad values, default_bridge=true, endpoint DriverOpts', async () => {
  for (const cli of ['docker', 'berth'] as const) {
    const unknown = await d[cli](['network', 'create', '-o', 'com.docker.network.bridge.inhibit_ipv4=true', `bt-unk-${tag}`]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /network option com\.docker\.network\.bridge\.inhibit_ipv4 is not supported by Berth/, cli);
    const mtu = await d[cli](['network', 'create', '-o', 'com.docker.network.driver.mtu=abc', `bt-mtu-${tag}`]);
    assert.match(mtu.stderr, /failed to parse com\.docker\.network\.driver\.mtu value: abc \(strconv\.Atoi: parsing "abc": invalid syntax\)/, cli);
    const icc = await d[cli](['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', `bt-icc-${tag}`]);
    assert.match(icc.stderr, /failed to parse com\.docker\.network\.bridge\.enable_icc value: maybe \(strconv\.ParseBool: parsing "maybe": invalid syntax\)/, cli);
    const ip = await d[cli](['network', 'create', '-o', 'com.docker.network.bridge.host_binding_ipv4=300.1.1.1', `bt-ip-${tag}`]);
    assert.match(ip.stderr, /failed to parse com\.docker\.network\.bridge\.host_binding_ipv4 value: 300\.1\.1\.1 \(nil ip\)/, cli);
    const def = await d[cli](['network', 'create', '-o', 'com.docker.network.bridge.default_bridge=true', `bt-def-${tag}`]);
    assert.match(def.stderr, /must be created manually/, cli);
  }
  const status = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.socket, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ Name: `bt-st-${tag}`, Options: { 'com.docker.network.driver.mtu': '-5' } }), 'http://d/v1.45/networks/create']);
  assert.equal(status.stdout, '400');
  const made = await ok(d.docker(['network', 'ls', '--format', '{{.Name}}']));
  for (const n of ['unk', 'mtu', 'icc', 'ip', 'def', 'st']) assert.ok(!made.split('\n').includes(`bt-${n}-${tag}`), `refused bt-${n}-${tag} was made`);
  // Endpoint driver options: the bridge driver applies none, so each is refused by name.
  const net = await network('docker', 'dro', []);
  await ok(d.docker(['create', '--name', `dro-${tag}`, 'busybox', 'true']));
  const connect = await d.docker(['network', 'connect', '--driver-opt', 'com.example.x=1', net, `dro-${tag}`]);
  assert.notEqual(connect.code, 0);
  assert.match(connect.stderr, /endpoint driver option com\.example\.x is not supported by Berth/);
  const create = await run('curl', ['-s', '--unix-socket', d.socket, '-H', 'Content-Type: application/json', '-d', JSON.stringify({
    Image: 'busybox', HostConfig: { NetworkMode: net }, NetworkingConfig: { EndpointsConfig: { [net]: { DriverOpts: { 'com.example.y': '2' } } } },
  }), 'http://d/v1.45/containers/create']);
  assert.match(create.stdout, /endpoint driver option com\.example\.y is not supported by Berth/);
  await ok(d.docker(['rm', `dro-${tag}`]));
  await removeNetwork(net);
});
