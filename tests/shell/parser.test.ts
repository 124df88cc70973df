/** Parser tables: source → canonical printed form, word parts, heredocs and syntax errors. */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { parseScript, printScript, ShellSyntaxError } from '../../src/shell/index.js';
import type { SimpleCommand, WordPart } from '../../src/shell/index.js';

const print = (source: string): string => printScript(parseScript({ source }));

describe('printed form', () => {
  it.each([
    ['echo   hi', 'echo hi'],
    ['a&&b||c', 'a && b || c'],
    ['a | b | c', 'a | b | c'],
    ['! a | b', '! a | b'],
    ['a; b\nc', 'a; b; c'],
    ['a & b', 'a & b'],
    ['a &', 'a &'],
    ['(a; b)', '(a; b)'],
    ['{ a; b; }', '{ a; b; }'],
    ['if a; then b; elif c; then d; else e; fi', 'if a; then b; elif c; then d; else e; fi'],
    ['if a\nthen\n  b\nfi', 'if a; then b; fi'],
    ['for x in 1 2; do echo $x; done', 'for x in 1 2; do echo $x; done'],
    ['for x do echo $x; done', 'for x do echo $x; done'],
    ['for x\ndo\necho\ndone', 'for x do echo; done'],
    ['while a; do b; done', 'while a; do b; done'],
    ['until a; do b; done', 'until a; do b; done'],
    ['case $x in a|b) echo ab;; (*) echo other;; esac', 'case $x in a|b) echo ab;; *) echo other;; esac'],
    ['case x in\n  a) ;;\nesac', 'case x in a) ;; esac'],
    ['case x in a) echo a\nesac', 'case x in a) echo a;; esac'],
    ['f() { echo f; }', 'f() { echo f; }'],
    ['f ()\n{\n  echo f\n}', 'f() { echo f; }'],
    ['my-func() ( echo sub )', 'my-func() (echo sub)'],
    ['echo a >f 2>&1 <in', 'echo a >f 2>&1 <in'],
    ['cmd 2>>log >&2 &>all', 'cmd 2>>log >&2 &>all'],
    ['FOO=1 BAR=$x cmd arg', 'FOO=1 BAR=$x cmd arg'],
    ['FOO=1', 'FOO=1'],
    ['echo if then fi', 'echo if then fi'],
    ['echo }', 'echo }'],
    ['echo a # comment\necho b', 'echo a; echo b'],
    ['echo a\\\nb', 'echo ab'],
    ['a &&\nb ||\n\nc', 'a && b || c'],
    ['a |\nb', 'a | b'],
    ['{ a; } > out', '{ a; } >out'],
    ['while read l; do :; done < file', 'while read l; do :; done <file'],
    ['x=$(a; b) y=`c`', 'x=$(a; b) y=`c`'],
  ])('%j → %j', (source, printed) => {
    expect(print(source)).toBe(printed);
  });

  test.prop([
    fc.constantFrom(
      'a && b',
      'a | b',
      '(a)',
      '{ a; }',
      'if a; then b; fi',
      'while a; do b; done',
      'f() { a; }',
      'echo x >f',
    ),
    fc.constantFrom('; ', ' && ', ' || ', ' | ', ' & '),
  ])('printing is a fixed point of parsing', (a, sep) => {
    const src = `${a}${sep}${a}`;
    let once: string;
    try {
      once = print(src);
    } catch {
      return;
    }
    expect(print(once)).toBe(once);
  });
});

function firstWordParts(source: string, index = 0): WordPart[] {
  const cmd = parseScript({ source }).items[0]?.command.head.commands[0] as SimpleCommand;
  return (cmd.words[index] ?? { parts: [] }).parts;
}

describe('word parts', () => {
  it.each<[string, WordPart[]]>([
    ["'a b'", [{ type: 'sq', text: 'a b' }]],
    [
      '"a $x"',
      [
        {
          type: 'dq',
          parts: [
            { type: 'lit', text: 'a ' },
            { type: 'param', name: 'x' },
          ],
        },
      ],
    ],
    [
      'a\\*b',
      [
        { type: 'lit', text: 'a' },
        { type: 'escaped', text: '*' },
        { type: 'lit', text: 'b' },
      ],
    ],
    [
      '$1$#$?$@',
      [
        { type: 'param', name: '1' },
        { type: 'param', name: '#' },
        { type: 'param', name: '?' },
        { type: 'param', name: '@' },
      ],
    ],
    ['${#x}', [{ type: 'param', name: 'x', length: true }]],
    [
      '${x:-a b}',
      [{ type: 'param', name: 'x', op: ':-', arg: { parts: [{ type: 'lit', text: 'a b' }], text: 'a b' } }],
    ],
    ['${x##*/}', [{ type: 'param', name: 'x', op: '##', arg: { parts: [{ type: 'lit', text: '*/' }], text: '*/' } }]],
    ['${10}', [{ type: 'param', name: '10' }]],
    [
      '~/x',
      [
        { type: 'tilde', user: '' },
        { type: 'lit', text: '/x' },
      ],
    ],
    ['~bob', [{ type: 'tilde', user: 'bob' }]],
    ['a~', [{ type: 'lit', text: 'a~' }]],
    ['$', [{ type: 'lit', text: '$' }]],
    ['"\\$\\"\\x"', [{ type: 'dq', parts: [{ type: 'lit', text: '$"\\x' }] }]],
  ])('%s', (source, parts) => {
    expect(firstWordParts(`echo ${source}`, 1)).toEqual(parts);
  });

  it('parses command substitutions and arithmetic as trees', () => {
    const parts = firstWordParts('echo $(echo a | tr a b)`echo c`$((1 + $x))', 1);
    expect(parts.map((p) => p.type)).toEqual(['cmdsub', 'cmdsub', 'arith']);
    const [dollar, back, arith] = parts as [
      Extract<WordPart, { type: 'cmdsub' }>,
      Extract<WordPart, { type: 'cmdsub' }>,
      Extract<WordPart, { type: 'arith' }>,
    ];
    expect(printScript(dollar.script)).toBe('echo a | tr a b');
    expect(back.backtick).toBe(true);
    expect(printScript(back.script)).toBe('echo c');
    expect(arith.expr.parts).toEqual([
      { type: 'lit', text: '1 + ' },
      { type: 'param', name: 'x' },
    ]);
  });

  it('keeps case patterns with parentheses inside $(...)', () => {
    const parts = firstWordParts('echo $(case x in x) echo yes;; esac)', 1);
    expect(parts[0]?.type).toBe('cmdsub');
  });

  it('splits assignments from words', () => {
    const cmd = parseScript({ source: 'A=1 B=~/x cmd C=2' }).items[0]?.command.head.commands[0] as SimpleCommand;
    expect(cmd.assigns.map((a) => a.name)).toEqual(['A', 'B']);
    expect(cmd.assigns[1]?.value.parts[0]).toEqual({ type: 'tilde', user: '' });
    expect(cmd.words.map((w) => w.text)).toEqual(['cmd', 'C=2']);
  });
});

describe('heredocs', () => {
  const redirect = (source: string) =>
    (parseScript({ source }).items[0]!.command.head.commands[0] as SimpleCommand).redirs[0];

  it('reads an expanding body after the newline', () => {
    const r = redirect('cat <<EOF\nhello $x\nEOF\n');
    expect(r?.heredoc?.expand).toBe(true);
    expect(r?.heredoc?.body.parts).toEqual([
      { type: 'lit', text: 'hello ' },
      { type: 'param', name: 'x' },
      { type: 'lit', text: '\n' },
    ]);
  });

  it('keeps a quoted delimiter body literal', () => {
    const r = redirect("cat <<'EOF'\nhello $x\nEOF\n");
    expect(r?.heredoc).toEqual({
      expand: false,
      body: { parts: [{ type: 'sq', text: 'hello $x\n' }], text: 'hello $x\n' },
    });
  });

  it('strips leading tabs with <<-', () => {
    const r = redirect('cat <<-EOF\n\t\tindented\n\tEOF\n');
    expect(r?.heredoc?.body.text).toBe('indented\n');
  });

  it('reads two heredocs on one line in order', () => {
    const cmd = parseScript({ source: 'cat <<A <<B\na\nA\nb\nB\necho after' });
    const redirs = (cmd.items[0]!.command.head.commands[0] as SimpleCommand).redirs;
    expect(redirs.map((r) => r.heredoc?.body.text)).toEqual(['a\n', 'b\n']);
    expect(printScript(cmd)).toBe('cat <<A <<B; echo after');
  });
});

describe('syntax errors', () => {
  it.each([
    ['if true; then', 1, 'unexpected end of file (expecting "fi")'],
    ['echo "abc', 1, 'unterminated quoted string'],
    ["echo 'abc", 1, 'unterminated quoted string'],
    ['echo a\n\nfi', 3, 'unexpected "fi"'],
    ['a && ', 1, 'unexpected end of file'],
    ['| a', 1, 'unexpected "|"'],
    [';', 1, 'unexpected ";"'],
    ['(', 1, 'unexpected end of file (expecting ")")'],
    ['while true; do', 1, 'unexpected end of file (expecting "done")'],
    ['for 1 in a; do :; done', 1, 'unexpected "1" (expecting a variable name)'],
    ['case x in a) echo', 1, 'unexpected end of file (expecting ";;" or "esac")'],
    ['echo ${x', 1, 'missing "}"'],
    ['echo ${x!}', 1, 'bad substitution: ${x!}'],
    ['echo $(echo', 1, 'unexpected end of file (expecting ")")'],
    ['echo >', 1, 'unexpected end of file'],
    ['{ }', 1, 'unexpected "}" (expecting a command)'],
    ['f() echo', 1, 'unexpected "echo" (expecting a function body)'],
  ])('%j', (source, line, detail) => {
    let caught: unknown;
    try {
      parseScript({ source });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ShellSyntaxError);
    expect((caught as ShellSyntaxError).line).toBe(line);
    expect((caught as ShellSyntaxError).detail).toBe(detail);
    expect((caught as ShellSyntaxError).message).toBe(`line ${line}: syntax error: ${detail}`);
  });
});
