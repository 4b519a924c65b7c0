// The compose spec's merge rules for several -f files and for `extends` (canonical forms in,
// canonical form out): mappings merge key by key, recursively; command, entrypoint and
// healthcheck.test are replaced; ports, expose, dns, tmpfs, extra_hosts, cap_add/cap_drop,
// profiles are appended (duplicates dropped); volumes merge by container path, configs and
// secrets by source; scalars are overridden.
type Raw = Record<string, unknown>;

const REPLACED = new Set(['command', 'entrypoint', 'image', 'build_args_list']);
const APPENDED = new Set(['expose', 'dns', 'tmpfs', 'extra_hosts', 'cap_add', 'cap_drop', 'profiles']);

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function unique<T>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function byKey(base: unknown[], over: unknown[], key: (x: Raw) => string): unknown[] {
  const out = new Map<string, unknown>();
  for (const x of base) out.set(key(x as Raw), x);
  for (const x of over) out.set(key(x as Raw), x);
  return [...out.values()];
}

function mergeValue(path: string, base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base === undefined || over === null) return over;
  const leaf = path.split('.').pop()!;
  if (REPLACED.has(leaf) || path === 'healthcheck.test') return over;
  if (Array.isArray(base) && Array.isArray(over)) {
    if (leaf === 'volumes') return byKey(base, over, (m) => String(m.target));
    if (leaf === 'configs' || leaf === 'secrets') return byKey(base, over, (m) => String(m.target ?? m.source));
    if (leaf === 'ports' || APPENDED.has(leaf)) return unique([...base, ...over]);
    return over;
  }
  if (isObj(base) && isObj(over)) {
    const out: Raw = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValue(`${path}.${k}`, base[k], v);
    return out;
  }
  return over;
}

/** A service of a later file (or the extending service) over an earlier one (or the base). */
export function mergeService(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v);
  return out;
}

/** Two whole (canonical) files. */
export function mergeFiles(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === 'services' && isObj(base.services) && isObj(v)) {
      const services: Raw = { ...base.services };
      for (const [name, svc] of Object.entries(v)) {
        services[name] = isObj(services[name]) ? mergeService(services[name] as Raw, svc as Raw) : svc;
      }
      out.services = services;
    } else if (isObj(base[k]) && isObj(v)) {
      out[k] = mergeValue(k, base[k], v);
    } else out[k] = v;
  }
  return out;
}
