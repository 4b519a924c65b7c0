/**
 * Docker's Dockerfile word lexer (moby/buildkit frontend/dockerfile/shell/lex.go, read for its
 * rules): quotes are removed, `\` (or the `# escape=` character) escapes the next character
 * outside quotes and `"`, `$` and itself inside double quotes, `$VAR`, `${VAR}`, `${VAR:-word}`,
 * `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}` are expanded from the
 * build's environment (ARG and ENV values). Single quotes keep everything literal.
 */
import { InvalidParameterError } from '../errors.js';

export type Env = ReadonlyMap<string, string>;

export class ShellLexError extends InvalidParameterError {}

class Lexer {
  private i = 0;
  constructor(private readonly s: string, private readonly env: Env, private readonly escape: string) {}

  private peek(): string { return this.s[this.i] ?? ''; }
  private next(): string { return this.s[this.i++] ?? ''; }
  private eof(): boolean { return this.i >= this.s.length; }

  /** A whole word, or words split at unquoted whitespace when `split`. Stops at `stop` (unquoted). */
  words(split: boolean, stop = ''): string[] {
    const out: string[] = [];
    let cur = '';
    let has = false;
    while (!this.eof()) {
      const c = this.peek();
      if (stop && c === stop) break;
      if (split && /\s/.test(c)) {
        this.i++;
        if (has) out.push(cur);
        cur = '';
        has = false;
        continue;
      }
      if (c !== '$') has = true;
      if (c === "'") { this.i++; cur += this.single(); continue; }
      if (c === '"') { this.i++; cur += this.double(); continue; }
      if (c === this.escape) {
        this.i++;
        if (this.eof()) { cur += c; continue; }
        cur += this.next();
        continue;
      }
      if (c === '$') {
        this.i++;
        const v = this.dollar();
        if (split && !v.quoted) {
          // An unquoted expansion splits into words as the shell would.
          const parts = v.value.split(/\s+/);
          if (parts.length > 1) {
            cur += parts[0];
            for (const p of parts.slice(1)) { if (cur) out.push(cur); cur = p; }
            has = cur !== '';
            continue;
          }
        }
        cur += v.value;
        if (v.value !== '') has = true;
        continue;
      }
      cur += this.next();
    }
    if (has || (!split && out.length === 0)) out.push(cur);
    return out;
  }

  private single(): string {
    let out = '';
    while (!this.eof()) {
      const c = this.next();
      if (c === "'") return out;
      out += c;
    }
    throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
  }

  private double(): string {
    let out = '';
    while (!this.eof()) {
      const c = this.peek();
      if (c === '"') { this.i++; return out; }
      if (c === '$') { this.i++; out += this.dollar().value; continue; }
      if (c === this.escape) {
        this.i++;
        const n = this.peek();
        if (n === '"' || n === '$' || n === this.escape) { out += n; this.i++; } else out += c;
        continue;
      }
      out += this.next();
    }
    throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
  }

  private name(): string {
    // A positional parameter is one digit ($1x is $1 then x), as the shell reads it.
    const m = /^(?:[0-9]|[A-Za-z_][A-Za-z0-9_]*)/.exec(this.s.slice(this.i));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }

  private dollar(): { value: string; quoted?: boolean } {
    // `$` at the end, or before a character that starts no name, is itself.
    if (this.peek() !== '{') {
      const name = this.name();
      if (!name) return { value: '$' };
      return { value: this.env.get(name) ?? '' };
    }
    this.i++;
    const name = this.name();
    if (!name) throw new ShellLexError(`missing or invalid variable name in \${} expansion`);
    let c = this.next();
    if (c === '') throw new ShellLexError('syntax error: missing \'}\'');
    if (c === '}') return { value: this.env.get(name) ?? '' };
    let colon = false;
    if (c === ':') { colon = true; c = this.next(); }
    if (c !== '-' && c !== '+' && c !== '?') {
      throw new ShellLexError(`unsupported modifier (${colon ? ':' : ''}${c}) in substitution`);
    }
    const word = this.words(false, '}')[0] ?? '';
    if (this.next() !== '}') throw new ShellLexError('syntax error: missing \'}\'');
    const value = this.env.get(name);
    const set = value !== undefined && (!colon || value !== '');
    switch (c) {
      case '-': return { value: set ? value! : word };
      case '+': return { value: set ? word : '' };
      default:
        if (set) return { value: value! };
        throw new ShellLexError(`${name}: ${word || 'is not allowed to be unset'}`);
    }
  }
}

/** One word, quotes removed, variables expanded (ProcessWord). */
export function processWord(word: string, env: Env, escape = '\\'): string {
  return new Lexer(word, env, escape).words(false)[0] ?? '';
}

/** Several words: split at unquoted whitespace, then expanded (ProcessWords). */
export function processWords(text: string, env: Env, escape = '\\'): string[] {
  return new Lexer(text, env, escape).words(true);
}

/**
 * Splits at unquoted whitespace keeping quotes and escapes in the words (moby's parseWords), for
 * the `key=value` lists of ENV, LABEL and ARG, whose values are then expanded one by one.
 */
export function splitWords(text: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!quote && /\s/.test(c)) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    if (c === escape && quote !== "'" && i + 1 < text.length) { cur += c + text[++i]; continue; }
    if (quote && c === quote) quote = '';
    else if (!quote && (c === '"' || c === "'")) quote = c;
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * `k=v k2="v 2"` pairs, or the legacy `k v w` form (one pair, the value the rest of the line),
 * values expanded (ENV, LABEL). `what` names the instruction in errors.
 */
export function keyValues(what: string, text: string, env: Env, escape = '\\'): Array<[string, string]> {
  const ws = splitWords(text, escape);
  if (ws.length === 0) throw new ShellLexError(`${what} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    if (ws.length < 2) throw new ShellLexError(`${what} must have two arguments`);
    const value = text.trim().slice(ws[0]!.length).trim();
    return [[processWord(ws[0]!, env, escape), processWord(value, env, escape)]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) throw new ShellLexError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    const key = processWord(w.slice(0, i), env, escape);
    if (!key) throw new ShellLexError(`${what} names can not be blank`);
    return [key, processWord(w.slice(i + 1), env, escape)];
  });
}
