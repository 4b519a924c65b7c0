// Short syntaxes to long ones, relative paths to absolute ones: one file's raw service at a time,
// before files are merged (so the merge rules compare like with like).
import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { ComposeError } from './errors.js';
import type { MountConfig, PortConfig } from './model.js';

type Raw = Record<string, unknown>;

/** KEY=VALUE list or mapping → mapping (null: "from the environment"). */
export function toDict(v: unknown): Record<string, string | null> {
  if (Array.isArray(v)) {
    const o: Record<string, string | null> = {};
    for (const item of v as string[]) {
      const eq = item.indexOf('=');
      if (eq < 0) o[item] = null;
      else o[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return o;
  }
  const o: Record<string, string | null> = {};
  for (const [k, x] of Object.entries((v ?? {}) as Raw)) o[k] = x === null || x === undefined ? null : String(x);
  return o;
}

/** go-shellwords' split, as compose uses for string commands: quotes and backslashes. */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      have = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      have = true;
    } else if (/\s/.test(c)) {
      if (have || cur) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (q) throw new ComposeError(`invalid command line string: ${s}`);
  if (have || cur) out.push(cur);
  return out;
}

function absPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

function isPathLike(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~');
}

/** "[[ip:]published:]target[/proto]" with ranges, or the long form → long form(s). */
export function parsePorts(items: unknown[]): PortConfig[] {
  const out: PortConfig[] = [];
  for (const item of items) {
    if (typeof item === 'object' && item) {
      const o = item as Raw;
      out.push({
        target: Number(o.target),
        ...(o.published !== undefined ? { published: String(o.published) } : {}),
        ...(o.host_ip ? { host_ip: String(o.host_ip) } : {}),
        protocol: String(o.protocol ?? 'tcp'),
        mode: String(o.mode ?? 'ingress'),
      });
      continue;
    }
    let s = String(item);
    let protocol = 'tcp';
    const slash = s.lastIndexOf('/');
    if (slash >= 0) {
      protocol = s.slice(slash + 1);
      s = s.slice(0, slash);
    }
    let hostIp: string | undefined;
    let published: string | undefined;
    let target: string;
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
    if (v6) {
      hostIp = v6[1];
      s = v6[2];
    }
    const parts = s.split(':');
    if (parts.length === 1) target = parts[0];
    else if (parts.length === 2) [published, target] = parts;
    else if (parts.length === 3 && !v6) [hostIp, published, target] = parts;
    else throw new ComposeError(`Invalid ip address: ${String(item)}`);
    const [t0, t1] = range(target, item);
    if (published === '' || published === undefined) {
      for (let t = t0; t <= t1; t++) out.push({ target: t, ...(hostIp ? { host_ip: hostIp } : {}), protocol, mode: 'ingress' });
      continue;
    }
    const [p0, p1] = range(published, item);
    if (p1 - p0 !== t1 - t0 && t0 !== t1) throw new ComposeError(`Invalid ranges specified for container and host Ports: ${target} and ${published}`);
    for (let t = t0; t <= t1; t++) {
      const pub = t0 === t1 ? (p0 === p1 ? String(p0) : `${p0}-${p1}`) : String(p0 + (t - t0));
      out.push({ target: t, published: pub, ...(hostIp ? { host_ip: hostIp } : {}), protocol, mode: 'ingress' });
    }
  }
  return out;
}

function range(s: string, item: unknown): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new ComposeError(`Invalid containerPort: ${String(item)}`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (b < a) throw new ComposeError(`Invalid range specified for port: ${s}`);
  return [a, b];
}

/** "[source:]target[:mode]" or the long form → long form, bind sources absolute. */
export function parseMount(item: unknown, base: string): MountConfig {
  if (typeof item === 'object' && item) {
    const o = { ...(item as Raw) } as unknown as MountConfig;
    if (o.type === 'bind' && o.source) o.source = absPath(o.source, base);
    return o;
  }
  const s = String(item);
  const parts = s.split(':');
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0];
  else if (parts.length === 2) {
    if (parts[1].startsWith('/')) [source, target] = parts;
    else [target, mode] = parts;
  } else if (parts.length === 3) [source, target, mode] = parts;
  else throw new ComposeError(`invalid spec: ${s}: too many colons`);
  if (!target) throw new ComposeError(`invalid spec: ${s}: empty container path`);
  const modes = mode ? mode.split(',') : [];
  const ro = modes.includes('ro');
  if (!source) return { type: 'volume', target, ...(ro ? { read_only: true } : {}) };
  if (isPathLike(source)) {
    const m: MountConfig = { type: 'bind', source: absPath(source, base), target, ...(ro ? { read_only: true } : {}), bind: { create_host_path: true } };
    const sel = modes.find((x) => x === 'z' || x === 'Z');
    if (sel) m.bind!.selinux = sel;
    const prop = modes.find((x) => /^r?(shared|slave|private)$/.test(x));
    if (prop) m.bind!.propagation = prop;
    return m;
  }
  return { type: 'volume', source, target, ...(ro ? { read_only: true } : {}), ...(modes.includes('nocopy') ? { volume: { nocopy: true } } : {}) };
}

const asList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? (v as unknown[]).map(String) : [String(v)]);

/** One raw service (from one file, `base` its folder) in canonical form. */
export function canonicalService(raw: Raw, base: string): Raw {
  const s: Raw = { ...raw };
  if (typeof s.build === 'string') s.build = { context: s.build };
  if (s.build && typeof s.build === 'object') {
    const b = { ...(s.build as Raw) };
    b.context = absPath(String(b.context ?? '.'), base);
    if (b.args !== undefined) b.args = toDict(b.args);
    if (b.labels !== undefined) b.labels = toDict(b.labels);
    s.build = b;
  }
  for (const k of ['command', 'entrypoint'] as const) if (typeof s[k] === 'string') s[k] = shellSplit(s[k] as string);
  if (s.environment !== undefined) s.environment = toDict(s.environment);
  if (s.labels !== undefined) s.labels = toDict(s.labels);
  if (s.env_file !== undefined) {
    s.env_file = (Array.isArray(s.env_file) ? s.env_file : [s.env_file]).map((e) =>
      typeof e === 'string' ? { path: absPath(e, base), required: true } : { path: absPath(String((e as Raw).path), base), required: (e as Raw).required !== false },
    );
  }
  if (s.ports !== undefined) s.ports = parsePorts(s.ports as unknown[]);
  if (s.expose !== undefined) s.expose = (s.expose as unknown[]).map(String);
  if (s.volumes !== undefined) s.volumes = (s.volumes as unknown[]).map((v) => parseMount(v, base));
  if (Array.isArray(s.networks)) s.networks = Object.fromEntries((s.networks as string[]).map((n) => [n, null]));
  if (Array.isArray(s.depends_on)) s.depends_on = Object.fromEntries((s.depends_on as string[]).map((n) => [n, { condition: 'service_started', required: true }]));
  if (s.healthcheck && typeof s.healthcheck === 'object') {
    const h = { ...(s.healthcheck as Raw) };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    if (typeof h.retries === 'string') h.retries = Number(h.retries);
    s.healthcheck = h;
  }
  for (const k of ['tmpfs', 'dns'] as const) if (s[k] !== undefined) s[k] = asList(s[k]);
  if (s.extra_hosts !== undefined) {
    s.extra_hosts = Array.isArray(s.extra_hosts)
      ? (s.extra_hosts as string[]).map((h) => h.replace('=', ':'))
      : Object.entries(toDict(s.extra_hosts)).map(([h, ip]) => `${h}:${ip ?? ''}`);
  }
  for (const k of ['configs', 'secrets'] as const) {
    if (s[k] !== undefined) s[k] = (s[k] as unknown[]).map((r) => (typeof r === 'string' ? { source: r } : r));
  }
  if (typeof s.extends === 'string') s.extends = { service: s.extends };
  return s;
}

/** Top-level networks/volumes/configs/secrets of one file, canonical (file paths absolute). */
export function canonicalTop(kind: 'networks' | 'volumes' | 'configs' | 'secrets', raw: Raw, base: string): Raw {
  const out: Raw = {};
  for (const [name, v] of Object.entries(raw ?? {})) {
    const o: Raw = { ...((v ?? {}) as Raw) };
    if (o.labels !== undefined) o.labels = toDict(o.labels);
    if (o.external && typeof o.external === 'object') {
      const ext = o.external as Raw;
      if (ext.name) o.name = ext.name;
      o.external = true;
    }
    if ((kind === 'configs' || kind === 'secrets') && typeof o.file === 'string') o.file = absPath(o.file, base);
    out[name] = o;
  }
  return out;
}
