/**
 * Expansion tables in the style of POSIX conformance tests: each script prints its fields as
 * `<field>` so that splitting, quoting and globbing are visible.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { shellQuote } from '../../src/shell/expand.js';
import { makeFs, run } from './helpers.js';

const fields = 'f() { for a in "$@"; do printf \'<%s>\' "$a"; done; echo; }; ';

async function out(script: string, options: Parameters<typeof run>[1] = {}): Promise<string> {
  const r = await run(fields + script, options);
  expect(r.stderr).toBe('');
  return r.stdout;
}

describe('quoting', () => {
  it.each([
    [`f 'a  b' "c  d" e\\ \\ f`, '<a  b><c  d><e  f>\n'],
    [`f '' "" x`, '<><><x>\n'],
    [`f a'b'"c"\\d`, '<abcd>\n'],
    [`f '$x' "\\$x" \\$x`, '<$x><$x><$x>\n'],
    [`f "a\\"b" 'a"b' "a'b"`, `<a"b><a"b><a'b>\n`],
    [`f "\\a\\\\b"`, '<\\a\\b>\n'],
    [`f "$(echo '"')"`, '<">\n'],
    [`f "\`echo a\\\\\\\\b\`"`, '<a\\b>\n'],
    [`f a\\\nb`, '<ab>\n'],
    [`f '#' a#b`, '<#><a#b>\n'],
  ])('%s', async (script, expected) => {
    expect(await out(script)).toBe(expected);
  });
});

describe('field splitting', () => {
  it.each([
    [`x='a  b'; f $x "$x"`, '<a><b><a  b>\n'],
    [`x=' a b '; f x\${x}y`, '<x><a><b><y>\n'],
    [`IFS=:; x='a::b:'; f $x`, '<a><><b>\n'],
    [`IFS=': '; x='a : b'; f $x`, '<a><b>\n'],
    [`IFS=; x='a b'; f $x`, '<a b>\n'],
    [`x=; f $x "$x" \${x}`, '<>\n'],
    [`x='*'; f $x "$x"`, '<etc><tmp><*>\n'],
    [`set -- 'a b' c; f "$@"; f $@; f "$*"; f $*`, '<a b><c>\n<a><b><c>\n<a b c>\n<a><b><c>\n'],
    [`set --; f "$@"; f "x$@y"; f "$*"`, '\n<xy>\n<>\n'],
    [`set -- a b; IFS=-; f "$*"; IFS=; f "$*"`, '<a-b>\n<ab>\n'],
    [`set -- '' ''; f "$@"; f $@`, '<><>\n\n'],
    [`set -- a b; f "pre$@post"`, '<prea><bpost>\n'],
    [`f $(printf 'a\\nb\\n\\n')`, '<a><b>\n'],
    [`f "$(printf 'a\\n\\n\\n')"`, '<a>\n'],
    [`f "$(printf '\\n\\nx\\n')"`, '<\n\nx>\n'],
    [`x=1; f $((x+1))0`, '<20>\n'],
  ])('%s', async (script, expected) => {
    expect(await out(script)).toBe(expected);
  });
});

describe('parameter expansion', () => {
  it.each([
    [`unset u; f "\${u-a b}" "\${u:-c}" "\${u+x}" "\${u:+y}"`, '<a b><c><><>\n'],
    [`e=; f "\${e-a}" "\${e:-b}" "\${e+c}" "\${e:+d}"`, '<><b><c><>\n'],
    [`f "\${n=one}" "$n" "\${m:=two}" "$m"`, '<one><one><two><two>\n'],
    [
      `x=a/b/c.tar.gz; f \${x#*/} \${x##*/} \${x%.*} \${x%%.*} \${#x}`,
      '<b/c.tar.gz><c.tar.gz><a/b/c.tar><a/b/c><12>\n',
    ],
    [`x='a*b'; f "\${x#a\\*}" "\${x#"a*"}" "\${x#a*}"`, '<b><b><*b>\n'],
    [`x=abc; f "\${x:-"q r"}" "\${u:-"q r"}" \${u:-'s t'}`, '<abc><q r><s t>\n'],
    [`f "\${u:-'lit'}" "\${u:-\\}}"`, `<'lit'><}>\n`],
    [`x=hello; f \${x/l/L} \${x//l/L} \${x/#h/H} \${x/%o/O} \${x/z/Z}`, '<heLlo><heLLo><Hello><hellO><hello>\n'],
    [`x=hello; f \${x:1} \${x:1:3} \${x: -2} \${x:1:-1}`, '<ello><ell><lo><ell>\n'],
    [`set -- a b c d e f g h i j; f \${10} $10`, '<j><a0>\n'],
    [`f "\${#}" "\${#u}"`, '<0><0>\n'],
    [`x=ä€; f \${#x}`, '<2>\n'],
  ])('%s', async (script, expected) => {
    expect(await out(script)).toBe(expected);
  });

  it.each([
    ['echo ${u?}', 'sh: u: parameter not set\n'],
    ['e=; echo ${e:?}', 'sh: e: parameter null or not set\n'],
    ['echo ${u:?custom $HOME}', 'sh: u: custom /root\n'],
    ['set -u; echo $u', 'sh: u: parameter not set\n'],
    ['echo $((1/0))', 'sh: arithmetic: divide by zero: "1/0"\n'],
    ['echo $((1+))', 'sh: arithmetic: syntax error: unexpected end of expression: "1+"\n'],
  ])('%s is fatal', async (script, stderr) => {
    const r = await run(`${script}; echo not reached`);
    expect(r).toEqual({ stdout: '', stderr, exitCode: 2 });
  });

  it('set -u accepts $@, $* and defaults', async () => {
    const r = await run('set -u; echo "[$@][$*]" ${u-d} ${u:+x}');
    expect(r).toEqual({ stdout: '[][] d\n', stderr: '', exitCode: 0 });
  });
});

describe('arithmetic', () => {
  it.each([
    ['1+2*3', '7'],
    ['(1+2)*3', '9'],
    ['7/2', '3'],
    ['-7/2', '-3'],
    ['7%3', '1'],
    ['2**10', '1024'],
    ['1<2', '1'],
    ['2<=1', '0'],
    ['3==3', '1'],
    ['3!=3', '0'],
    ['!0', '1'],
    ['~5', '-6'],
    ['5&3', '1'],
    ['5|3', '7'],
    ['5^3', '6'],
    ['1<<4', '16'],
    ['-16>>2', '-4'],
    ['0 && 1/0', '0'],
    ['1 || 1/0', '1'],
    ['1 ? 2 : 3', '2'],
    ['0 ? 2 : 3', '3'],
    ['010 + 0x10 + 2#101', '29'],
    ['x', '5'],
    ['$x * 2', '10'],
    ['y', '0'],
    ['x += 2, x', '7'],
    ['9223372036854775807 + 1', '-9223372036854775808'],
  ])('$((%s))', async (expr, value) => {
    const r = await run(`x=5; echo $((${expr}))`);
    expect(r.stdout).toBe(`${value}\n`);
  });

  it('updates variables with ++, -- and assignment operators', async () => {
    const r = await run('i=1; echo $((i++)) $i $((++i)) $((i--)) $((i*=3)) $i; z=2+3; echo $((z*2))');
    expect(r.stdout).toBe('1 2 3 3 6 6\n10\n');
  });
});

describe('tilde', () => {
  it.each([
    ['echo ~', '/root\n'],
    ['echo ~/x', '/root/x\n'],
    ['echo ~appuser/x', '/home/appuser/x\n'],
    ['echo ~nosuchuser', '~nosuchuser\n'],
    ['echo "~" \\~ a~', '~ ~ a~\n'],
    ['x=~/y; echo $x', '/root/y\n'],
    ['HOME=/h; echo ~', '/h\n'],
  ])('%s', async (script, expected) => {
    expect((await run(script)).stdout).toBe(expected);
  });
});

describe('command substitution', () => {
  it('trims trailing newlines only, sets $?, nests and runs in a subshell', async () => {
    const r = await run(
      'x=$(printf "\\n a \\n\\n"); echo "[$x]"; y=$(exit 4); echo $?; echo $(echo $(echo deep)); v=1; z=$(v=2; echo $v); echo $v$z',
    );
    expect(r.stdout).toBe('[\n a ]\n4\ndeep\n12\n');
  });

  it('passes stderr through and reads stdin from the command', async () => {
    const r = await run('x=$(echo err >&2; echo out); echo "$x"');
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 0 });
  });
});

describe('pathname expansion against the filesystem', () => {
  const tree = {
    'w/b.txt': '',
    'w/a.txt': '',
    'w/C.txt': '',
    'w/.dot.txt': '',
    'w/d1/x.md': '',
    'w/d2/y.md': '',
    'w/[x].txt': '',
    'w/sp ace.txt': '',
  };

  it.each([
    ['f *.txt', '<C.txt><[x].txt><a.txt><b.txt><sp ace.txt>\n'],
    ['f .*', '<.><..><.dot.txt>\n'],
    ['f ?.txt', '<C.txt><a.txt><b.txt>\n'],
    ['f [ab].txt', '<a.txt><b.txt>\n'],
    ['f [!ab].txt', '<C.txt>\n'],
    ['f [^a-z].txt', '<C.txt>\n'],
    ['f *[[:upper:]]*', '<C.txt>\n'],
    ['f \\[x\\].txt', '<[x].txt>\n'],
    ['f */*.md', '<d1/x.md><d2/y.md>\n'],
    ['f */', '<d1/><d2/>\n'],
    ['f /w/d*/', '</w/d1/></w/d2/>\n'],
    ['f nomatch*', '<nomatch*>\n'],
    ['f "*.txt" \'*\'.txt \\*.txt', '<*.txt><*.txt><*.txt>\n'],
    ['x="*.md"; f d1/$x "d1/$x"', '<d1/x.md><d1/*.md>\n'],
    ['set -f; f *.txt', '<*.txt>\n'],
    ['f sp*', '<sp ace.txt>\n'],
    ['f d1/../d2/*', '<d1/../d2/y.md>\n'],
    ['f [', '<[>\n'],
  ])('%s', async (script, expected) => {
    const fs = await makeFs(tree);
    expect(await out(script, { fs, cwd: '/w' })).toBe(expected);
  });

  it('matches case patterns with the same rules, quoted parts literal', async () => {
    const r = await run(
      'for w in a.c "*" ab "[x]" .h; do case $w in "*") echo star;; \\[*) echo br;; *.c) echo c;; a?) echo a2;; .*) echo dot;; esac; done',
    );
    expect(r.stdout).toBe('c\nstar\na2\nbr\ndot\n');
  });
});

describe('quoting round trip', () => {
  test.prop([fc.string({ maxLength: 20 })], { numRuns: 60 })(
    'printf %s of a shell-quoted string gives it back',
    async (s) => {
      const clean = s.replace(/\0/g, '');
      const r = await run(`printf '%s' ${shellQuote(clean)}`);
      expect(r.stdout).toBe(clean);
    },
  );
});
