/** IPAM, port specs and the DNS codec of engine/network: pure logic, no host changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ipam } from '../../src/engine/network/ipam.js';
import { ipToInt, intToIp, macForIp, overlaps, parseCidr } from '../../src/engine/network/ipv4.js';
import { mappingsOf, parseHostPort, parsePortKey, portMap, portRequests } from '../../src/engine/network/ports.js';
import { portRows } from '../../src/api/views/containers.js';
import { buildResponse, encodeName, nameservers, parseQuery, TYPE_A, TYPE_AAAA } from '../../src/engine/network/dns.js';
import { writeJsonAtomic } from '../../src/util/atomic.js';
import { networkMatches, parseNetworkFilters } from '../../src/engine/network/filters.js';
import { newNetworkRecord } from '../../src/engine/network/store.js';
import { extraHostRecords, parseExtraHost, renderHosts, renderResolvConf } from '../../src/engine/network/etc-files.js';
import type { NetworkRecord } from '../../src/engine/network/types.js';

test('ipv4 helpers', () => {
  assert.equal(intToIp(ipToInt('172.31.0.1')), '172.31.0.1');
  assert.equal(intToIp(ipToInt('255.255.255.255')), '255.255.255.255');
  assert.throws(() => ipToInt('1.2.3.256'));
  assert.throws(() => parseCidr('10.0.0.1/24', true), /it should be 10\.0\.0\.0\/24/);
  assert.ok(overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.17.5.0/24')));
  assert.ok(!overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')));
  assert.equal(macForIp(ipToInt('172.17.0.2')), '02:42:ac:11:00:02');
});

test('IPAM: sequential allocation skipping network, gateway and broadcast; release; wanted addresses', () => {
  const ipam = Ipam.create('10.1.2.0/24');
  assert.equal(ipam.state.gateway, '10.1.2.1');
  assert.equal(ipam.allocate('a'), '10.1.2.2');
  assert.equal(ipam.allocate('b'), '10.1.2.3');
  assert.deepEqual(ipam.release('a'), ['10.1.2.2']);
  // Not handed out again at once: the next one comes after the last given.
  assert.equal(ipam.allocate('c'), '10.1.2.4');
  assert.equal(ipam.allocate('d', '10.1.2.50'), '10.1.2.50');
  assert.throws(() => ipam.allocate('e', '10.1.2.50'), /Address already in use/);
  assert.throws(() => ipam.allocate('e', '10.1.2.1'), /Address already in use/);
  assert.throws(() => ipam.allocate('e', '10.9.9.9'), /no configured subnet/);
  assert.equal(ipam.addressOf('d'), '10.1.2.50');
  assert.deepEqual([...ipam.owners()].sort(), ['b', 'c', 'd']);
});

test('IPAM: exhaustion, wrap-around, ip ranges', () => {
  const ipam = Ipam.create('10.9.0.0/29'); // .1 gateway, .2-.6 usable, .7 broadcast
  const got = ['a', 'b', 'c', 'd', 'e'].map((o) => ipam.allocate(o));
  assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  assert.throws(() => ipam.allocate('f'), /no available IPv4 addresses/);
  ipam.release('b');
  assert.equal(ipam.allocate('f'), '10.9.0.3');
  const ranged = Ipam.create('10.8.0.0/16', '10.8.0.254', '10.8.5.0/30');
  // Inside a larger subnet, the range's first address is an ordinary host address.
  assert.deepEqual(['w', 'x', 'y', 'z'].map((o) => ranged.allocate(o)), ['10.8.5.0', '10.8.5.1', '10.8.5.2', '10.8.5.3']);
  assert.throws(() => ranged.allocate('v'), /no available/);
  assert.throws(() => Ipam.create('10.8.0.0/16', '10.9.0.1'), /gateway/);
  assert.throws(() => Ipam.create('10.8.0.0/16', undefined, '10.7.0.0/24'), /ip-range/);
});

test('IPAM: the state persists as JSON and allocation continues where it was', async () => {
  const dir = mkdtempSync('/tmp/bt-ipam-');
  try {
    const ipam = Ipam.create('192.168.50.0/24');
    ipam.allocate('a');
    ipam.allocate('b');
    await writeJsonAtomic(join(dir, 'state.json'), ipam.state);
    const again = new Ipam(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')));
    assert.equal(again.addressOf('b'), '192.168.50.3');
    assert.equal(again.allocate('c'), '192.168.50.4');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('port specs: keys, host port ranges, -p and -P requests', () => {
  assert.deepEqual(parsePortKey('80/tcp'), { port: 80, proto: 'tcp' });
  assert.deepEqual(parsePortKey('53/UDP'), { port: 53, proto: 'udp' });
  assert.deepEqual(parsePortKey('8080'), { port: 8080, proto: 'tcp' });
  assert.throws(() => parsePortKey('0/tcp'));
  assert.throws(() => parsePortKey('80/icmp'), /invalid proto/);
  assert.deepEqual(parseHostPort(''), [0, 0]);
  assert.deepEqual(parseHostPort('8000-8010'), [8000, 8010]);
  assert.throws(() => parseHostPort('9-1'));
  const reqs = portRequests({
    '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }],
    '53/udp': [{ HostIp: '::', HostPort: '53' }, { HostIp: '0.0.0.0', HostPort: '5353' }],
  }, { '80/tcp': {}, '443/tcp': {} }, true);
  assert.deepEqual(reqs, [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortStart: 8080, hostPortEnd: 8080 },
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortStart: 5353, hostPortEnd: 5353 },
    { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPortStart: 0, hostPortEnd: 0 },
  ]);
  assert.deepEqual(portRequests(null, { '80/tcp': {} }, false), []);
});

test('port maps: inspect map, list entries, and back', () => {
  const map = portMap([{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 32768 }], { '80/tcp': {}, '443/tcp': {} });
  assert.deepEqual(map, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }], '443/tcp': null });
  assert.deepEqual(portRows(map), [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 32768, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
  ]);
  assert.deepEqual(mappingsOf(map), [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 32768 }]);
  assert.deepEqual(portRows(undefined), []);
});

function query(name: string, type: number, id = 0x1234): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

test('DNS: parse a query, answer A records, empty answers and NXDOMAIN', () => {
  const q = parseQuery(query('db.example', TYPE_A));
  assert.deepEqual(q.question, { name: 'db.example', type: TYPE_A, class: 1 });
  const r = buildResponse(q, ['10.1.2.3', '10.1.2.4']);
  assert.equal(r.readUInt16BE(0), 0x1234);
  const flags = r.readUInt16BE(2);
  assert.ok(flags & 0x8000, 'QR');
  assert.ok(flags & 0x0100, 'RD copied');
  assert.equal(flags & 0xf, 0);
  assert.equal(r.readUInt16BE(4), 1);
  assert.equal(r.readUInt16BE(6), 2);
  const first = 12 + q.questionBytes.length;
  assert.equal(r.readUInt16BE(first), 0xc00c);
  assert.equal(r.readUInt16BE(first + 2), TYPE_A);
  assert.deepEqual([...r.subarray(first + 12, first + 16)], [10, 1, 2, 3]);
  assert.equal(r.length, first + 32);
  const aaaa = buildResponse(parseQuery(query('db', TYPE_AAAA)), []);
  assert.equal(aaaa.readUInt16BE(6), 0);
  const nx = buildResponse(parseQuery(query('nosuch', TYPE_A)), [], 3);
  assert.equal(nx.readUInt16BE(2) & 0xf, 3);
  assert.throws(() => parseQuery(Buffer.alloc(5)), /short/);
  const bad = query('db', TYPE_A);
  assert.throws(() => parseQuery(bad.subarray(0, bad.length - 2)), /truncated/);
  assert.deepEqual(nameservers('# x\nnameserver 10.0.0.2\nnameserver fe80::1\nsearch a b\nnameserver 127.0.0.53\n'), ['10.0.0.2', '127.0.0.53']);
});

test('network list filters: labels all match, other keys alternatives, type/dangling, unknown keys refused', () => {
  const net = (name: string, driver: NetworkRecord['Driver'], labels: Record<string, string> = {}): NetworkRecord => ({
    ...newNetworkRecord(name, driver, {}), Labels: labels,
  });
  const nets = [
    net('bridge', 'bridge'), net('host', 'host'), net('none', 'null'),
    net('both', 'bridge', { a: '1', b: '2' }), net('only-a', 'bridge', { a: '1' }), net('busy', 'bridge'),
  ];
  const inUse = new Set(['bridge', 'busy']);
  const names = (filters: Record<string, string[]>) => {
    const f = parseNetworkFilters(new Map(Object.entries(filters)));
    return nets.filter((n) => networkMatches(f, n, () => inUse.has(n.Name))).map((n) => n.Name);
  };
  assert.deepEqual(names({ label: ['a=1', 'b=2'] }), ['both']);
  assert.deepEqual(names({ label: ['a'] }), ['both', 'only-a']);
  assert.deepEqual(names({ driver: ['bridge', 'null'] }), ['bridge', 'none', 'both', 'only-a', 'busy']);
  assert.deepEqual(names({ driver: ['null'], label: ['a'] }), []);
  // name and id: equal, or a regular expression matching part of the value (dockerd's filters.Match).
  assert.deepEqual(names({ name: ['^b', 'none'] }), ['bridge', 'none', 'both', 'busy']);
  assert.deepEqual(names({ id: [nets[3]!.Id.slice(0, 12)] }), ['both']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
  assert.deepEqual(names({ type: ['custom'] }), ['both', 'only-a', 'busy']);
  assert.deepEqual(names({ type: ['custom', 'builtin'] }).length, nets.length);
  assert.deepEqual(names({ dangling: ['true'] }), ['both', 'only-a']);
  assert.deepEqual(names({ dangling: ['0'] }), ['bridge', 'host', 'none', 'busy']);
  assert.deepEqual(names({ scope: ['local'] }).length, nets.length);
  assert.deepEqual(names({ scope: ['swarm'] }), []);
  assert.throws(() => names({ color: ['red'] }), (e: Error & { code?: string }) => e.message === "invalid filter 'color'");
  assert.throws(() => names({ type: ['other'] }), /invalid filter: 'type'='other'/);
  assert.throws(() => names({ dangling: ['maybe'] }), /invalid filter 'dangling=maybe'/);
  assert.throws(() => names({ dangling: ['true', 'false'] }), /more than one value/);
});

test('/etc/hosts and resolv.conf: one renderer for create (host resolvers) and start (sandbox)', () => {
  const local = '127.0.0.1\tlocalhost\n';
  const hosts = renderHosts({ Hostname: 'web', Domainname: '' }, []);
  assert.ok(hosts.startsWith(local));
  assert.ok(hosts.endsWith('\n127.0.1.1\tweb\n'), hosts);
  const two = renderHosts({ Hostname: 'web', Domainname: 'example.org' }, ['10.0.0.2', '10.1.0.2']);
  assert.ok(two.endsWith('\n10.0.0.2\tweb.example.org web\n10.1.0.2\tweb.example.org web\n'), two);
  assert.ok(!two.includes('127.0.1.1'));
  const host = 'search corp.example\nnameserver 127.0.0.53\nnameserver 10.9.9.9\noptions edns0\n';
  assert.equal(renderResolvConf(host, 'host'), host);
  assert.equal(renderResolvConf(host, 'private'), 'search corp.example\nnameserver 10.9.9.9\noptions edns0\n');
  assert.equal(renderResolvConf('nameserver 127.0.0.53\n', 'private'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(renderResolvConf(host, { embeddedDns: '172.18.0.1' }), 'search corp.example\nnameserver 172.18.0.1\noptions edns0\noptions ndots:0\n');
  // --dns, --dns-search, --dns-option replace the host's; on a user network the embedded DNS stays.
  const custom = { Dns: ['10.1.1.1'], DnsSearch: ['a.test', 'b.test'], DnsOptions: ['ndots:2', 'rotate'] };
  assert.equal(renderResolvConf(host, 'private', custom), 'search a.test b.test\nnameserver 10.1.1.1\noptions ndots:2 rotate\n');
  assert.equal(renderResolvConf(host, 'host', { Dns: ['10.1.1.1'] }), 'search corp.example\nnameserver 10.1.1.1\noptions edns0\n');
  assert.equal(renderResolvConf(host, { embeddedDns: '172.18.0.1' }, custom), 'search a.test b.test\nnameserver 172.18.0.1\noptions ndots:2 rotate\n');
  assert.equal(renderResolvConf(host, 'private', { DnsSearch: ['.'] }), 'nameserver 10.9.9.9\noptions edns0\n');
});

test('--add-host: name:ip or name=ip, IPv6 bracketed or not, host-gateway; records before the container\'s own', () => {
  assert.deepEqual(parseExtraHost('db:10.0.0.9'), { name: 'db', ip: '10.0.0.9' });
  assert.deepEqual(parseExtraHost('db=10.0.0.9'), { name: 'db', ip: '10.0.0.9' });
  assert.deepEqual(parseExtraHost('v6:[::1]'), { name: 'v6', ip: '::1' });
  assert.deepEqual(parseExtraHost('v6:fe80::1'), { name: 'v6', ip: 'fe80::1' });
  assert.throws(() => parseExtraHost('db'), /bad format for add-host: "db"/);
  assert.throws(() => parseExtraHost(':10.0.0.1'), /bad format for add-host/);
  assert.throws(() => parseExtraHost('db:10.0.0'), /invalid IP address in add-host: "10.0.0"/);
  assert.deepEqual(extraHostRecords(['gw:host-gateway'], '172.31.0.1'), [{ name: 'gw', ip: '172.31.0.1' }]);
  assert.throws(() => extraHostRecords(['gw:host-gateway'], undefined), /unable to derive the IP value for host-gateway/);
  const hosts = renderHosts({ Hostname: 'web', Domainname: '' }, ['10.0.0.2'], [{ name: 'db', ip: '10.0.0.9' }]);
  assert.ok(hosts.endsWith('ff02::2\tip6-allrouters\n10.0.0.9\tdb\n10.0.0.2\tweb\n'), hosts);
});
