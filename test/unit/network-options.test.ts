import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeOptions } from '../../src/engine/network/options.js';
import { Chains } from '../../src/engine/network/chains.js';
import { portRequests } from '../../src/engine/network/ports.js';
import { newNetworkRecord } from '../../src/engine/network/store.js';

test('bridge options: defaults, Go parsing of each value, refusals by name', () => {
  assert.deepEqual(parseBridgeOptions(undefined), { mtu: 0, icc: true, masquerade: true, hostBindingIpv4: '0.0.0.0', ifacePrefix: 'eth' });
  assert.deepEqual(parseBridgeOptions({
    'com.docker.network.driver.mtu': '9000', 'com.docker.network.bridge.enable_icc': 'F', 'com.docker.network.bridge.enable_ip_masquerade': '0',
    'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1', 'com.docker.network.container_iface_prefix': 'lan',
    'com.docker.network.bridge.default_bridge': 'false', 'com.docker.network.bridge.name': 'bt-x',
  }), { mtu: 9000, icc: false, masquerade: false, hostBindingIpv4: '127.0.0.1', ifacePrefix: 'lan' });
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.enable_ipv6': 'true' }), /network option com\.docker\.network\.enable_ipv6 is not supported by Berth/);
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': '1.5' }),
    { message: 'failed to parse com.docker.network.driver.mtu value: 1.5 (strconv.Atoi: parsing "1.5": invalid syntax)' });
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': '-1' }), { message: 'invalid MTU number: -1' });
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': '70000' }), /invalid MTU number: 70000/);
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.bridge.enable_icc': 'yes' }),
    { message: 'failed to parse com.docker.network.bridge.enable_icc value: yes (strconv.ParseBool: parsing "yes": invalid syntax)' });
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.bridge.host_binding_ipv4': 'nope' }), /value: nope \(nil ip\)/);
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.container_iface_prefix': 'a b' }), /container_iface_prefix/);
  assert.throws(() => parseBridgeOptions({ 'com.docker.network.bridge.default_bridge': 'true' }), /must be created manually/);
});

test('bridge rules: ICC off drops within the bridge before its accepts; no masquerade without it', () => {
  const n = newNetworkRecord('x', 'bridge', { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'false' });
  n.bridge = 'bt-x';
  n.ipam = { subnet: '10.1.2.0/24', gateway: '10.1.2.1', allocated: {}, last: '' } as never;
  const c = new Chains('bt-main');
  const r = c.bridgeRules(n, '-A');
  assert.deepEqual(r.nat, []);
  assert.equal(r.filter[0], `-A ${c.names.fwd} -i bt-x -o bt-x -j DROP`);
  n.Options = {};
  assert.equal(c.bridgeRules(n, '-A').nat.length, 1);
  assert.ok(!c.bridgeRules(n, '-D').filter.some((l) => l.includes('DROP')));
});

test('port requests: a binding without an address takes the network default; an explicit one stays', () => {
  const reqs = portRequests({ '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '0.0.0.0', HostPort: '8080' }] }, { '81/tcp': {} }, true, '127.0.0.1');
  assert.deepEqual(reqs.map((r) => r.hostIp), ['127.0.0.1', '0.0.0.0', '127.0.0.1']);
});
