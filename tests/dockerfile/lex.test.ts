import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { isLayerkitError } from '../../src/errors.js';
import { expandWord, expandWords, type ExpandOptions } from '../../src/dockerfile/index.js';

function expansionError(word: string, env: Record<string, string> = {}, options: ExpandOptions = {}): string {
  try {
    expandWord(word, env, options);
  } catch (err) {
    if (isLayerkitError(err, 'ERR_DOCKERFILE_EXPANSION')) return err.message;
    throw err;
  }
  throw new Error(`expected ${word} to fail`);
}

describe('expandWord: modifiers, unset versus empty', () => {
  const env = { SET: 'xxx', EMPTY: '' };
  it.each([
    ['${SET-a} ${EMPTY-b} ${NONE-c}', 'xxx  c', ['SET', 'EMPTY', 'NONE'], ['NONE']],
    ['${SET:-a} ${EMPTY:-b} ${NONE:-c}', 'xxx b c', ['SET', 'EMPTY', 'NONE'], ['NONE']],
    ['${SET+a} ${EMPTY+b} ${NONE+c}', 'a b ', ['SET', 'EMPTY', 'NONE'], ['NONE']],
    ['${SET:+a} ${EMPTY:+b} ${NONE:+c}', 'a  ', ['SET', 'EMPTY', 'NONE'], ['NONE']],
    ['${SET?x} ${EMPTY?y}', 'xxx ', ['SET', 'EMPTY'], []],
    ['${SET:?x}', 'xxx', ['SET'], []],
    ['$SET$EMPTY$NONE', 'xxx', ['SET', 'EMPTY', 'NONE'], ['NONE']],
    ['${NONE:-${SET}}', 'xxx', ['SET', 'NONE'], ['NONE']],
    ['${SET:+${NONE:-in}}', 'in', ['SET', 'NONE'], ['NONE']],
    ['plain', 'plain', [], []],
    ['$1 ${1:-one} $@ $$ $#x', ' one   x', ['1', '@', '$', '#'], ['1', '@', '$', '#']],
    ['$ $. ${SET}.$SET-x', '$ $. xxx.xxx-x', ['SET'], []],
  ])('%s → %j', (word, value, used, unset) => {
    const r = expandWord(word, env);
    expect(r.value).toBe(value);
    expect([...r.used].sort()).toEqual([...used].sort());
    expect([...r.unset].sort()).toEqual([...unset].sort());
  });

  it('names are Unicode letters, digits and underscores', () => {
    expect(expandWord('$é_1x-$日本', { é_1x: 'A', 日本: 'B' }).value).toBe('A-B');
  });

  it('accepts a Map, an object (own keys only) or a function', () => {
    expect(expandWord('$a', new Map([['a', '1']])).value).toBe('1');
    expect(expandWord('[$constructor][$toString]', {}).value).toBe('[][]');
    expect(expandWord('$a$b', (n) => (n === 'a' ? 'A' : undefined)).value).toBe('A');
  });
});

describe('expandWord: patterns', () => {
  it.each([
    ['${V#*/}', 'a/b/c', 'b/c'],
    ['${V##*/}', 'a/b/c', 'c'],
    ['${V%/*}', 'a/b/c', 'a/b'],
    ['${V%%/*}', 'a/b/c', 'a'],
    ['${V#x}', 'a/b/c', 'a/b/c'],
    ['${V#}', 'abc', 'abc'],
    ['${V#?\\?}', '???y', '?y'],
    ['${V%%\\**}', 'xx**', 'xx'],
    ['${V#()[]{\\}^$.\\*\\?|\\\\}', '()[]{}^$.*?|\\x', 'x'],
    ['${V/o/0}', 'foo', 'f0o'],
    ['${V//o/0}', 'foo', 'f00'],
    ['${V//\\//\\/}', '/a/b', '\\/a\\/b'],
    ['${V/x/y}', 'foo', 'foo'],
    ['${V///}', 'foo', 'foo'],
    ['${V//o/[$0]}', 'foo', 'f[][]'], // $0 is expanded (unset) before the replacement is used
    ['${V/*/-}', 'foo', '-'],
    ['${V//?/-}', 'héé', '---'],
    ['${V%é}', 'aé', 'a'],
  ])('%s with V=%j → %j', (word, v, expected) => {
    expect(expandWord(word, { V: v }).value).toBe(expected);
  });

  it("a replacement coming from a variable goes through Go's template expansion ($0, $$)", () => {
    expect(expandWord('${V//o/$R}', { V: 'foo', R: '[$0]' }).value).toBe('f[o][o]');
    expect(expandWord('${V//o/$R}', { V: 'foo', R: '$$' }).value).toBe('f$$');
    expect(expandWord('${V//o/$R}', { V: 'foo', R: '$00|${0}|$x|${' }).value).toBe('f|o||${|o||${');
    expect(expandWord('${V/o/$R}', { V: 'foo', R: '[$0]' }).value).toBe('f[$0]o');
  });

  it('pattern operators on an unset variable give the empty string', () => {
    expect(expandWord('[${U#a}${U%b}${U/c/d}${U//e/f}]', {}).value).toBe('[]');
  });
});

describe('expandWord: quotes and escapes', () => {
  it.each<[string, string, ExpandOptions]>([
    ['"a b" \'c $X\'', 'a b c $X', {}],
    ['a\\ b\\$X', 'a b$X', {}],
    ['"a\\tb" "\\$X" "\\"" "\\\\"', 'a\\tb $X " \\', {}],
    ['a`$X b', 'a$X b', { escapeToken: '`' }],
    ['"a\\b`"c"', 'a\\b"c', { escapeToken: '`' }],
    ['"q" \'s\'', '"q" \'s\'', { rawQuotes: true }],
    ['a\\ b', 'a\\ b', { rawEscapes: true }],
    ['$U ${U} ${U:-d} ${U/a/b} $X', '$U ${U} ${U:-d} ${U/a/b} 1', { skipUnsetEnv: true }],
    ['"$X" \'$X\'', '"1" \'1\'', { skipProcessQuotes: true }],
  ])('%j with %j', (word, expected, options) => {
    expect(expandWord(word, { X: '1' }, options).value).toBe(expected);
  });
});

describe("expandWord: errors carry BuildKit's message", () => {
  it.each([
    ['${U:?}', 'U: is not allowed to be unset'],
    ['${E:?}', 'E: is not allowed to be empty'],
    ['${U?custom $X}', 'U: custom 1'],
    ['${E:?must be set}', 'E: must be set'],
    ['${', "syntax error: missing '}'"],
    ['${X', "syntax error: missing '}'"],
    ['${X:-abc', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${:-a}', 'syntax error: bad substitution'],
    ['${{a}', 'syntax error: bad substitution'],
    ['${X:=a}', 'unsupported modifier (:=) in substitution'],
    ['${X=a}', 'unsupported modifier (=) in substitution'],
    ['${X:#a}', 'unsupported modifier (:#) in substitution'],
    ['${X:%%a}', 'unsupported modifier (:%) in substitution'],
    ['${X//a}', "syntax error: missing '/' in ${}"],
    ['${X#\\x}', "invalid pattern (\\x) in substitution: invalid escape '\\x'"],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
  ])('%s', (word, reason) => {
    expect(expansionError(word, { X: '1', E: '' })).toBe(`failed to process ${JSON.stringify(word)}: ${reason}`);
  });
});

describe('expandWords: field splitting', () => {
  it.each([
    ['a  b', {}, ['a', 'b']],
    ['$V', { V: ' x  y ' }, ['x', 'y']],
    ['"$V"', { V: ' x  y ' }, [' x  y ']],
    ['p$V', { V: 'x y' }, ['px', 'y']],
    ['"a b"c d', {}, ['a bc', 'd']],
    ['""', {}, []],
    ['<<  EOF > f', {}, ['<<  EOF', '>', 'f']],
    ['80/tcp $PORTS', { PORTS: '1 2' }, ['80/tcp', '1', '2']],
  ])('%j with %j', (word, env, expected) => {
    expect(expandWords(word, env).words).toEqual(expected);
  });

  it("keeps BuildKit's shared-buffer quirk: a nested ${x:-y} drops what its word had gathered", () => {
    expect(expandWords('ab${x:-y} c', {}).words).toEqual(['y', 'c']);
    expect(expandWord('ab${x:-y} c', {}).value).toBe('aby c');
  });
});

/** BuildKit's approach, as a test oracle: the pattern as a backtracking regexp (fine for short inputs). */
function oracleRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? '^' : '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') out += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (c === '?') out += '[^\\n]';
    else if (c === '\\') out += `\\${chars[++i] as string}`;
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

describe("pattern matching agrees with BuildKit's regexp semantics", () => {
  const patternArb = fc
    .array(fc.constantFrom('a', 'b', '*', '?', '\\*', 'ab', '\n'), { maxLength: 5 })
    .map((p) => p.join(''));
  const valueArb = fc.array(fc.constantFrom('a', 'b', '*', 'x', '\n', 'é'), { maxLength: 8 }).map((v) => v.join(''));
  const rev = (s: string): string => [...s].reverse().join('');

  test.prop([patternArb, valueArb])('#, ##, /, //', (pattern, v) => {
    for (const greedy of [false, true]) {
      const m = oracleRegExp(pattern, greedy, true).exec(v);
      const expected = m === null ? v : v.slice(m[0].length);
      expect(expandWord(`\${V${greedy ? '##' : '#'}${pattern}}`, { V: v }).value).toBe(expected);
    }
    if (pattern === '') return; // `${V//<>}` would be the replace-all form
    const first = oracleRegExp(pattern, true, false).exec(v);
    const replaced = first === null ? v : `${v.slice(0, first.index)}<>${v.slice(first.index + first[0].length)}`;
    expect(expandWord(`\${V/${pattern}/<>}`, { V: v }).value).toBe(replaced);
  });

  test.prop([patternArb.filter((p) => !p.includes('\\')), valueArb])('%, %%', (pattern, v) => {
    for (const greedy of [false, true]) {
      const m = oracleRegExp(rev(pattern), greedy, true).exec(rev(v));
      const expected = m === null ? v : rev(rev(v).slice(m[0].length));
      expect(expandWord(`\${V${greedy ? '%%' : '%'}${pattern}}`, { V: v }).value).toBe(expected);
    }
  });

  it('stays linear where a backtracking regexp would not finish', () => {
    const started = Date.now();
    const v = 'a'.repeat(3000);
    expect(expandWord(`\${V#${'*'.repeat(300)}x}`, { V: v }).value).toBe(v);
    expect(expandWord(`\${V//${'*a'.repeat(40)}x/y}`, { V: v }).value).toBe(v);
    expect(expandWord(`\${V%%${'?*'.repeat(40)}}`, { V: v }).value).toBe('');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('properties', () => {
  const plain = fc.stringMatching(/^[A-Za-z0-9_./:,=+@%-]*$/);
  const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
  const value = fc.string({ maxLength: 12 });

  test.prop([plain])('text without $, quotes, escapes or blanks is unchanged', (s) => {
    const r = expandWord(s, {});
    expect(r.value).toBe(s);
    expect(r.used.size).toBe(0);
  });

  test.prop([envName, value])('${NAME} gives the value verbatim and reports the name', (name, v) => {
    const r = expandWord(`\${${name}}`, { [name]: v });
    expect(r.value).toBe(v);
    expect([...r.used]).toEqual([name]);
    expect(r.unset.size).toBe(0);
  });

  test.prop([value])('single-quoting any quote-free text gives it back literally', (s) => {
    fc.pre(!s.includes("'"));
    expect(expandWord(`'${s}'`, { X: 'never' }).value).toBe(s);
  });

  test.prop([fc.string({ maxLength: 12 })])('escaping every character gives the text back', (s) => {
    const escaped = [...s].map((c) => `\\${c}`).join('');
    expect(expandWord(escaped, {}).value).toBe(s);
  });

  test.prop([envName, value, value])('${V:-w} is w exactly when V is unset or empty', (name, v, w) => {
    fc.pre(!/[$'"\\}]/.test(w));
    const r = expandWord(`\${${name}:-${w}}`, { [name]: v }).value;
    expect(r).toBe(v === '' ? w : v);
  });

  test.prop([fc.string({ maxLength: 30 }), fc.dictionary(envName, value, { maxKeys: 3 })])(
    'any input either expands or throws ERR_DOCKERFILE_EXPANSION, never anything else',
    (word, env) => {
      for (const opts of [
        {},
        { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true },
        { escapeToken: '`' as const },
      ]) {
        try {
          expandWord(word, env, opts);
          expandWords(word, env, opts);
        } catch (err) {
          expect(isLayerkitError(err, 'ERR_DOCKERFILE_EXPANSION')).toBe(true);
        }
      }
    },
  );
});
