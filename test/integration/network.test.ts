/**
 * Networking against a real berthd (its own bridge, subnet and iptables chains, never the system's
 * berth0): addresses on the default bridge, container-to-container traffic, -p with DNAT and the
 * loopback proxy, `port`, clean-up after rm -f, user-defined networks with DNS names and aliases,
 * network rm of a network in use, and a daemon restart that keeps addresses and published ports.
 * Traffic goes only to loopback, the host's own address and containers on this daemon's bridges.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { run, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { chainNames } from '../../src/engine/network/chains.js';
import { netnsName, vethName } from '../../src/engine/network/sandbox.js';

let d: TestDaemon;
let bridge = '';
let chain = '';

before(async () => {
  d = await startDaemonWithMirror({ images: ['busybox'] });
  bridge = d.bridge;
  chain = chainNames(bridge).nat;
  const r = await d.docker(['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  const all = await d?.docker(['ps', '-aq']).catch(() => undefined);
  const ids = all?.stdout.split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => undefined);
  for (const n of ['bt-net-a', 'bt-net-b', 'bt-net-c', 'bt-lbl-ab', 'bt-lbl-a']) await d?.docker(['network', 'rm', n]).catch(() => undefined);
  await d?.stop();
  // Nothing of this daemon may remain: bridge, chains, namespaces.
  const links = await run('ip', ['-o', 'link', 'show']);
  assert.ok(!links.stdout.includes(`${bridge}:`), `bridge ${bridge} left behind`);
  const rules = await run('iptables-save', []);
  assert.ok(!rules.stdout.includes(chain), `chain ${chain} left behind`);
});

const HTTPD = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www';

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

async function get(url: string): Promise<string> {
  const r = await run('curl', ['-s', '--max-time', '5', url]);
  return r.stdout;
}

function hostAddress(): string | undefined {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (name.startsWith('bt-') || name.startsWith('berth') || name.startsWith('veth') || name.startsWith('docker')) continue;
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

test('default bridge: an address, the gateway, /etc/hosts; containers reach each other by IP', async () => {
  await ok(d.docker(['run', '-d', '--name', 'web1', 'busybox', 'sh', '-c', HTTPD]));
  const ip = await ok(d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web1']));
  const [prefix] = d.bip.split('.').slice(0, 3).join('.').split('/');
  assert.ok(ip.startsWith(`${prefix}.`), `${ip} not in ${d.bip}`);
  const ns = JSON.parse(await ok(d.berth(['inspect', '-f', '{{json .NetworkSettings}}', 'web1'])));
  assert.equal(ns.Gateway, d.bip.split('/')[0]);
  assert.equal(ns.IPPrefixLen, 24);
  assert.match(ns.MacAddress, /^02:42:/);
  assert.equal(ns.Networks.bridge.IPAddress, ip);
  assert.match(ns.SandboxKey, /^\/run\/netns\/berth-/);
  // From another container, with both CLIs.
  assert.match(await ok(d.docker(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${ip}:8080/`])), /hello from/);
  const out = await ok(d.berth(['run', '--rm', 'busybox', 'sh', '-c', `ping -c1 -W2 ${ip} >/dev/null && cat /etc/hosts && ip route`]));
  assert.match(out, new RegExp(`default via ${d.bip.split('/')[0].replace(/\./g, '\\.')}`));
  assert.match(out, /\d+\.\d+\.\d+\.\d+\t[0-9a-f]{12}\n/);
  await ok(d.docker(['rm', '-f', 'web1']));
});

test('-p 0:8080 and -p 127.0.0.1:HOST:8080: DNAT, the loopback proxy, port, ps; rules and veths gone after rm -f', async () => {
  const id = await ok(d.docker(['run', '-d', '--name', 'pub', '-p', '0:8080', '-p', '127.0.0.1::8080/udp', 'busybox', 'sh', '-c', HTTPD]));
  const mapping = await ok(d.docker(['port', 'pub', '8080']));
  const m = /^0\.0\.0\.0:(\d+)$/.exec(mapping);
  assert.ok(m, mapping);
  const port = m[1];
  assert.equal(await ok(d.berth(['port', 'pub', '8080/tcp'])), `0.0.0.0:${port}`);
  const all = await ok(d.berth(['port', 'pub']));
  assert.match(all, new RegExp(`^8080/tcp -> 0\\.0\\.0\\.0:${port}\\n8080/udp -> 127\\.0\\.0\\.1:\\d+$`));
  assert.match(await ok(d.docker(['ps', '--format', '{{.Ports}}', '-f', 'name=pub'])), new RegExp(`0\\.0\\.0\\.0:${port}->8080/tcp`));
  const inspect = JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pub'])));
  assert.deepEqual(inspect['8080/tcp'], [{ HostIp: '0.0.0.0', HostPort: port }]);
  // Loopback (proxy) and the host's own address (DNAT from OUTPUT).
  assert.match(await get(`http://127.0.0.1:${port}/`), /hello from/);
  const addr = hostAddress();
  if (addr) assert.match(await get(`http://${addr}:${port}/`), /hello from/);
  const nat = await run('iptables-save', ['-t', 'nat']);
  assert.ok(nat.stdout.includes(`--dport ${port} -j DNAT`), nat.stdout);
  const veth = vethName(id, JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks.bridge.NetworkID}}', 'pub']))));
  assert.equal((await run('ip', ['link', 'show', veth])).code, 0);

  await ok(d.docker(['rm', '-f', 'pub']));
  const after = await run('iptables-save', ['-t', 'nat']);
  assert.ok(!after.stdout.includes(`--dport ${port} -j DNAT`), after.stdout);
  assert.notEqual((await run('ip', ['link', 'show', veth])).code, 0, 'veth left behind');
  assert.ok(!(await run('ip', ['netns', 'list'])).stdout.includes(netnsName(id)), 'netns left behind');
  assert.equal(await get(`http://127.0.0.1:${port}/`), '');
});

test('-P publishes the exposed ports; -p HOST:CONTAINER with a taken port fails with a message', async () => {
  await ok(d.docker(['run', '-d', '--name', 'puball', '--expose', '8080', '-P', 'busybox', 'sh', '-c', HTTPD]));
  const port = (await ok(d.docker(['port', 'puball', '8080']))).split(':').pop()!;
  assert.match(await get(`http://127.0.0.1:${port}/`), /hello from/);
  const r = await d.docker(['run', '-d', '--name', 'clash', '-p', `${port}:8080`, 'busybox', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /port is already allocated/);
  await ok(d.docker(['rm', '-f', 'puball', 'clash']));
});

test('user-defined network: names and aliases resolve through the embedded DNS; network rm in use is 409', async () => {
  const netId = await ok(d.berth(['network', 'create', '--label', 'purpose=test', 'bt-net-a']));
  assert.match(netId, /^[0-9a-f]{64}$/);
  const ls = await ok(d.docker(['network', 'ls']));
  assert.match(ls, /NETWORK ID\s+NAME\s+DRIVER\s+SCOPE/);
  assert.match(ls, new RegExp(`${netId.slice(0, 12)}\\s+bt-net-a\\s+bridge\\s+local`));
  // berth prints what docker prints (regression: a literal "table " before every row).
  assert.equal(await ok(d.berth(['network', 'ls'])), ls);
  const dup = await d.docker(['network', 'create', 'bt-net-a']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /network with name bt-net-a already exists/);

  await ok(d.docker(['run', '-d', '--name', 'db', '--network', 'bt-net-a', '--network-alias', 'database', 'busybox', 'sh', '-c', HTTPD]));
  const dbIp = await ok(d.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "bt-net-a").IPAddress}}', 'db']));
  assert.match(dbIp, /^\d+\.\d+\.\d+\.\d+$/);
  for (const cli of ['docker', 'berth'] as const) {
    const out = await ok(d[cli](['run', '--rm', '--network', 'bt-net-a', 'busybox', 'sh', '-c', 'nslookup db; nslookup database; wget -qO- http://database:8080/']));
    assert.ok(out.split(dbIp).length >= 3, out);
    assert.match(out, /hello from/);
  }
  const resolv = await ok(d.docker(['run', '--rm', '--network', 'bt-net-a', 'busybox', 'cat', '/etc/resolv.conf']));
  const gw = await ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bt-net-a']));
  assert.match(resolv, new RegExp(`nameserver ${gw.replace(/\./g, '\\.')}`));
  const inspect = JSON.parse(await ok(d.berth(['network', 'inspect', 'bt-net-a'])));
  assert.equal(inspect[0].Name, 'bt-net-a');
  assert.equal(inspect[0].Labels.purpose, 'test');
  assert.equal(Object.values<{ Name: string }>(inspect[0].Containers)[0].Name, 'db');

  const rm = await d.docker(['network', 'rm', 'bt-net-a']);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, /has active endpoints/);
  const status = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '--unix-socket', d.socket, 'http://d/v1.45/networks/bt-net-a']);
  assert.equal(status.stdout, '409');

  // connect / disconnect a running container on the default bridge
  await ok(d.docker(['run', '-d', '--name', 'client', 'busybox', 'sleep', '60']));
  await ok(d.berth(['network', 'connect', '--alias', 'cli', 'bt-net-a', 'client']));
  assert.match(await ok(d.docker(['exec', 'client', 'wget', '-qO-', `http://${dbIp}:8080/`])), /hello from/);
  await ok(d.docker(['network', 'disconnect', 'bt-net-a', 'client']));
  await ok(d.docker(['rm', '-f', 'db', 'client']));
  assert.equal(await ok(d.berth(['network', 'rm', 'bt-net-a'])), 'bt-net-a');
  assert.notEqual((await run('ip', ['link', 'show', `berth-${netId.slice(0, 9)}`])).code, 0, 'bridge left behind');
  // prune takes unused networks only
  await ok(d.docker(['network', 'create', '--subnet', '10.254.77.0/24', 'bt-net-b']));
  assert.equal(await ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bt-net-b'])), '10.254.77.1');
  assert.match(await ok(d.berth(['network', 'prune', '-f'])), /Deleted Networks:\nbt-net-b/);
});

test('network ls filters, with both CLIs: labels all match, other keys are alternatives, an unknown key is a 400', async () => {
  await ok(d.docker(['network', 'create', '--label', 'a=1', '--label', 'b=2', 'bt-lbl-ab']));
  await ok(d.berth(['network', 'create', '--label', 'a=1', 'bt-lbl-a']));
  try {
    for (const cli of ['docker', 'berth'] as const) {
      const names = async (...filters: string[]) => (await ok(d[cli](['network', 'ls', '--format', '{{.Name}}', ...filters.flatMap((f) => ['-f', f])])))
        .split('\n').filter(Boolean).sort();
      assert.deepEqual(await names('label=a=1', 'label=b=2'), ['bt-lbl-ab'], cli);
      assert.deepEqual(await names('label=a=1'), ['bt-lbl-a', 'bt-lbl-ab'], cli);
      assert.deepEqual(await names('label=b'), ['bt-lbl-ab'], cli);
      assert.deepEqual(await names('driver=bridge', 'driver=null'), ['bridge', 'bt-lbl-a', 'bt-lbl-ab', 'none'], cli);
      assert.deepEqual(await names('driver=null', 'label=a=1'), [], cli);
      assert.deepEqual(await names('type=custom', 'name=bt-lbl'), ['bt-lbl-a', 'bt-lbl-ab'], cli);
      const bad = await d[cli](['network', 'ls', '-f', 'color=red']);
      assert.notEqual(bad.code, 0, cli);
      assert.match(bad.stderr, /invalid filter 'color'/, cli);
    }
    const r = await run('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', d.socket, '-G', 'http://d/v1.45/networks', '--data-urlencode', 'filters={"color":["red"]}']);
    const cut = r.stdout.trimEnd().lastIndexOf('\n');
    assert.equal(r.stdout.slice(cut + 1).trim(), '400', r.stdout);
    assert.equal(JSON.parse(r.stdout.slice(0, cut)).message, "invalid filter 'color'");
  } finally {
    await d.docker(['network', 'rm', 'bt-lbl-ab', 'bt-lbl-a']);
  }
});

test('--network none and host; container:<name> shares the namespace', async () => {
  const none = await ok(d.docker(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']));
  assert.ok(!none.includes('eth0'), none);
  const host = await ok(d.docker(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']));
  assert.ok(host.includes(bridge), host);
  await ok(d.docker(['run', '-d', '--name', 'nsowner', 'busybox', 'sh', '-c', HTTPD]));
  const out = await ok(d.docker(['run', '--rm', '--network', 'container:nsowner', 'busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/']));
  assert.match(out, /hello from/);
  await ok(d.docker(['rm', '-f', 'nsowner']));
});

test('--dns, --dns-search, --dns-option, --add-host (host-gateway too) shape resolv.conf and /etc/hosts; bad values are 400s', async () => {
  const gw = d.bip.split('/')[0];
  for (const cli of ['docker', 'berth'] as const) {
    const out = await ok(d[cli](['run', '--rm', '--dns', '10.9.9.9', '--dns-search', 'corp.test', '--dns-option', 'ndots:3',
      '--add-host', 'db.local:10.1.2.3', '--add-host', 'gw.local:host-gateway', '--hostname', 'box',
      'busybox', 'sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts']));
    const [resolv, hosts] = out.split('---\n');
    assert.equal(resolv, 'search corp.test\nnameserver 10.9.9.9\noptions ndots:3\n', cli);
    // dockerd's order: localhost lines, the --add-host records, then the container's own name.
    const lines = hosts.trim().split('\n');
    const db = lines.indexOf('10.1.2.3\tdb.local');
    assert.ok(db > 0, hosts);
    assert.equal(lines[db + 1], `${gw}\tgw.local`);
    assert.match(lines.at(-1)!, /^\d+\.\d+\.\d+\.\d+\tbox$/);
  }
  // --dns-search . means no search line at all.
  assert.equal(await ok(d.docker(['run', '--rm', '--dns', '10.9.9.9', '--dns-search', '.', 'busybox', 'cat', '/etc/resolv.conf'])), 'nameserver 10.9.9.9');
  // The docker CLI checks --add-host itself; the API checks what any client sends.
  for (const [field, value, msg] of [['ExtraHosts', 'db:not-an-ip', 'invalid IP address in add-host: \\"not-an-ip\\"'],
    ['ExtraHosts', 'nocolon', 'bad format for add-host'], ['Dns', 'ten.nine', 'invalid IP address in Dns']] as const) {
    const body = JSON.stringify({ Image: 'busybox', HostConfig: { [field]: [value] } });
    const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', body,
      '--unix-socket', d.socket, 'http://d/v1.45/containers/create']);
    const lines = r.stdout.trim().split('\n');
    const [text, code] = [lines[0], lines.at(-1)];
    assert.equal(code, '400', text);
    assert.ok(text.includes(msg), text);
  }
});

test('--dns on a user-defined network: resolv.conf names the embedded DNS, which relays other names to the container\'s servers', async () => {
  const { createSocket } = await import('node:dgram');
  const { buildResponse, parseQuery } = await import('../../src/engine/network/dns.js');
  // A resolver of the test's own on a loopback address, answering one name.
  const upstream = createSocket('udp4');
  upstream.on('message', (msg, from) => {
    const q = parseQuery(msg);
    const hit = q.question.name.replace(/\.$/, '') === 'upstream.test';
    upstream.send(buildResponse(q, hit ? ['10.20.30.40'] : [], hit ? 0 : 3), from.port, from.address);
  });
  await new Promise<void>((res) => upstream.bind(53, '127.0.0.77', res));
  try {
    await ok(d.docker(['network', 'create', 'bt-net-c']));
    const gw = await ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bt-net-c']));
    const out = await ok(d.berth(['run', '--rm', '--network', 'bt-net-c', '--dns', '127.0.0.77', 'busybox', 'sh', '-c',
      'cat /etc/resolv.conf; nslookup upstream.test']));
    assert.match(out, new RegExp(`^nameserver ${gw.replace(/\./g, '\\.')}$`, 'm'));
    assert.ok(!out.includes('nameserver 127.0.0.77'), out);
    assert.match(out, /Address: 10\.20\.30\.40/);
    // Another container on the network without --dns does not use that resolver.
    const other = await d.docker(['run', '--rm', '--network', 'bt-net-c', 'busybox', 'nslookup', 'upstream.test']);
    assert.ok(!other.stdout.includes('10.20.30.40'), other.stdout);
  } finally {
    upstream.close();
    await d.docker(['network', 'rm', 'bt-net-c']).catch(() => undefined);
  }
});

test('--mac-address, EndpointsConfig checks, network create options and names as dockerd', async () => {
  for (const [cli, mac] of [['docker', '02:42:ac:11:ff:01'], ['berth', '02:42:ac:11:ff:02']] as const) {
    await ok(d[cli](['run', '-d', '--name', `mac-${cli}`, '--mac-address', mac, 'busybox', 'sleep', '60']));
    assert.match(await ok(d.docker(['exec', `mac-${cli}`, 'ip', 'link', 'show', 'eth0'])), new RegExp(`link/ether ${mac} `));
    assert.equal(await ok(d.docker(['inspect', '-f', '{{.NetworkSettings.MacAddress}}', `mac-${cli}`])), mac);
    await ok(d.docker(['rm', '-f', `mac-${cli}`]));
  }
  const api = async (path: string, body: object): Promise<[string, string]> => {
    const r = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify(body),
      '--unix-socket', d.socket, `http://d/v1.45${path}`]);
    const lines = r.stdout.trim().split('\n');
    return [lines.at(-1)!, lines[0]];
  };
  // A network named in EndpointsConfig that does not exist is a 404, as dockerd.
  let [code, text] = await api('/containers/create', { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { 'bt-nowhere': {} } } });
  assert.deepEqual([code, JSON.parse(text).message], ['404', 'network bt-nowhere not found']);
  [code, text] = await api('/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: 'zz:00' } } } });
  assert.deepEqual([code, JSON.parse(text).message], ['400', 'invalid MAC address: zz:00']);
  // Names with spaces, IPAM without a config; options Berth does not apply are refused by name.
  await ok(d.docker(['network', 'create', 'bt my net']));
  assert.match(await ok(d.berth(['run', '--rm', '--network', 'bt my net', 'busybox', 'ip', '-4', 'addr', 'show', 'eth0'])), /inet \d+\.\d+\.\d+\.\d+\//);
  await ok(d.docker(['network', 'rm', 'bt my net']));
  const inhibit = await d.docker(['network', 'create', '-o', 'com.docker.network.bridge.inhibit_ipv4=true', 'bt-net-inh']);
  assert.notEqual(inhibit.code, 0);
  assert.match(inhibit.stderr, /network option com\.docker\.network\.bridge\.inhibit_ipv4 is not supported by Berth/);
  [code, text] = await api('/networks/create', { Name: 'bt-net-ipam', IPAM: { Driver: 'fancy' } });
  assert.deepEqual([code, JSON.parse(text).message], ['404', 'plugin "fancy" not found']);
});

test('--link name:alias on the default bridge: hosts record and dockerd\'s variables; rm --link; refusals', async () => {
  await ok(d.docker(['run', '-d', '--name', 'lnk-db', '--expose', '5432', '--expose', '7000-7001/udp', '-e', 'SECRET_MODE=on', 'busybox', 'sleep', '120']));
  const ip = await ok(d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'lnk-db']));
  const host = await ok(d.docker(['inspect', '-f', '{{.Config.Hostname}}', 'lnk-db']));
  for (const cli of ['docker', 'berth'] as const) {
    const out = await ok(d[cli](['run', '--rm', '--name', `lnk-web-${cli}`, '--link', 'lnk-db:db', 'busybox', 'sh', '-c', 'env | sort; echo ---; cat /etc/hosts']));
    const [env, hosts] = out.split('---\n');
    for (const line of [`DB_PORT=tcp://${ip}:5432`, `DB_PORT_5432_TCP=tcp://${ip}:5432`, `DB_PORT_5432_TCP_ADDR=${ip}`, 'DB_PORT_5432_TCP_PORT=5432',
      'DB_PORT_5432_TCP_PROTO=tcp', `DB_PORT_7000_UDP_START=udp://${ip}:7000`, 'DB_PORT_7000_UDP_PORT_END=7001', `DB_NAME=/lnk-web-${cli}/db`, 'DB_ENV_SECRET_MODE=on']) {
      assert.ok(env.split('\n').includes(line), `${cli}: ${line} missing in\n${env}`);
    }
    assert.ok(!env.includes('DB_ENV_PATH='), env);
    assert.ok(hosts.split('\n').includes(`${ip}\tdb ${host} lnk-db`), hosts);
  }
  // Stored as dockerd stores it; docker rm --link forgets it.
  await ok(d.docker(['create', '--name', 'lnk-app', '--link', 'lnk-db:db', 'busybox', 'true']));
  assert.equal(await ok(d.docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'lnk-app'])), '["/lnk-db:/lnk-app/db"]');
  await ok(d.docker(['rm', '--link', '/lnk-app/db']));
  assert.equal(await ok(d.docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'lnk-app'])), 'null');
  assert.equal((await d.docker(['inspect', 'lnk-db'])).code, 0, 'rm --link removed the container');
  // A stopped child cannot be linked at start; links elsewhere than the default bridge are refused.
  await ok(d.docker(['create', '--name', 'lnk-late', '--link', 'lnk-db:db', 'busybox', 'true']));
  await ok(d.docker(['stop', '-t', '0', 'lnk-db']));
  const late = await d.docker(['start', 'lnk-late']);
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /Cannot link to a non running container: \/lnk-db AS \/lnk-late\/db/);
  const missing = await d.docker(['create', '--link', 'lnk-nobody:x', 'busybox']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such container: lnk-nobody/);
  await ok(d.docker(['network', 'create', 'bt-net-lnk']));
  const userNet = await d.berth(['create', '--network', 'bt-net-lnk', '--link', 'lnk-db:db', 'busybox']);
  assert.notEqual(userNet.code, 0);
  assert.match(userNet.stderr, /legacy links \(--link\) are supported by Berth on the default bridge network only/);
  await ok(d.docker(['rm', '-f', 'lnk-db', 'lnk-app', 'lnk-late']));
  await ok(d.docker(['network', 'rm', 'bt-net-lnk']));
});

test('daemon restart keeps a running container\'s address, published port and reachability', async () => {
  await ok(d.docker(['run', '-d', '--name', 'keep', '-p', '0:8080', 'busybox', 'sh', '-c', HTTPD]));
  const ip = await ok(d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'keep']));
  const port = (await ok(d.docker(['port', 'keep', '8080']))).split(':').pop()!;
  assert.match(await get(`http://127.0.0.1:${port}/`), /hello from/);
  // A connect is written to the container's record (by the container service): it survives the restart.
  await ok(d.docker(['network', 'create', 'bt-net-c']));
  await ok(d.docker(['create', '--name', 'idle', 'busybox', 'true']));
  await ok(d.berth(['network', 'connect', '--alias', 'idler', 'bt-net-c', 'idle']));
  await d.kill('SIGTERM');
  await d.restart();
  const idle = JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'idle'])));
  assert.deepEqual(Object.keys(idle).sort(), ['bridge', 'bt-net-c']);
  assert.deepEqual(idle['bt-net-c'].Aliases, ['idler']);
  await ok(d.docker(['network', 'disconnect', 'bt-net-c', 'idle']));
  await ok(d.docker(['rm', 'idle']));
  await ok(d.docker(['network', 'rm', 'bt-net-c']));
  assert.equal(await ok(d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'keep'])), ip);
  assert.equal((await ok(d.docker(['port', 'keep', '8080']))).split(':').pop(), port);
  assert.match(await get(`http://127.0.0.1:${port}/`), /hello from/);
  const addr = hostAddress();
  if (addr) assert.match(await get(`http://${addr}:${port}/`), /hello from/);
  assert.match(await ok(d.docker(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${ip}:8080/`])), /hello from/);
  // A new container does not get the kept address.
  const other = await ok(d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0']));
  assert.ok(!other.includes(`${ip}/`), other);
  await ok(d.docker(['rm', '-f', 'keep']));
});
