/**
 * The Dockerfile parser (the rules of moby/buildkit frontend/dockerfile/parser, read for facts):
 * parser directives (`# syntax=`, `# escape=`) before anything else, comments, line continuations
 * with the escape character (comment and blank lines inside a continuation are skipped), heredocs
 * (`<<EOF`, `<<-EOF`, `<<"EOF"`) for RUN, COPY and ADD, `--flag=value` options, and the JSON form
 * (`["a","b"]`) where an instruction allows it. Errors name the line, as BuildKit's do.
 */
import { InvalidParameterError } from '../errors.js';

export interface Heredoc {
  name: string;
  content: string;
  /** unquoted name: variables in the content are expanded */
  expand: boolean;
}

export interface Node {
  /** lower-case instruction */
  cmd: string;
  /** the instruction's text as written, continuations joined */
  original: string;
  /** the arguments after the instruction and its flags */
  rest: string;
  /** the JSON form's strings when the arguments are a JSON array of strings */
  json?: string[];
  flags: Map<string, string | true>;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

export interface Dockerfile {
  directives: Map<string, string>;
  escape: string;
  nodes: Node[];
  warnings: string[];
}

export class DockerfileParseError extends InvalidParameterError {
  constructor(readonly line: number, message: string) {
    super(`dockerfile parse error on line ${line}: ${message}`);
  }
}

/** Every instruction there is, and the flags each takes. */
export const INSTRUCTIONS: Record<string, readonly string[]> = {
  from: ['platform'],
  run: ['mount', 'network', 'security'],
  cmd: [],
  entrypoint: [],
  env: [],
  arg: [],
  copy: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  add: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  workdir: [],
  user: [],
  expose: [],
  volume: [],
  label: [],
  healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
  shell: [],
  stopsignal: [],
  onbuild: [],
  maintainer: [],
};

const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);
const JSON_INSTRUCTIONS = new Set(['run', 'cmd', 'entrypoint', 'shell', 'copy', 'add', 'volume', 'healthcheck']);
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** A JSON array of strings, or undefined (then the shell form applies). */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* shell form */ }
  return undefined;
}

/** `--name=value` and bare `--name` options at the start of the arguments. */
function takeFlags(cmd: string, text: string, line: number): { flags: Map<string, string | true>; rest: string } {
  const flags = new Map<string, string | true>();
  let rest = text;
  for (;;) {
    const m = /^--([a-zA-Z][a-zA-Z0-9-]*)(=(\S*))?(\s+|$)/.exec(rest);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (!INSTRUCTIONS[cmd]!.includes(name)) throw new DockerfileParseError(line, `Unknown flag: ${name}`);
    flags.set(name, m[2] === undefined ? true : m[3]!);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length && lines[0]!.startsWith('\ufeff')) lines[0] = lines[0]!.slice(1);
  const directives = new Map<string, string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (directives.has(key)) throw new DockerfileParseError(i + 1, `only one ${key} parser directive can be used`);
    directives.set(key, m[2]!);
  }
  const escape = directives.get('escape') ?? '\\';
  if (escape !== '\\' && escape !== '`') throw new DockerfileParseError(1, `invalid escape token '${escape}' does not match ` + '` or \\');
  const nodes: Node[] = [];
  const warnings: string[] = [];
  const isComment = (l: string) => /^\s*#/.test(l);
  const continues = (l: string) => {
    const t = l.replace(/\s+$/, '');
    return t.endsWith(escape) ? t.slice(0, -1) : undefined;
  };
  for (; i < lines.length; i++) {
    const first = lines[i]!;
    if (!first.trim() || isComment(first)) continue;
    const start = i + 1;
    let joined = '';
    let line = first;
    for (;;) {
      const cut = continues(line);
      if (cut === undefined) { joined += line; break; }
      joined += cut;
      // the next line that is neither a comment nor empty continues it
      i++;
      while (i < lines.length && (isComment(lines[i]!) || !lines[i]!.trim())) {
        if (!lines[i]!.trim()) warnings.push(`Empty continuation line found in: line ${start}`);
        i++;
      }
      if (i >= lines.length) break;
      line = lines[i]!;
    }
    const m = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(joined)!;
    const cmd = m[1]!.toLowerCase();
    if (!(cmd in INSTRUCTIONS)) throw new DockerfileParseError(start, `unknown instruction: ${m[1]!.toUpperCase()}`);
    const { flags, rest } = takeFlags(cmd, m[2]!, start);
    const heredocs: Heredoc[] = [];
    if (HEREDOC_INSTRUCTIONS.has(cmd) && !rest.trim().startsWith('[')) {
      for (const h of rest.matchAll(HEREDOC)) {
        const body: string[] = [];
        for (;;) {
          i++;
          if (i >= lines.length) throw new DockerfileParseError(start, `unterminated heredoc ${h[3]}`);
          let l = lines[i]!;
          if (h[1] === '-') l = l.replace(/^\t+/, '');
          if (l === h[3]) break;
          body.push(l);
        }
        heredocs.push({ name: h[3]!, content: body.join('\n') + '\n', expand: h[2] === '' });
      }
    }
    const node: Node = {
      cmd, original: joined.trim(), rest, flags, heredocs, startLine: start, endLine: i + 1,
    };
    if (JSON_INSTRUCTIONS.has(cmd)) {
      const json = parseJsonArray(rest);
      if (json) node.json = json;
    }
    nodes.push(node);
  }
  return { directives, escape, nodes, warnings };
}
