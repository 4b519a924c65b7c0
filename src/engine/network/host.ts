/**
 * The host side of networking: `ip -batch` and `iptables-restore --noflush`, one process per
 * batch (container start latency is benchmarked). Node cannot enter namespaces itself (see
 * NODE-NOTES §0.10), so everything inside a container's network namespace goes through
 * `ip -n <name>`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { runCommand, type CommandResult } from '../host/command.js';
import { SystemError } from '../errors.js';

/**
 * A batch line carrying a line break would be two commands: the last guard against a name that
 * escaped validation (interface names are checked where they enter, config.ts interfaceNameProblem).
 */
function checkLines(lines: string[], tool: string): void {
  const bad = lines.find((l) => /[\r\n\0]/.test(l));
  if (bad !== undefined) throw new SystemError(`refusing ${tool} input with a line break in ${JSON.stringify(bad)}`);
}

/** Run `ip [-n netns] [-force] -batch -` with these lines; throws with ip's message on failure. */
export async function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): Promise<CommandResult> {
  if (lines.length === 0) return { code: 0, stdout: '', stderr: '' };
  checkLines(lines, 'ip -batch');
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await runCommand('ip', args, { input: lines.join('\n') + '\n' });
  if (r.code !== 0 && !opts.force) throw new SystemError(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r;
}

/** A serial queue: iptables-restore transactions and ip batches never interleave. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

export interface RuleSet { nat: string[]; filter: string[] }

/** Apply rule lines (`-A …`, `-I …`, `-D …`, `:CHAIN - [0:0]`) with one iptables-restore --noflush. */
export async function iptablesRestore(rules: RuleSet, opts: { ignoreErrors?: boolean } = {}): Promise<void> {
  checkLines([...rules.nat, ...rules.filter], 'iptables-restore');
  let text = '';
  for (const table of ['nat', 'filter'] as const) {
    if (rules[table].length) text += `*${table}\n${rules[table].join('\n')}\nCOMMIT\n`;
  }
  if (!text) return;
  const r = await runCommand('iptables-restore', ['--noflush', '-w'], { input: text });
  if (r.code !== 0 && !opts.ignoreErrors) throw new SystemError(`iptables-restore: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Deleting rules one transaction at a time: a rule already gone must not keep the others. */
export async function iptablesDelete(rules: RuleSet): Promise<void> {
  checkLines([...rules.nat, ...rules.filter], 'iptables-restore');
  const r = await runCommand('iptables-restore', ['--noflush', '-w'], { input: toText(rules) });
  if (r.code === 0) return;
  for (const table of ['nat', 'filter'] as const) {
    for (const line of rules[table]) {
      await runCommand('iptables-restore', ['--noflush', '-w'], { input: `*${table}\n${line}\nCOMMIT\n` });
    }
  }
}

function toText(rules: RuleSet): string {
  let text = '';
  for (const table of ['nat', 'filter'] as const) {
    if (rules[table].length) text += `*${table}\n${rules[table].join('\n')}\nCOMMIT\n`;
  }
  return text;
}

/** `iptables-save -t <table>` lines. */
export async function iptablesSave(table: 'nat' | 'filter'): Promise<string[]> {
  const r = await runCommand('iptables-save', ['-t', table]);
  if (r.code !== 0) throw new SystemError(`iptables-save: ${r.stderr.trim()}`);
  return r.stdout.split('\n');
}

/** IPv4 routes and addresses of the host, to keep new subnets off networks already there. */
export async function hostIpv4Prefixes(): Promise<string[]> {
  const r = await runCommand('ip', ['-4', '-o', 'route', 'show', 'table', 'all']);
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const dst = line.trim().split(/\s+/)[0];
    if (!dst || dst === 'default' || /^(local|broadcast|unreachable|prohibit|blackhole|multicast)$/.test(dst)) {
      const m = /^(?:local|broadcast)\s+(\S+)/.exec(line.trim());
      if (m && !m[1].startsWith('127.')) out.push(m[1].includes('/') ? m[1] : `${m[1]}/32`);
      continue;
    }
    out.push(dst.includes('/') ? dst : `${dst}/32`);
  }
  return out;
}


const BRIDGE_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';

/**
 * Traffic between two ports of one bridge passes iptables' FORWARD only with br_netfilter and
 * bridge-nf-call-iptables on, which `enable_icc=false` needs (dockerd's setupBridgeNetFiltering).
 */
export async function ensureBridgeNetfilter(): Promise<void> {
  let current = await readFile(BRIDGE_NF, 'utf8').catch(() => undefined);
  if (current === undefined) {
    await runCommand('modprobe', ['br_netfilter']);
    current = await readFile(BRIDGE_NF, 'utf8').catch(() => undefined);
  }
  if (current === undefined) throw new SystemError('enable_icc=false needs br_netfilter, which is not available on this host');
  if (current.trim() !== '1') await writeFile(BRIDGE_NF, '1\n');
}
