/**
 * `.dockerignore` as Docker reads and applies it (moby/patternmatcher and docker/cli's ignorefile,
 * read for their rules): one pattern a line, `#` comments, blanks trimmed, `!` re-includes, paths
 * cleaned (`./a`, `/a` and `a/` are `a`); `*` and `?` do not cross `/`, `**` crosses any number of
 * directories, `[...]` classes and `\` escapes as Go's filepath.Match. A path is excluded when the
 * last pattern matching it, or one of its parent directories, is not a `!` one.
 */

export interface IgnorePattern {
  text: string;
  exclusion: boolean;
  re: RegExp;
}

/** filepath.Clean for slash paths, relative result ('' for the root). */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!p.startsWith('/')) out.push('..'); continue; }
    out.push(part);
  }
  return out.join('/');
}

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        // `**` at the end matches everything below; `**/` any number of leading directories.
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
        if (i + 1 >= pattern.length) continue;
        continue;
      }
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '\\') {
      i++;
      re += i < pattern.length ? pattern[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : '\\\\';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`syntax error in pattern ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replace(/\\(?!\])/g, '\\\\') + ']';
      i = end;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(re + '$', 's');
}

/** The patterns of a .dockerignore file's text. */
export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (!line) continue;
    let exclusion = false;
    if (line.startsWith('!')) { exclusion = true; line = line.slice(1).trim(); }
    const text = cleanPath(line);
    if (!text) continue;
    out.push({ text, exclusion, re: compile(text) });
  }
  return out;
}

/** Whether `path` (relative to the context) is left out: MatchesOrParentMatches. */
export function isIgnored(path: string, patterns: readonly IgnorePattern[]): boolean {
  const file = cleanPath(path);
  const parents: string[] = [];
  const parts = file.split('/');
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
  let matched = false;
  for (const p of patterns) {
    if (p.exclusion !== matched) continue; // only a pattern of the other kind can change the answer
    if (p.re.test(file) || parents.some((d) => p.re.test(d))) matched = !p.exclusion;
  }
  return matched;
}

/**
 * Whether a directory excluded itself may still hold re-included files (a `!` pattern below it):
 * then it must be walked, as docker/cli does.
 */
export function mayReinclude(dir: string, patterns: readonly IgnorePattern[]): boolean {
  const d = cleanPath(dir);
  return patterns.some((p) => p.exclusion && (p.text.startsWith(d + '/') || /[*?[\\]/.test(p.text)));
}
