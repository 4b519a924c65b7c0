/**
 * What the fuzzing harness sends: for every route the router has (and paths it does not have), a
 * request with hostile path parameters, query values, filters, API version prefixes, headers and
 * bodies, sent whole or truncated, with a wrong Content-Length, trickled, or as a hijack cut short.
 * The world (`FuzzWorld`) holds the real objects the valid requests made, so fuzzed requests also
 * reach the code behind a successful lookup.
 */
import { buildRequest } from './fuzz-http.js';
import type { Rng } from './fuzz-rng.js';
import { brokenJson, junkNumber, junkString, junkValue, mutate, toJsonText, type FuzzJson } from './fuzz-values.js';

export interface RouteInfo { method: string; path: string; hijack: boolean }

/** How a request is sent; the harness expects a full response only for `normal`. */
export type SendMode = 'normal' | 'truncated' | 'long-length' | 'short-length' | 'chunked-broken' | 'smuggle'
  | 'trickle' | 'stall' | 'hijack-cut';

export interface FuzzRequest {
  /** `METHOD template` of the route aimed at, or `unknown`. */
  route: string;
  method: string;
  bytes: Buffer;
  mode: SendMode;
  hijack: boolean;
}

/** Objects that exist on the daemon under test (ids and names the valid requests made). */
export class FuzzWorld {
  containers: string[] = [];
  execs: string[] = [];
  networks: string[] = [];
  volumes: string[] = [];
  images: string[] = ['busybox', 'busybox:latest', 'hello-world', 'library/busybox', 'docker.io/library/busybox:latest'];
}

const VERSIONS = ['/v1.24', '/v1.25', '/v1.30', '/v1.40', '/v1.41', '/v1.42', '/v1.43', '/v1.44', '/v1.45', '/v1.47', '/v1.50'];
const BAD_VERSIONS = ['/v1.23', '/v0.0', '/v1.51', '/v2.0', '/v99999999999999999999.0', '/v1.99999999999999999999', '/v1.4x',
  '/V1.45', '/v1.45.1', '/v-1.0', '/v1.', '/v.1', '/v1..45', '/v%31.45', '/v1.45%00', '/vv1.45'];

/** Query parameters each route reads (dockerd's names), and filter keys where it takes filters. */
const QUERY: Record<string, string[]> = {
  'GET /containers/json': ['all', 'limit', 'size', 'filters', 'before', 'since'],
  'POST /containers/create': ['name', 'platform'],
  'POST /containers/{id}/stop': ['t', 'timeout', 'signal'],
  'POST /containers/{id}/restart': ['t', 'timeout', 'signal'],
  'POST /containers/{id}/kill': ['signal'],
  'POST /containers/{id}/wait': ['condition'],
  'DELETE /containers/{id}': ['force', 'v', 'link'],
  'GET /containers/{id}/logs': ['stdout', 'stderr', 'follow', 'tail', 'since', 'until', 'timestamps'],
  'POST /containers/{id}/resize': ['h', 'w'],
  'POST /containers/{id}/rename': ['name'],
  'GET /containers/{id}/top': ['ps_args'],
  'GET /containers/{id}/stats': ['stream', 'one-shot'],
  'POST /containers/prune': ['filters'],
  'POST /containers/{id}/attach': ['stdin', 'stdout', 'stderr', 'logs', 'stream', 'detachKeys'],
  'POST /exec/{id}/resize': ['h', 'w'],
  'GET /images/json': ['all', 'filters', 'digests', 'shared-size'],
  'POST /images/create': ['fromImage', 'tag', 'platform', 'fromSrc', 'repo'],
  'POST /images/{name*}/tag': ['repo', 'tag'],
  'POST /images/{name*}/push': ['tag'],
  'POST /images/prune': ['filters'],
  'POST /commit': ['container', 'repo', 'tag', 'comment', 'author', 'changes', 'pause'],
  'DELETE /images/{name*}': ['force', 'noprune'],
  'GET /networks': ['filters'],
  'POST /networks/prune': ['filters'],
  'GET /networks/{id}': ['verbose', 'scope'],
  'GET /events': ['since', 'until', 'filters'],
  'GET /volumes': ['filters'],
  'POST /volumes/prune': ['filters'],
  'DELETE /volumes/{name}': ['force'],
  'GET /system/df': ['type'],
  'GET /images/search': ['term', 'limit', 'filters'],
};

const FILTER_KEYS: Record<string, string[]> = {
  'GET /containers/json': ['status', 'label', 'name', 'id', 'ancestor', 'before', 'since', 'exited', 'health', 'network', 'volume', 'publish', 'expose', 'is-task'],
  'POST /containers/prune': ['until', 'label', 'label!'],
  'GET /images/json': ['dangling', 'label', 'reference', 'before', 'since', 'until'],
  'POST /images/prune': ['dangling', 'until', 'label', 'label!'],
  'GET /images/search': ['stars', 'is-official', 'is-automated'],
  'GET /networks': ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'],
  'POST /networks/prune': ['until', 'label', 'label!'],
  'GET /events': ['type', 'event', 'container', 'image', 'label', 'network', 'volume', 'daemon', 'scope', 'config', 'node'],
  'GET /volumes': ['dangling', 'driver', 'label', 'name'],
  'POST /volumes/prune': ['label', 'label!', 'all'],
};

const CREATE_BODY: FuzzJson = {
  Hostname: 'fz', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
  ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false, Env: ['A=1', 'B='],
  Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], Interval: 1000000000, Timeout: 1000000000, Retries: 1, StartPeriod: 0 },
  Image: 'busybox', Volumes: { '/data': {} }, WorkingDir: '/tmp', Entrypoint: null, NetworkDisabled: false,
  Labels: { 'fuzz': '1' }, StopSignal: 'SIGTERM', StopTimeout: 1,
  HostConfig: {
    Binds: [], NetworkMode: 'bridge', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null,
    Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576, Mode: 448 } }],
    CapAdd: ['NET_ADMIN'], CapDrop: ['MKNOD'], Dns: ['1.1.1.1'], DnsOptions: ['ndots:1'], DnsSearch: ['example.com'],
    ExtraHosts: ['a:10.0.0.1'], GroupAdd: ['audio'], IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '',
    Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: ['no-new-privileges'],
    Tmpfs: { '/run': 'rw,size=1m' }, UTSMode: '', UsernsMode: '', ShmSize: 67108864, Sysctls: { 'net.ipv4.ip_forward': '1' },
    Runtime: '', ConsoleSize: [24, 80], Isolation: '', CpuShares: 512, Memory: 67108864, NanoCpus: 500000000,
    CgroupParent: '', BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', Devices: [],
    DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: 100,
    Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
    Init: false, MaskedPaths: null, ReadonlyPaths: null,
  },
  NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['fz'], IPAMConfig: null, Links: null, MacAddress: '', DriverOpts: null } } },
};

const EXEC_BODY: FuzzJson = {
  AttachStdin: false, AttachStdout: true, AttachStderr: true, DetachKeys: 'ctrl-p,ctrl-q', Tty: false,
  Env: ['A=1'], Cmd: ['true'], Privileged: false, User: '', WorkingDir: '/', ConsoleSize: [24, 80],
};

const BODIES: Record<string, FuzzJson> = {
  'POST /containers/create': CREATE_BODY,
  'POST /containers/{id}/exec': EXEC_BODY,
  'POST /exec/{id}/start': { Detach: true, Tty: false, ConsoleSize: [24, 80] },
  'POST /networks/create': { Name: 'fzn', Driver: 'bridge', Internal: false, Attachable: true, EnableIPv6: false, CheckDuplicate: true, Labels: { fuzz: '1' } },
  'POST /networks/{id}/connect': { Container: 'x', EndpointConfig: { Aliases: ['a'], IPAMConfig: { IPv4Address: '' }, Links: null } },
  'POST /networks/{id}/disconnect': { Container: 'x', Force: false },
  'POST /volumes/create': { Name: 'fzv', Driver: 'local', DriverOpts: {}, Labels: { fuzz: '1' } },
  'POST /commit': { Cmd: ['sh'], Env: ['A=1'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, WorkingDir: '/', User: 'root', Volumes: null },
};

/** Routes whose successful answer streams until the client leaves. */
export function isStreaming(route: string): boolean {
  return /\/(logs|stats|attach|wait)$|GET \/events|\/exec\/\{id\}\/start|\/images\/create|\/push$/.test(route);
}

/** Percent-encoding that also takes lone surrogates (as their UTF-8 replacement), unlike encodeURIComponent. */
function enc(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');
}

export class RequestGenerator {
  private readonly routes: RouteInfo[];
  private counter = 0;

  constructor(private readonly rng: Rng, routes: RouteInfo[], private readonly world: FuzzWorld) {
    // Host-heavy creates are rarer: each makes a bridge or a container on the host.
    this.routes = routes;
  }

  next(): FuzzRequest {
    const rng = this.rng;
    this.counter++;
    const unknown = rng.chance(0.04);
    const route = unknown ? undefined : this.pickRoute();
    const key = route ? `${route.method} ${route.path}` : 'unknown';
    let method = route?.method ?? rng.pick(['GET', 'POST', 'DELETE', 'PUT']);
    if (route && rng.chance(0.04)) method = rng.pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'BREW', 'get']);
    let path = route ? this.fillPath(route.path) : this.unknownPath();
    if (rng.chance(0.12)) path = this.pathTrick(path);
    const version = rng.weighted<string>([[6, rng.pick(VERSIONS)], [3, ''], [1, rng.pick(BAD_VERSIONS)]]);
    const query = this.query(key);
    const target = version + path + (query ? `?${query}` : '');

    const headers: Array<[string, string]> = [['Connection', 'close']];
    if (rng.chance(0.7)) headers.push(['Content-Type', rng.chance(0.9) ? 'application/json' : junkString(rng).replace(/[\r\n\0]/g, '')]);
    if (rng.chance(0.05)) headers.push(['X-Registry-Auth', rng.pick(['e30=', '!!!', Buffer.from('{"username":1}').toString('base64'), 'x'.repeat(9000)])]);
    const hijack = !!route?.hijack;
    if (hijack && rng.chance(0.8)) headers.push(['Upgrade', 'tcp'], ['Connection', 'Upgrade']);
    else if (rng.chance(0.02)) headers.push(['Upgrade', 'tcp'], ['Connection', 'Upgrade']);

    const body = this.body(key);
    const mode = this.mode(key, hijack, body);
    return { route: key, method, mode, hijack, bytes: this.encode(method, target, headers, body, mode) };
  }

  private pickRoute(): RouteInfo {
    for (;;) {
      const r = this.rng.pick(this.routes);
      if (r.path === '/networks/create' && !this.rng.chance(0.3)) continue;
      return r;
    }
  }

  private encode(method: string, target: string, headers: Array<[string, string]>, body: Buffer | undefined, mode: SendMode): Buffer {
    const rng = this.rng;
    const b = body ?? Buffer.alloc(0);
    switch (mode) {
      case 'truncated': case 'hijack-cut': {
        const full = buildRequest(method, target, [...headers, ['Content-Length', String(b.length + rng.int(1, 5000))]], b);
        return mode === 'hijack-cut' && rng.chance(0.5) ? full.subarray(0, rng.int(1, full.length)) : full;
      }
      case 'long-length': return buildRequest(method, target, [...headers, ['Content-Length', String(b.length + rng.int(1, 100))]], b);
      case 'short-length': return buildRequest(method, target, [...headers, ['Content-Length', String(rng.int(0, Math.max(0, b.length - 1)))]], b);
      case 'chunked-broken': {
        const chunk = rng.pick([`${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`, `zz\r\n${b}\r\n0\r\n\r\n`, `${(b.length + 9).toString(16)}\r\n${b}\r\n`,
          `-1\r\n\r\n`, `ffffffffffffffffff\r\nab\r\n`, `${b.length.toString(16)};ext=1\r\n${b}\r\n0\r\nTrailer: x\r\n\r\n`]);
        return buildRequest(method, target, [...headers, ['Transfer-Encoding', 'chunked']], Buffer.from(chunk, 'latin1'));
      }
      case 'smuggle': return buildRequest(method, target, [...headers, ['Content-Length', String(b.length)], ['Transfer-Encoding', 'chunked']], b);
      default: {
        const extra: Array<[string, string]> = rng.chance(0.02) ? [['Content-Length', rng.pick(['-1', 'abc', '1e3', '99999999999999999999', ' 5', '0x10'])]] : [];
        return buildRequest(method, target, [...headers, ...extra], body);
      }
    }
  }

  private mode(key: string, hijack: boolean, body: Buffer | undefined): SendMode {
    const rng = this.rng;
    if (hijack && rng.chance(0.15)) return 'hijack-cut';
    if (isStreaming(key) && key.startsWith('GET') && rng.chance(0.02)) return 'stall';
    return rng.weighted<SendMode>([
      [90, 'normal'], [body ? 3 : 1, 'truncated'], [1, 'long-length'], [body ? 2 : 0.5, 'short-length'],
      [1, 'chunked-broken'], [0.5, 'smuggle'], [0.3, 'trickle'],
    ]);
  }

  private fillPath(template: string): string {
    return template.replace(/\{(\w+)(\*?)\}/g, (_m, name: string, rest: string) => {
      const pool = this.poolFor(template, name);
      const rng = this.rng;
      if (pool.length && rng.chance(0.6)) {
        const v = rng.pick(pool);
        const variant = rng.weighted<string>([[6, v], [1, v.slice(0, 12)], [1, v.slice(0, rng.int(1, 4))], [1, v.toUpperCase()]]);
        return rest ? variant.split('/').map(encodeURIComponent).join('/') : enc(variant);
      }
      return this.junkSegment(!!rest);
    });
  }

  private poolFor(template: string, name: string): string[] {
    const w = this.world;
    if (template.startsWith('/exec/')) return w.execs;
    if (template.startsWith('/networks/')) return w.networks;
    if (template.startsWith('/volumes/')) return w.volumes;
    if (template.startsWith('/images/')) return w.images;
    return name === 'id' ? w.containers : [];
  }

  private junkSegment(multi: boolean): string {
    const rng = this.rng;
    const s = junkString(rng);
    if (rng.chance(0.2)) return rng.pick(['%', '%z', '%zz', '%E0%A4%A', '%C0%AF', '%ff', '%00', '%2F', '%2e%2e', 'a%2Fb', '%25']);
    if (multi && rng.chance(0.3)) return rng.pick(['a/b/c', 'localhost:5000/x/y:z', 'a//b', 'UP/per', 'x@sha256:' + 'a'.repeat(64), 'x:y@sha256:zz', '-/x']);
    return enc(s) || rng.pick(['', '%20']);
  }

  private unknownPath(): string {
    const rng = this.rng;
    return rng.pick(['/', '', '/nope', '/containers', '/containers/', '/containers/x/y/z', '/images', '/exec', '/exec/x',
      '/networks/x/y', '/volumes/x/y', '/session', '/build', '/grpc', '/distribution/busybox/json', '/auth', '/images/load',
      '/images/get', '/images/search', '/containers/x/archive', '/containers/x/export', '/containers/x/changes', '/swarm/init',
      '/plugins/x/json', '/%', '/_ping/x', '/' + 'y'.repeat(rng.int(1, 9000))]) || '/';
  }

  private pathTrick(path: string): string {
    const rng = this.rng;
    const segs = path.split('/');
    const at = rng.int(1, Math.max(1, segs.length - 1));
    const trick = rng.pick(['..', '%2e%2e', '%2E%2E', '.', '', '%00', '\u0000', '%2f', '..%2f..', '....//', '%c0%ae%c0%ae', ' ', '\t']);
    switch (rng.int(0, 4)) {
      case 0: segs.splice(at, 0, trick); return segs.join('/');
      case 1: return path + rng.pick(['/', '//', '/.', '/..', '%', '%0', '%zz', '#frag', '?', '??', '&']);
      case 2: return '/' + path;
      case 3: return path + '/' + 'z'.repeat(rng.pick([300, 5000, 20000, 70000]));
      default: return segs.map((s) => s.replace(/[a-z]/g, (c) => (rng.chance(0.2) ? '%' + c.charCodeAt(0).toString(16) : c))).join('/');
    }
  }

  private query(key: string): string {
    const rng = this.rng;
    const names = QUERY[key] ?? [];
    const parts: string[] = [];
    for (const n of names) {
      if (!rng.chance(0.35)) continue;
      parts.push(`${n}=${this.queryValue(key, n)}`);
    }
    if (rng.chance(0.05)) parts.push(`${enc(junkString(this.rng))}=${enc(junkString(this.rng))}`);
    if (rng.chance(0.05)) parts.push(rng.pick(['%', '%zz=1', 'a=%', 'a=%E0%A4%A', '=', '&&&', 'a', 'a=1&a=2&a=3', 'filters=%7B', 'x=' + 'q'.repeat(20000)]));
    return parts.join('&');
  }

  private queryValue(key: string, name: string): string {
    const rng = this.rng;
    if (name === 'filters') return enc(this.filters(key));
    if (rng.chance(0.25)) return rng.chance(0.5) ? enc(junkString(rng)) : junkNumber(rng).text;
    const w = this.world;
    const valid: Record<string, () => string> = {
      t: () => String(rng.int(0, 1)), timeout: () => String(rng.int(0, 1)), limit: () => String(rng.int(-1, 5)),
      h: () => String(rng.int(0, 200)), w: () => String(rng.int(0, 200)), tail: () => rng.pick(['all', '0', '5', '-1', '']),
      since: () => rng.pick(['0', '1', '1700000000', '2024-01-01T00:00:00Z', '10m', '1.5', w.containers[0] ?? 'x']),
      until: () => rng.pick(['0', '1', '1700000000.000000001', '2030-01-01', '1s', '-1h']),
      signal: () => rng.pick(['SIGKILL', 'SIGTERM', 'KILL', '9', '15', 'SIGUSR1', 'SIGWINCH', '0', '64', '65', 'SIGRTMIN+3']),
      condition: () => rng.pick(['not-running', 'next-exit', 'removed', '']), name: () => 'fz' + rng.int(0, 1e6),
      fromImage: () => rng.pick(['busybox', 'hello-world', 'library/busybox', 'nope/nope', 'BUSYBOX', 'busybox@sha256:' + '0'.repeat(64)]),
      tag: () => rng.pick(['latest', 'v1', '', 'sha256:' + '0'.repeat(64), 'UPPER', 'a'.repeat(129)]),
      repo: () => rng.pick(['fz/img', 'fz', 'localhost:1/fz', 'FZ', 'fz/img:tag']), container: () => rng.pick(w.containers.length ? w.containers : ['x']),
      changes: () => enc(rng.pick(['CMD ["sh"]', 'ENV A=1', 'EXPOSE 80', 'LABEL a=b', 'WORKDIR /x', 'USER 1', 'FROM x', 'RUN x', 'ENTRYPOINT', 'VOLUME /v', 'ONBUILD RUN x', 'STOPSIGNAL X'])),
      ps_args: () => enc(rng.pick(['-ef', 'aux', '-o pid', '--no-such', '-o', 'x'.repeat(300)])),
      detachKeys: () => rng.pick(['ctrl-p,ctrl-q', 'ctrl-@', 'a,b', 'ctrl-', 'ctrl-zz', '']), platform: () => rng.pick(['linux/amd64', 'linux/arm64', 'windows', 'x/y/z/w', '']),
      type: () => rng.pick(['container', 'image', 'volume', 'build-cache', 'x']), scope: () => rng.pick(['local', 'swarm', 'global', 'x']),
    };
    return (valid[name] ?? (() => rng.pick(['1', '0', 'true', 'false', 'yes', '']))) ();
  }

  private filters(key: string): string {
    const rng = this.rng;
    if (rng.chance(0.2)) return rng.pick(['{', '[]', '"x"', '1', 'null', '{"a":1}', '{"label":"x"}', '{"status":{"running":"yes"}}', '{"a":[1,{}]}', '{"":[""]}', 'x'.repeat(100)]);
    const keys = FILTER_KEYS[key] ?? ['x'];
    const out: Record<string, FuzzJson> = {};
    for (let i = rng.int(1, 3); i > 0; i--) {
      const k = rng.chance(0.9) ? rng.pick(keys) : junkString(rng);
      const vals = Array.from({ length: rng.int(1, 2) }, () => rng.chance(0.5) ? junkString(rng) : rng.pick(['running', 'exited', 'true', 'false', '1', 'a=b', 'a', 'busybox', 'bridge', 'local', '((((', '[a-', '*', '10m', '2020-01-01', '1e400', 'container', 'create', this.world.containers[0] ?? 'x']));
      out[k] = rng.chance(0.7) ? vals : Object.fromEntries(vals.map((v) => [v, rng.chance(0.9) ? true : junkValue(rng)]));
    }
    return toJsonText(out);
  }

  private body(key: string): Buffer | undefined {
    const rng = this.rng;
    const base = BODIES[key];
    if (!base) return rng.chance(0.05) ? Buffer.from(toJsonText(junkValue(rng))) : undefined;
    const text = rng.weighted<() => string>([
      [2, () => toJsonText(base)],
      [6, () => toJsonText(mutate(rng, base))],
      [1, () => brokenJson(rng, base)],
      [0.5, () => ''],
      [0.5, () => toJsonText(junkValue(rng))],
    ])();
    return Buffer.from(text, 'utf8');
  }
}
