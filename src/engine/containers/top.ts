/**
 * docker top, as dockerd does it: run the host's `ps` with the client's arguments (default -ef)
 * and keep the rows whose PID is in the container's cgroup.
 */
import { hostCommand, runCommand } from '../host/command.js';
import { readFile } from 'node:fs/promises';
import { InvalidParameterError, SystemError } from '../errors.js';


/** Where the runtime puts a container's cgroups (runtime/spec.ts: cgroupsPath /berth/<id>). */
export const CGROUP_PARENT = 'berth';

export function cgroupDir(controller: string, id: string, root = '/sys/fs/cgroup'): string {
  return controller ? `${root}/${controller}/${CGROUP_PARENT}/${id}` : `${root}/${CGROUP_PARENT}/${id}`;
}

/** PIDs (host namespace) of every process in the container: cgroup v1 pids hierarchy, else v2. */
export async function containerPids(id: string): Promise<number[]> {
  for (const dir of [cgroupDir('pids', id), cgroupDir('memory', id), cgroupDir('', id)]) {
    try {
      const text = await readFile(`${dir}/cgroup.procs`, 'utf8');
      return text.split('\n').filter(Boolean).map(Number);
    } catch { /* next */ }
  }
  return [];
}

/** Refuse `-o x=PID`-style renames of the PID column other than `pid=`, as dockerd. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new InvalidParameterError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Fields split on ASCII whitespace only (ps output may hold other spaces in COMMAND). */
function fieldsAscii(s: string): string[] {
  return s.split(/[ \t\n\v\f\r]+/).filter(Boolean);
}

/** Titles from the header; rows whose PID is the container's (thread rows `-` follow their process). */
export function parsePsOutput(output: string, pids: number[]): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n');
  const titles = fieldsAscii(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new SystemError("Couldn't find PID field in ps output");
  const want = new Set(pids);
  const processes: string[][] = [];
  const add = (fields: string[]) => {
    // As many columns as titles: the overhanging fields are the command with its spaces.
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  };
  let inContainer = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const fields = fieldsAscii(line);
    const p = fields[pidIndex];
    if (p === '-') {
      if (inContainer) add(fields);
      continue;
    }
    const n = Number(p);
    if (!Number.isInteger(n)) throw new SystemError(`Unexpected pid '${p}': strconv.Atoi: parsing "${p}": invalid syntax`);
    inContainer = want.has(n);
    if (inContainer) add(fields);
  }
  return { Titles: titles, Processes: processes };
}

export async function top(id: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
  const argsText = psArgs || '-ef';
  validatePsArgs(argsText);
  const pids = await containerPids(id);
  const args = argsText.split(' ');
  let out: string;
  try {
    // Ask ps for just these processes first; some options (f) refuse -q, then list everything.
    out = await hostCommand('ps', [...args, `-q${pids.join(',')}`]);
  } catch {
    const r = await runCommand('ps', args);
    // ps refusing the client's ps_args is bad input (400), not a daemon failure.
    if (r.code !== 0) throw new InvalidParameterError(`ps: ${r.stderr.split('\n')[0] || `exit status ${r.code}`}`);
    out = r.stdout;
  }
  return parsePsOutput(out, pids);
}
