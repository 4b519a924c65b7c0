/**
 * A parsed Dockerfile cut into its global ARGs and build stages, with the stages a target needs
 * (FROM <stage> and COPY --from=<stage|index> edges): the stages the target does not need are not
 * built, as BuildKit does.
 */
import { InvalidParameterError } from '../errors.js';
import type { Dockerfile, Node } from './parser.js';
import { processWord, type Env } from './shell-lex.js';

export interface Stage {
  index: number;
  /** lower-cased `AS` name */
  name?: string;
  /** the FROM line's image or stage, expanded with the global ARGs */
  base: string;
  platform?: string;
  from: Node;
  nodes: Node[];
  /** stages this one reads: its base and its COPY --from sources */
  deps: Set<number>;
}

export interface Plan {
  metaArgs: Node[];
  stages: Stage[];
  target: number;
  /** the stages to build, in Dockerfile order */
  needed: number[];
}

/** `ARG a=1 b` → [[a, '1'], [b, undefined]] (names and default values, expanded). */
export function argPairs(node: Node, env: Env, escape: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  const text = node.rest.trim();
  if (!text) throw new InvalidParameterError(`dockerfile parse error on line ${node.startLine}: ARG requires at least one argument`);
  // ARG values keep their quoting rules: split at unquoted blanks, then each key[=value] expanded.
  const words: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!quote && /\s/.test(c)) { if (cur) words.push(cur); cur = ''; continue; }
    if (c === escape && quote !== "'" && i + 1 < text.length) { cur += c + text[++i]; continue; }
    if (quote && c === quote) quote = ''; else if (!quote && (c === '"' || c === "'")) quote = c;
    cur += c;
  }
  if (cur) words.push(cur);
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) out.push([w, undefined]);
    else out.push([w.slice(0, i), processWord(w.slice(i + 1), env, escape)]);
  }
  return out;
}

export function planStages(df: Dockerfile, metaEnv: (metaArgs: Node[]) => Env, target: string | undefined): Plan {
  const metaArgs: Node[] = [];
  const stages: Stage[] = [];
  let k = 0;
  for (; k < df.nodes.length && df.nodes[k]!.cmd !== 'from'; k++) {
    const n = df.nodes[k]!;
    if (n.cmd !== 'arg') {
      throw new InvalidParameterError(`dockerfile parse error on line ${n.startLine}: no build stage in current context`);
    }
    metaArgs.push(n);
  }
  if (k >= df.nodes.length) throw new InvalidParameterError('the Dockerfile (Dockerfile) cannot be empty');
  const env = metaEnv(metaArgs);
  for (; k < df.nodes.length; k++) {
    const n = df.nodes[k]!;
    if (n.cmd === 'from') {
      const words = n.rest.trim().split(/\s+/);
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
        throw new InvalidParameterError(`dockerfile parse error on line ${n.startLine}: FROM requires either one or three arguments`);
      }
      const base = processWord(words[0]!, env, df.escape);
      if (!base) throw new InvalidParameterError(`base name (${words[0]}) should not be blank`);
      const stage: Stage = { index: stages.length, base, from: n, nodes: [], deps: new Set() };
      if (words.length === 3) {
        const name = words[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw new InvalidParameterError(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
        if (stages.some((s) => s.name === name)) throw new InvalidParameterError(`duplicate name ${name}`);
        stage.name = name;
      }
      const platform = n.flags.get('platform');
      if (typeof platform === 'string') stage.platform = processWord(platform, env, df.escape);
      const dep = stageRef(stages, base.toLowerCase(), false);
      if (dep !== undefined) stage.deps.add(dep);
      stages.push(stage);
      continue;
    }
    const stage = stages[stages.length - 1]!;
    if (n.cmd === 'copy') {
      const from = n.flags.get('from');
      if (typeof from === 'string') {
        const dep = stageRef(stages.slice(0, -1), from.toLowerCase(), true);
        if (dep !== undefined) stage.deps.add(dep);
      }
    }
    stage.nodes.push(n);
  }
  let t = stages.length - 1;
  if (target) {
    const i = stages.findIndex((s) => s.name === target.toLowerCase());
    if (i < 0) throw new InvalidParameterError(`failed to reach build target ${target} in Dockerfile`);
    t = i;
  }
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of stages[i]!.deps) visit(d);
  };
  visit(t);
  return { metaArgs, stages, target: t, needed: [...needed].sort((a, b) => a - b) };
}

/** A stage named `ref` (or numbered, where an index is allowed) among `stages`. */
export function stageRef(stages: readonly Stage[], ref: string, byIndex: boolean): number | undefined {
  const named = stages.find((s) => s.name === ref);
  if (named) return named.index;
  if (byIndex && /^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i < stages.length) return i;
  }
  return undefined;
}
