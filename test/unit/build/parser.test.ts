/** Data-driven cases for the Dockerfile parser and Docker's word lexer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../../src/engine/build/parser.js';
import { keyValues, processWord, processWords } from '../../../src/engine/build/shell-lex.js';

const env = new Map([['A', 'a'], ['EMPTY', ''], ['SP', 'x y'], ['B', 'bee']]);

const WORDS: Array<[string, string]> = [
  ['plain', 'plain'],
  ['$A', 'a'],
  ['${A}', 'a'],
  ['pre${A}post', 'preapost'],
  ['$A$B', 'abee'],
  ["'$A'", '$A'],
  ['"$A"', 'a'],
  ['"\\$A"', '$A'],
  ['\\$A', '$A'],
  ['${NOPE:-dflt}', 'dflt'],
  ['${EMPTY:-dflt}', 'dflt'],
  ['${EMPTY-dflt}', ''],
  ['${NOPE-dflt}', 'dflt'],
  ['${A:-dflt}', 'a'],
  ['${A:+alt}', 'alt'],
  ['${EMPTY:+alt}', ''],
  ['${EMPTY+alt}', 'alt'],
  ['${NOPE:+alt}', ''],
  ['${NOPE:-${A}x}', 'ax'],
  ['${A:-"q u"}', 'a'],
  ['$', '$'],
  ['a$', 'a$'],
  ['$1x', 'x'],
  ['"a b"c', 'a bc'],
  ['"say \\"hi\\""', 'say "hi"'],
  ['"back\\slash"', 'back\\slash'],
  ['$NOPE', ''],
];

for (const [input, want] of WORDS) {
  test(`processWord ${JSON.stringify(input)}`, () => assert.equal(processWord(input, env), want));
}

test('processWord with the backtick escape', () => assert.equal(processWord('`$A', env, '`'), '$A'));

const WORD_LISTS: Array<[string, string[]]> = [
  ['a b  c', ['a', 'b', 'c']],
  ['"a b" c', ['a b', 'c']],
  ['$SP z', ['x', 'y', 'z']],
  ['"$SP" z', ['x y', 'z']],
  ['$EMPTY z', ['z']],
  ['""', ['']],
];
for (const [input, want] of WORD_LISTS) {
  test(`processWords ${JSON.stringify(input)}`, () => assert.deepEqual(processWords(input, env), want));
}

const LEX_ERRORS: Array<[string, RegExp]> = [
  ['"open', /matching double-quote/],
  ["'open", /matching single-quote/],
  ['${A', /missing '}'/],
  ['${NOPE:?must be set}', /NOPE: must be set/],
  ['${A%x}', /unsupported modifier/],
];
for (const [input, want] of LEX_ERRORS) {
  test(`processWord error ${JSON.stringify(input)}`, () => assert.throws(() => processWord(input, env), want));
}

test('keyValues: pairs, quotes, legacy form', () => {
  assert.deepEqual(keyValues('ENV', 'X=1 Y="two words" Z=$A', env), [['X', '1'], ['Y', 'two words'], ['Z', 'a']]);
  assert.deepEqual(keyValues('ENV', 'X one two  three', env), [['X', 'one two  three']]);
  assert.deepEqual(keyValues('LABEL', '"my key"=v', env), [['my key', 'v']]);
  assert.throws(() => keyValues('ENV', 'X', env), /ENV must have two arguments/);
  assert.throws(() => keyValues('ENV', 'X=1 Y', env), /can't find = in "Y"/);
});

interface ParseCase { name: string; text: string; want: Array<Record<string, unknown>>; directives?: Record<string, string> }
const PARSES: ParseCase[] = [
  { name: 'instructions are case-insensitive; lines numbered', text: 'from busybox\n\nRun echo hi\n',
    want: [{ cmd: 'from', rest: 'busybox', startLine: 1 }, { cmd: 'run', rest: 'echo hi', startLine: 3 }] },
  { name: 'comments are skipped, also inside a continuation', text: '# c\nRUN a \\\n# inner\n  b\n',
    want: [{ cmd: 'run', rest: 'a   b', startLine: 2, endLine: 4 }] },
  { name: 'continuation with trailing blanks after the escape', text: 'RUN a \\  \n b',
    want: [{ cmd: 'run', rest: 'a  b' }] },
  { name: 'escape directive: backtick', text: '# escape=`\nFROM x\nRUN a `\n b\n',
    want: [{ cmd: 'from' }, { cmd: 'run', rest: 'a  b' }], directives: { escape: '`' } },
  { name: 'syntax directive is kept, a late one is a comment', text: '# syntax=docker/dockerfile:1\nFROM x\n# syntax=y\n',
    want: [{ cmd: 'from' }], directives: { syntax: 'docker/dockerfile:1' } },
  { name: 'JSON form', text: 'CMD ["echo", "a b"]',
    want: [{ cmd: 'cmd', json: ['echo', 'a b'] }] },
  { name: 'not JSON: shell form', text: 'CMD [echo, a]',
    want: [{ cmd: 'cmd', json: undefined, rest: '[echo, a]' }] },
  { name: 'flags', text: 'COPY --from=build --chown=1:2 /a /b',
    want: [{ cmd: 'copy', rest: '/a /b', flags: new Map([['from', 'build'], ['chown', '1:2']]) }] },
  { name: 'bare flag', text: 'COPY --link a b', want: [{ cmd: 'copy', flags: new Map([['link', true]]), rest: 'a b' }] },
  { name: 'heredoc', text: 'RUN <<EOF\necho $A\nEOF\nCMD x\n',
    want: [{ cmd: 'run', rest: '<<EOF', heredocs: [{ name: 'EOF', content: 'echo $A\n', expand: true }], endLine: 3 }, { cmd: 'cmd', startLine: 4 }] },
  { name: 'heredoc quoted, tabs stripped with <<-', text: 'COPY <<-"END" /f\n\tline\n\tEND\n',
    want: [{ cmd: 'copy', heredocs: [{ name: 'END', content: 'line\n', expand: false }] }] },
  { name: 'two heredocs', text: 'RUN cat <<A <<B\n1\nA\n2\nB\n',
    want: [{ cmd: 'run', heredocs: [{ name: 'A', content: '1\n', expand: true }, { name: 'B', content: '2\n', expand: true }] }] },
  { name: 'CRLF line ends', text: 'FROM x\r\nRUN y\r\n', want: [{ cmd: 'from', rest: 'x' }, { cmd: 'run', rest: 'y' }] },
];
for (const c of PARSES) {
  test(`parse: ${c.name}`, () => {
    const df = parseDockerfile(c.text);
    assert.equal(df.nodes.length, c.want.length);
    c.want.forEach((w, i) => {
      const n = df.nodes[i] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(w)) assert.deepEqual(n[k], v, `${k} of node ${i}`);
    });
    if (c.directives) assert.deepEqual(Object.fromEntries(df.directives), c.directives);
  });
}

const PARSE_ERRORS: Array<[string, string, RegExp]> = [
  ['unknown instruction', 'FROM x\nFOO bar\n', /dockerfile parse error on line 2: unknown instruction: FOO$/],
  ['unknown flag', 'FROM x\n\nCOPY --nope=1 a b\n', /line 3: Unknown flag: nope/],
  ['unterminated heredoc', 'FROM x\nRUN <<EOF\necho\n', /line 2: unterminated heredoc EOF/],
  ['bad escape', '# escape=x\nFROM x\n', /invalid escape token 'x'/],
  ['directive twice', '# escape=\\\n# escape=`\nFROM x\n', /line 2: only one escape parser directive/],
];
for (const [name, text, want] of PARSE_ERRORS) {
  test(`parse error: ${name}`, () => assert.throws(() => parseDockerfile(text), want));
}
