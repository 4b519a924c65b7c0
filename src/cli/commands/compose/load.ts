// Loading a project: find the files, read .env, parse YAML (anchors and merge keys), interpolate,
// validate against the schema, resolve `include` and `extends`, merge the -f files, name the
// project, apply profiles.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { canonicalService, canonicalTop } from './canonical.js';
import { ComposeError } from './errors.js';
import { interpolateTree, parseEnvFile, type Env } from './interpolate.js';
import { mergeFiles, mergeService } from './merge.js';
import type { FileObjectConfig, NetworkConfig, Project, ServiceConfig, VolumeConfig } from './model.js';
import { validateCompose } from './validate.js';

type Raw = Record<string, unknown>;

export interface LoadOptions {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
  profiles: string[];
  /** The process environment (tests pass their own). */
  env: Env;
  cwd: string;
}

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

/** -f files, else COMPOSE_FILE, else compose.yaml (…) in the folder or its parents, plus its override. */
function findFiles(opts: LoadOptions): string[] {
  if (opts.files.length) return opts.files.map((f) => (f === '-' ? f : resolve(opts.cwd, f)));
  const fromEnv = opts.env.COMPOSE_FILE;
  if (fromEnv) return fromEnv.split(opts.env.COMPOSE_PATH_SEPARATOR ?? ':').filter(Boolean).map((f) => resolve(opts.cwd, f));
  for (let dir = opts.cwd; ; dir = dirname(dir)) {
    const found = DEFAULT_FILES.find((f) => existsSync(resolve(dir, f)));
    if (found) {
      const files = [resolve(dir, found)];
      const ov = OVERRIDES.find((f) => existsSync(resolve(dir, f)));
      if (ov) files.push(resolve(dir, ov));
      return files;
    }
    if (dirname(dir) === dir) break;
  }
  throw new ComposeError('no configuration file provided: not found');
}

function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new ComposeError(`open ${file}: no such file or directory`);
    throw new ComposeError(`${file}: ${err.message}`);
  }
}

/** The variables of a project: its .env files (or the default .env), then the environment over them. */
function projectEnv(dir: string, envFiles: string[], env: Env): Env {
  const files = envFiles.length ? envFiles : existsSync(resolve(dir, '.env')) ? [resolve(dir, '.env')] : [];
  let vars: Env = {};
  for (const f of files) vars = { ...vars, ...parseEnvFile(readText(f), { ...vars, ...env }) };
  return { ...vars, ...env };
}

interface Ctx {
  env: Env;
  /** Files being loaded (include/extends cycles). */
  stack: string[];
}

/** One file: parsed, interpolated, validated, canonical, its `include`s and `extends` resolved. */
function loadFile(file: string, ctx: Ctx): Raw {
  if (ctx.stack.includes(file)) throw new ComposeError(`include cycle detected: ${[...ctx.stack, file].join(' -> ')}`);
  const text = readText(file);
  const lc = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    throw new ComposeError(`yaml: line ${line}: ${e.message.split('\n')[0]} (${file})`);
  }
  const data = doc.toJS({ maxAliasCount: 10000 }) ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ComposeError(`validating ${file}: line 1: top-level object must be a mapping`);
  const interpolated = interpolateTree(data, ctx.env) as Raw;
  validateCompose(file, interpolated, doc, lc);
  const base = file === '-' ? process.cwd() : dirname(file);
  const out: Raw = { ...interpolated };
  const services: Raw = {};
  for (const [name, svc] of Object.entries((interpolated.services ?? {}) as Raw)) services[name] = canonicalService((svc ?? {}) as Raw, base);
  out.services = services;
  for (const k of ['networks', 'volumes', 'configs', 'secrets'] as const) {
    if (interpolated[k]) out[k] = canonicalTop(k, interpolated[k] as Raw, base);
  }
  resolveExtends(out, file, ctx);
  const includes = (interpolated.include ?? []) as unknown[];
  delete out.include;
  for (const inc of includes) {
    const spec = typeof inc === 'string' ? { path: inc } : (inc as { path: string | string[]; project_directory?: string; env_file?: string | string[] });
    const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => resolve(base, p));
    const incDir = spec.project_directory ? resolve(base, spec.project_directory) : dirname(paths[0]);
    const envFiles = spec.env_file ? (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((p) => resolve(base, p)) : [];
    const incCtx: Ctx = { env: projectEnv(incDir, envFiles, ctx.env), stack: [...ctx.stack, file] };
    let included: Raw = {};
    for (const p of paths) included = mergeFiles(included, loadFile(p, incCtx));
    for (const k of ['services', 'networks', 'volumes', 'configs', 'secrets'] as const) {
      const mine = (out[k] ?? {}) as Raw;
      for (const [name, v] of Object.entries((included[k] ?? {}) as Raw)) {
        if (k === 'services' && name in mine) throw new ComposeError(`services.${name} conflicts with imported resource`);
        if (!(name in mine)) mine[name] = v;
      }
      if (Object.keys(mine).length) out[k] = mine;
    }
  }
  return out;
}

/** `extends`: the base service (this file's, or another file's) under the extending one. */
function resolveExtends(file: Raw, path: string, ctx: Ctx, ): void {
  const services = file.services as Raw;
  const resolving = new Set<string>();
  const resolveOne = (name: string): Raw => {
    const svc = services[name] as Raw;
    const ext = svc.extends as { service: string; file?: string } | undefined;
    if (!ext) return svc;
    if (resolving.has(name)) throw new ComposeError(`circular reference with extends: services.${name}`);
    resolving.add(name);
    let base: Raw;
    if (ext.file) {
      const other = resolve(dirname(path), ext.file);
      const loaded = loadFile(other, { env: ctx.env, stack: [...ctx.stack, path] });
      const b = (loaded.services as Raw)[ext.service];
      if (!b) throw new ComposeError(`cannot extend service "${name}" in ${path}: service "${ext.service}" not found in ${other}`);
      base = b as Raw;
    } else {
      if (!services[ext.service]) throw new ComposeError(`cannot extend service "${name}" in ${path}: service "${ext.service}" not found`);
      base = resolveOne(ext.service);
    }
    const { extends: _drop, ...own } = svc;
    const { depends_on: _d, ...inherited } = base;
    const merged = mergeService(inherited, own);
    services[name] = merged;
    resolving.delete(name);
    return merged;
  };
  for (const name of Object.keys(services)) resolveOne(name);
}

/** docker compose's project name rule: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export function loadProject(opts: LoadOptions): Project {
  const files = findFiles(opts);
  const workingDir = opts.projectDirectory ? resolve(opts.cwd, opts.projectDirectory) : files[0] === '-' ? opts.cwd : dirname(files[0]);
  const envFiles = opts.envFiles.map((f) => resolve(opts.cwd, f));
  const env = projectEnv(workingDir, envFiles, opts.env);
  let merged: Raw = {};
  for (const f of files) merged = mergeFiles(merged, loadFile(f, { env, stack: [] }));

  const rawName = opts.projectName ?? env.COMPOSE_PROJECT_NAME ?? (merged.name as string | undefined) ?? basename(workingDir);
  const name = normalizeProjectName(rawName);
  if (!name) throw new ComposeError(`project name must not be empty`);
  if (opts.projectName && name !== opts.projectName) {
    throw new ComposeError(`invalid project name "${opts.projectName}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  }

  const profiles = new Set([...opts.profiles, ...(env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',') : [])].map((p) => p.trim()).filter(Boolean));
  const services: Record<string, ServiceConfig> = {};
  const disabled: Record<string, ServiceConfig> = {};
  for (const [sname, raw] of Object.entries((merged.services ?? {}) as Raw)) {
    const svc = { ...(raw as Raw), name: sname } as unknown as ServiceConfig;
    // `KEY` without a value takes the value of the environment, when it has one (as Compose resolves it).
    if (svc.environment) {
      svc.environment = Object.fromEntries(Object.entries(svc.environment).map(([k, v]) => [k, v ?? env[k] ?? null]));
    }
    const active = !svc.profiles?.length || profiles.has('*') || svc.profiles.some((p) => profiles.has(p));
    (active ? services : disabled)[sname] = svc;
  }
  const top = <T>(k: string, make: (key: string, v: Raw) => T): Record<string, T> =>
    Object.fromEntries(Object.entries((merged[k] ?? {}) as Raw).map(([key, v]) => [key, make(key, (v ?? {}) as Raw)]));
  const networks = top<NetworkConfig>('networks', (key, v) => ({ ...v, name: (v.name as string) ?? (v.external ? key : `${name}_${key}`) }) as NetworkConfig);
  const usesDefault = Object.values(services).some((s) => !s.networks || Object.keys(s.networks).length === 0 || 'default' in s.networks);
  if (usesDefault && !networks.default) networks.default = { name: `${name}_default` };
  const project: Project = {
    name,
    workingDir,
    configFiles: files,
    environment: env,
    services,
    disabled,
    networks,
    volumes: top<VolumeConfig>('volumes', (key, v) => ({ ...v, name: (v.name as string) ?? (v.external ? key : `${name}_${key}`) }) as VolumeConfig),
    configs: top<FileObjectConfig>('configs', (key, v) => ({ ...v, name: (v.name as string) ?? `${name}_${key}` }) as FileObjectConfig),
    secrets: top<FileObjectConfig>('secrets', (key, v) => ({ ...v, name: (v.name as string) ?? `${name}_${key}` }) as FileObjectConfig),
  };
  checkReferences(project);
  return project;
}

/** Services name only networks, volumes, configs, secrets and services that exist. */
function checkReferences(p: Project): void {
  for (const s of Object.values(p.services)) {
    for (const n of Object.keys(s.networks ?? {})) {
      if (!p.networks[n]) throw new ComposeError(`service "${s.name}" refers to undefined network ${n}: invalid compose project`);
    }
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source && !p.volumes[v.source]) throw new ComposeError(`service "${s.name}" refers to undefined volume ${v.source}: invalid compose project`);
    }
    for (const d of Object.keys(s.depends_on ?? {})) {
      if (!p.services[d] && !p.disabled[d]) throw new ComposeError(`service "${s.name}" depends on undefined service "${d}": invalid compose project`);
      if (!p.services[d] && s.depends_on![d].required !== false) throw new ComposeError(`service "${d}" is required by "${s.name}" but is disabled. Can be enabled by profiles ${JSON.stringify(p.disabled[d].profiles ?? [])}`);
    }
    for (const k of ['configs', 'secrets'] as const) {
      for (const r of s[k] ?? []) if (!p[k][r.source]) throw new ComposeError(`service "${s.name}" refers to undefined ${k.slice(0, -1)} ${r.source}: invalid compose project`);
    }
  }
}
