/**
 * Bounded regular expressions for `name`/`id` list filters (dockerd's filters.Match).
 *
 * dockerd compiles these with Go's RE2, which runs in linear time; JavaScript's engine backtracks,
 * so a pattern such as `(a+)+$` against `aaaa…b` would stall the daemon's event loop. Three bounds:
 *  1. a pattern longer than MAX_PATTERN_LENGTH is refused (400 naming the filter);
 *  2. a repeated group that itself repeats (`(a+)+`, `(a*)*`, `(?:x{2,})*` — star height above
 *     one, the classic exponential case) is refused, and so is a pattern with more than
 *     MAX_CHOICES variable repeats and alternatives together: V8 compiles an expression before it
 *     runs, uninterruptibly, and that compile grows exponentially with chains of optional
 *     alternatives (`(?:a|b)?` × 20 takes seconds, × 12 already 12 ms);
 *  3. any other pattern that could still backtrack far (more than two variable repeats, a repeated
 *     group with alternatives, a back-reference or lookaround) or a value longer than
 *     SIMPLE_VALUE_LENGTH runs inside a `vm` context with a time limit per value and a total
 *     budget shared by every value one filter is matched against; hitting either is a 400 too.
 *     Simple patterns (most: `^web`, `foo.*bar`, `(-[0-9])+`) run directly. (A `vm` call with a
 *     timeout costs ~0.3 ms, hence the direct path, and the budget counts that cost.)
 * A pattern that does not compile matches nothing but its own text, as in dockerd.
 */
import vm from 'node:vm';
import { InvalidParameterError } from './errors.js';

export const MAX_PATTERN_LENGTH = 256;
/** Variable repeats (`?`, `*`, `+`, `{m,n}`) plus alternatives (`|`) one pattern may hold. */
export const MAX_CHOICES = 16;
/** Time one value may take against one field on the budgeted path, in ms. */
export const PATTERN_CALL_MS = 25;
/** Total time one filter value may use over a whole list on the budgeted path, in ms. */
export const PATTERN_BUDGET_MS = 1000;
/** Values up to this length are matched directly by simple patterns (at most O(n³) steps). */
const SIMPLE_VALUE_LENGTH = 256;

export type PatternMatcher = (value: string) => boolean;

interface Shape {
  /** Why the pattern is refused outright, if it is. */
  refuse?: string;
  /** Whether a plain RegExp.test is bounded enough for short values. */
  simple: boolean;
}

/** Reads a quantifier at s[i]; returns its length and whether it repeats more than once / varies. */
function quantifierAt(s: string, i: number): { len: number; repeats: boolean; varies: boolean } | null {
  const c = s[i];
  let len: number;
  let repeats: boolean;
  let varies: boolean;
  if (c === '*' || c === '+') { len = 1; repeats = true; varies = true; }
  else if (c === '?') { len = 1; repeats = false; varies = true; }
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i));
    if (!m) return null; // a literal '{'
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    len = m[0].length; repeats = max > 1; varies = max > min;
  } else return null;
  if (s[i + len] === '?') len++; // lazy
  return { len, repeats, varies };
}

/** Classifies a pattern by a single scan (escapes, classes, groups, quantifiers). */
export function patternShape(p: string): Shape {
  // One frame per open group: whether something inside it repeats, whether it has alternatives.
  const stack: Array<{ inner: boolean; alt: boolean }> = [{ inner: false, alt: false }];
  let varying = 0;
  let choices = 0;
  let risky = false;
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    const top = stack[stack.length - 1]!;
    let atomEnd = i + 1;
    let group: { inner: boolean; alt: boolean } | undefined;
    if (c === '\\') {
      if (/[1-9k]/.test(p[i + 1] ?? '')) risky = true; // back-reference
      atomEnd = i + 2;
    } else if (c === '[') {
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
      atomEnd = j + 1;
    } else if (c === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(p.slice(i))) risky = true; // lookaround
      stack.push({ inner: false, alt: false });
      i++;
      continue;
    } else if (c === '|') {
      top.alt = true;
      choices++;
      i++;
      continue;
    } else if (c === ')' && stack.length > 1) {
      group = stack.pop()!;
    }
    const outer = stack[stack.length - 1]!;
    const q = quantifierAt(p, atomEnd);
    if (q) {
      if (group && q.repeats) {
        if (group.inner) return { refuse: 'nested quantifiers can backtrack exponentially', simple: false };
        if (group.alt) risky = true; // repeated alternatives may overlap: (a|a)+
      }
      if (q.varies) varying++;
      if (q.repeats || q.varies) outer.inner = true;
      atomEnd += q.len;
    }
    if (group?.inner) outer.inner = true;
    if (group?.alt) outer.alt = true;
    i = atomEnd;
  }
  if (varying + choices > MAX_CHOICES) {
    return { refuse: `more than ${MAX_CHOICES} repetitions and alternatives`, simple: false };
  }
  return { simple: !risky && varying <= 2 };
}

const sandbox = vm.createContext({ re: /$^/, value: '' });
const budgetedTest = new vm.Script('re.test(value)');

function refusal(key: string, pattern: string, why: string): InvalidParameterError {
  const shown = pattern.length > 64 ? `${pattern.slice(0, 64)}…` : pattern;
  return new InvalidParameterError(`invalid filter '${key}=${shown}': ${why}`);
}

/**
 * Checks `pattern` for the filter `key` (400 when refused) and returns its matcher: the value
 * equals the pattern, or the expression matches part of it.
 */
export function compilePattern(key: string, pattern: string): PatternMatcher {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw refusal(key, pattern, `regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  const shape = patternShape(pattern);
  if (shape.refuse) throw refusal(key, pattern, shape.refuse);
  let re: RegExp | null;
  try {
    re = new RegExp(pattern);
  } catch {
    re = null; // not an expression (dockerd ignores the compile error): only the exact value matches
  }
  let spentMs = 0;
  return (value) => {
    if (value === pattern) return true;
    if (!re) return false;
    if (shape.simple && value.length <= SIMPLE_VALUE_LENGTH) return re.test(value);
    const left = PATTERN_BUDGET_MS - spentMs;
    if (left <= 0) throw refusal(key, pattern, 'regular expression takes too long to match');
    const t0 = performance.now();
    try {
      sandbox.re = re;
      sandbox.value = value;
      return budgetedTest.runInContext(sandbox, { timeout: Math.max(1, Math.ceil(Math.min(left, PATTERN_CALL_MS))) }) as boolean;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        spentMs = PATTERN_BUDGET_MS;
        throw refusal(key, pattern, 'regular expression takes too long to match');
      }
      throw e;
    } finally {
      spentMs += performance.now() - t0;
      sandbox.re = null;
      sandbox.value = '';
    }
  };
}
