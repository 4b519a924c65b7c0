// The --filter options of `compose ps` and `compose ls`, checked and applied as Compose v2 does:
// ps takes one KEY=VAL, `status` only (`source` is Compose's "not implemented"); ls takes `name`
// filters, each a regular expression matched anywhere in the project name (as the Engine's filters).
import { ComposeError } from './errors.js';

/** The states `ps` keeps: --status values plus a status=STATE --filter. */
export function psStatuses(status: string[], filter: string): string[] {
  if (!filter) return status;
  const i = filter.indexOf('=');
  if (i < 0) throw new ComposeError('arguments to --filter should be in form KEY=VAL');
  const key = filter.slice(0, i);
  if (key === 'status') return [...status, filter.slice(i + 1)];
  if (key === 'source') throw new ComposeError('--filter source is not implemented');
  throw new ComposeError(`unknown filter ${key}`);
}

/** `ls --filter name=...` as a predicate on project names (all pass without filters). */
export function lsNameFilter(filters: string[]): (name: string) => boolean {
  const names: string[] = [];
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i < 0) throw new ComposeError('bad format of filter (expected name=value)');
    const key = f.slice(0, i).trim().toLowerCase();
    if (key !== 'name') throw new ComposeError(`invalid filter '${key}'`);
    names.push(f.slice(i + 1).trim());
  }
  if (!names.length) return () => true;
  return (name) => names.some((n) => {
    if (n === name) return true;
    try {
      return new RegExp(n).test(name);
    } catch {
      return false;
    }
  });
}
