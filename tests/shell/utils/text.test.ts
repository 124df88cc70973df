/** Text utilities with their flags, table-driven over memfs. */
import { describe, expect, it } from 'vitest';
import { makeFs, run } from '../helpers.js';

const TREE = {
  'd/a.txt': 'hello world\nfoo bar\nHello again\n',
  'd/n.txt': '10\n9\n100\n-1\n2.5\n',
  'd/dup.txt': 'a\na\nb\nA\nc\nc\nc\n',
  'd/tsv': 'k1\tv1\tx\nk2\tv2\ty\n',
  'd/csv': 'name,age,city\nbob,30,paris\nann,25,rome\n',
  'd/nonl': 'no newline at end',
};

type Row = [string, { stdout?: string; stderr?: string; exitCode?: number }];

async function table(rows: Row[]): Promise<void> {
  for (const [script, expected] of rows) {
    const fs = await makeFs(TREE);
    const r = await run(script, { fs, cwd: '/d' });
    const picked: Row[1] = {};
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    picked.exitCode = r.exitCode;
    expect({ script, ...picked }).toEqual({ script, exitCode: 0, ...expected });
  }
}

describe('echo', () => {
  it('handles -n -e -E and non-option arguments', () =>
    table([
      ['echo a b', { stdout: 'a b\n' }],
      ['echo -n a', { stdout: 'a' }],
      ['echo -e "a\\tb\\n\\x41\\0101\\101"', { stdout: 'a\tb\nAAA\n' }],
      ['echo -e "stop\\cnot"', { stdout: 'stop' }],
      ['echo "a\\tb"; echo -E "a\\tb"; echo -eE "a\\tb"', { stdout: 'a\\tb\na\\tb\na\\tb\n' }],
      ['echo -n -e x; echo -ne y; echo -x -n', { stdout: 'xy-x -n\n' }],
      ['echo --; echo -', { stdout: '--\n-\n' }],
      ['echo', { stdout: '\n' }],
    ]));
});

describe('printf', () => {
  it('formats and reuses the format', () =>
    table([
      ['printf "%s-%s\\n" a b c', { stdout: 'a-b\nc-\n' }],
      ['printf "%d|%i|%u|%o|%x|%X|%c\\n" 42 -7 3 8 255 255 hello', { stdout: '42|-7|3|10|ff|FF|h\n' }],
      ['printf "%5s|%-5s|%.2s|%5.1s|\\n" ab ab abc abc', { stdout: '   ab|ab   |ab|    a|\n' }],
      ['printf "%05d|%-5d|%+d|% d|%.3d\\n" 42 42 42 42 7', { stdout: '00042|42   |+42| 42|007\n' }],
      ['printf "%#o %#x %#X\\n" 8 255 255', { stdout: '010 0xff 0XFF\n' }],
      [
        'printf "%f %.2f %e %g %g\\n" 3.14159 2.005 12345.678 0.0001 1000000',
        { stdout: '3.141590 2.00 1.234568e+04 0.0001 1e+06\n' },
      ],
      ['printf "%*d|%-*d|\\n" 4 7 3 8', { stdout: '   7|8  |\n' }],
      ['printf "%d %d\\n" 0x10 010 "\'A"', { stdout: '16 8\n65 0\n' }],
      ['printf "%b|%s\\n" "a\\tb\\0101" "a\\tb"', { stdout: 'a\tbA|a\\tb\n' }],
      ['printf "a\\101\\x42\\\\\\"%%\\n"', { stdout: 'aAB"%\n' }],
      ['printf "%s\\n"', { stdout: '\n' }],
      ['printf "no conversion\\n" extra', { stdout: 'no conversion\n' }],
      ['printf "%b" "x\\cy"; echo', { stdout: 'x\n' }],
      ['printf "%d\\n" abc; echo $?', { stdout: '0\n1\n', stderr: "printf: invalid number 'abc'\n" }],
      ['printf "%d\\n" 12abc', { stdout: '12\n', stderr: "printf: invalid number '12abc'\n", exitCode: 1 }],
      ['printf "%q\\n" x', { stdout: '', stderr: 'printf: %q: invalid format\n', exitCode: 1 }],
      ['printf', { stderr: 'printf: usage: printf FORMAT [ARG]...\n', exitCode: 2 }],
    ]));
});

describe('cat, head, tail, tee', () => {
  it('cat numbers lines and reads -', () =>
    table([
      ['cat a.txt nonl; echo', { stdout: 'hello world\nfoo bar\nHello again\nno newline at end\n' }],
      ['cat -n a.txt', { stdout: '     1\thello world\n     2\tfoo bar\n     3\tHello again\n' }],
      ['printf "a\\n\\nb\\n" | cat -b', { stdout: '     1\ta\n\n     2\tb\n' }],
      ['echo mid | cat nonl - nonl', { stdout: 'no newline at endmid\nno newline at end' }],
      [
        'cat nope a.txt > /dev/null; echo $?',
        { stdout: '1\n', stderr: "cat: can't open 'nope': No such file or directory\n" },
      ],
      ['cat /d', { stderr: "cat: can't open '/d': Is a directory\n", exitCode: 1 }],
      ['cat -z', { stderr: "cat: invalid option -- 'z'\n", exitCode: 2 }],
    ]));

  it('head and tail take lines, bytes, +N and -N', () =>
    table([
      ['head -n 2 a.txt', { stdout: 'hello world\nfoo bar\n' }],
      ['head -2 a.txt; head -n2 n.txt', { stdout: 'hello world\nfoo bar\n10\n9\n' }],
      ['head -c 5 a.txt', { stdout: 'hello' }],
      ['head -n -3 n.txt', { stdout: '10\n9\n' }],
      ['head -c -12 a.txt', { stdout: 'hello world\nfoo bar\n' }],
      ['head -n 1 a.txt n.txt', { stdout: '==> a.txt <==\nhello world\n\n==> n.txt <==\n10\n' }],
      ['head -q -n 1 a.txt n.txt', { stdout: 'hello world\n10\n' }],
      ['seq 20 | head', { stdout: '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n' }],
      ['tail -n 2 n.txt', { stdout: '-1\n2.5\n' }],
      ['tail -1 a.txt; tail -n +4 n.txt', { stdout: 'Hello again\n-1\n2.5\n' }],
      ['tail -c 6 a.txt; tail -c +7 nonl', { stdout: 'again\nline at end' }],
      ['tail -n 1 nonl; echo', { stdout: 'no newline at end\n' }],
      ['printf "a\\nb\\n" | tail -n 5', { stdout: 'a\nb\n' }],
      ['tail -n 1 a.txt n.txt', { stdout: '==> a.txt <==\nHello again\n\n==> n.txt <==\n2.5\n' }],
      ['head -n x a.txt', { stderr: "head: invalid number 'x'\n", exitCode: 2 }],
      ['tail -f a.txt', { exitCode: 2 }],
      ['head nope', { stderr: "head: can't open 'nope': No such file or directory\n", exitCode: 1 }],
    ]));

  it('tee copies to files and appends with -a', () =>
    table([
      ['echo x | tee t1 t2; cat t1 t2', { stdout: 'x\nx\nx\n' }],
      ['echo a > t; echo b | tee -a t > /dev/null; cat t', { stdout: 'a\nb\n' }],
      [
        'echo x | tee /nodir/f; echo $?',
        { stdout: 'x\n1\n', stderr: "tee: can't create /nodir/f: nonexistent directory\n" },
      ],
      ['echo x | tee /dev/stderr', { stdout: 'x\n', stderr: 'x\n' }],
    ]));
});

describe('wc, sort, uniq', () => {
  it('wc counts like busybox', () =>
    table([
      ['wc a.txt', { stdout: '        3         6        32 a.txt\n' }],
      ['wc -l a.txt; wc -w < a.txt; wc -c < nonl', { stdout: '3 a.txt\n6\n17\n' }],
      ['wc -l a.txt n.txt', { stdout: '        3 a.txt\n        5 n.txt\n        8 total\n' }],
      ['echo é | wc -c; echo é | wc -m', { stdout: '3\n2\n' }],
      ['wc -lw a.txt', { stdout: '        3         6 a.txt\n' }],
      ['wc nope; echo $?', { stdout: '1\n', stderr: "wc: can't open 'nope': No such file or directory\n" }],
    ]));

  it('sort orders bytewise with keys, numbers and uniqueness', () =>
    table([
      ['sort dup.txt', { stdout: 'A\na\na\nb\nc\nc\nc\n' }],
      ['sort -r dup.txt | head -n 2', { stdout: 'c\nc\n' }],
      ['sort -u dup.txt', { stdout: 'A\na\nb\nc\n' }],
      ['sort -f -u dup.txt', { stdout: 'a\nb\nc\n' }],
      ['sort -n n.txt', { stdout: '-1\n2.5\n9\n10\n100\n' }],
      ['sort -rn n.txt | head -n 1', { stdout: '100\n' }],
      ['sort -t, -k2 -n csv', { stdout: 'name,age,city\nann,25,rome\nbob,30,paris\n' }],
      ['sort -t, -k3,3 csv', { stdout: 'name,age,city\nbob,30,paris\nann,25,rome\n' }],
      ['printf "b 2\\na 2\\nc 1\\n" | sort -k2,2n -k1,1', { stdout: 'c 1\na 2\nb 2\n' }],
      ['printf "x 1\\nx 10\\nx 9\\n" | sort -k2n', { stdout: 'x 1\nx 9\nx 10\n' }],
      ['printf "b\\na\\n" | sort -o out; cat out', { stdout: 'a\nb\n' }],
      ['printf "1.10\\n1.9\\n1.2\\n" | sort -V', { stdout: '1.2\n1.9\n1.10\n' }],
      ['printf "1K\\n2M\\n3\\n" | sort -h', { stdout: '3\n1K\n2M\n' }],
      [
        'printf "a\\nb\\n" | sort -c; echo $?; printf "b\\na\\n" | sort -c; echo $?',
        { stdout: '0\n1\n', stderr: 'sort: -:2: disorder: a\n' },
      ],
      ['printf "b a\\na b\\n" | sort -s -k2', { stdout: 'b a\na b\n' }],
      ['sort -k0 n.txt', { stderr: "sort: invalid key '0'\n", exitCode: 2 }],
    ]));

  it('uniq collapses adjacent lines', () =>
    table([
      ['uniq dup.txt', { stdout: 'a\nb\nA\nc\n' }],
      ['uniq -c dup.txt', { stdout: '      2 a\n      1 b\n      1 A\n      3 c\n' }],
      ['uniq -d dup.txt; uniq -u dup.txt', { stdout: 'a\nc\nb\nA\n' }],
      ['printf "a\\nA\\n" | uniq -i', { stdout: 'a\n' }],
      ['printf "1 a\\n2 a\\n" | uniq -f 1 -c', { stdout: '      2 1 a\n' }],
      ['printf "xa\\nya\\n" | uniq -s 1', { stdout: 'xa\n' }],
      ['uniq dup.txt out; cat out | wc -l', { stdout: '4\n' }],
    ]));
});

describe('tr, cut', () => {
  it('tr translates, deletes, squeezes and complements', () =>
    table([
      ['echo hello | tr a-y b-z', { stdout: 'ifmmp\n' }],
      ['echo hello | tr el ip', { stdout: 'hippo\n' }],
      ['echo hello | tr a-z A', { stdout: 'AAAAA\n' }],
      ['echo hello | tr -d lo', { stdout: 'he\n' }],
      ['echo "a   b  c" | tr -s " "', { stdout: 'a b c\n' }],
      ['echo aabbccdd | tr -s a-c x', { stdout: 'xdd\n' }],
      ['echo "Hi 42!" | tr "[:upper:][:lower:]" "[:lower:][:upper:]"', { stdout: 'hI 42!\n' }],
      ['echo "a1b2" | tr -cd "[:digit:]\\n"', { stdout: '12\n' }],
      ['echo "a b" | tr -c "a\\n" _', { stdout: 'a__\n' }],
      ['printf "a\\tb\\n" | tr "\\t" ,', { stdout: 'a,b\n' }],
      ['echo abc | tr abc "[x*]"', { stdout: 'xxx\n' }],
      ['echo abc | tr', { stderr: 'tr: missing operand\n', exitCode: 2 }],
      ['echo abc | tr z-a x', { exitCode: 2 }],
    ]));

  it('cut selects fields, characters and bytes', () =>
    table([
      ['cut -f2 tsv', { stdout: 'v1\nv2\n' }],
      ['cut -d, -f1,3 csv', { stdout: 'name,city\nbob,paris\nann,rome\n' }],
      ['cut -d, -f2- csv | head -n 1', { stdout: 'age,city\n' }],
      ['cut -d, -f-2 csv | tail -n 1', { stdout: 'ann,25\n' }],
      ['cut -c1-5 a.txt', { stdout: 'hello\nfoo b\nHello\n' }],
      ['cut -c 3,1 a.txt | head -n 1; cut -b 2- nonl', { stdout: 'hl\no newline at end\n' }],
      ['printf "nodelim\\nx:y\\n" | cut -d: -f2', { stdout: 'nodelim\ny\n' }],
      ['printf "nodelim\\nx:y\\n" | cut -s -d: -f2', { stdout: 'y\n' }],
      ['cut -d, --output-delimiter=" " -f1,2 csv | tail -n 1', { stdout: 'ann 25\n' }],
      ['cut a.txt', { exitCode: 2 }],
      ['cut -f 0 a.txt', { stderr: "cut: invalid list '0'\n", exitCode: 2 }],
    ]));
});

describe('grep', () => {
  it('searches with basic, extended and fixed patterns', () =>
    table([
      ['grep hello a.txt', { stdout: 'hello world\n' }],
      ['grep -i hello a.txt', { stdout: 'hello world\nHello again\n' }],
      ['grep -v o a.txt; echo $?', { stdout: '1\n' }],
      ['grep -c o a.txt', { stdout: '3\n' }],
      ['grep -n foo a.txt', { stdout: '2:foo bar\n' }],
      ['grep -q foo a.txt && echo yes; grep -q nope a.txt; echo $?', { stdout: 'yes\n1\n' }],
      ['grep "^[hH]el\\{1,\\}o" a.txt | wc -l', { stdout: '2\n' }],
      ['grep -E "wor(ld|m)|^foo" a.txt', { stdout: 'hello world\nfoo bar\n' }],
      ['grep "o\\(r\\|o\\)" a.txt', { stdout: 'hello world\nfoo bar\n' }],
      ['grep -F "o b" a.txt; grep -F "." a.txt; echo $?', { stdout: 'foo bar\n1\n' }],
      ['grep -w bar a.txt; grep -w ba a.txt; echo $?', { stdout: 'foo bar\n1\n' }],
      ['grep -x "foo bar" a.txt; grep -x foo a.txt; echo $?', { stdout: 'foo bar\n1\n' }],
      ['grep -o "[a-z]*o\\b" a.txt', { stdout: 'hello\nfoo\nello\n' }],
      ['grep -e foo -e again a.txt', { stdout: 'foo bar\nHello again\n' }],
      ['grep o a.txt n.txt', { stdout: 'a.txt:hello world\na.txt:foo bar\na.txt:Hello again\n' }],
      ['grep -h o a.txt n.txt | wc -l; grep -l o a.txt n.txt; grep -L o a.txt n.txt', { stdout: '3\na.txt\nn.txt\n' }],
      ['grep -r bob /d; grep -rl 10 .', { stdout: '/d/csv:bob,30,paris\n./n.txt\n' }],
      ['grep -c x a.txt n.txt', { stdout: 'a.txt:0\nn.txt:0\n', exitCode: 1 }],
      ['grep "[[:digit:]]\\." n.txt', { stdout: '2.5\n' }],
      ['echo "a.b" | grep "a\\.b"; echo "axb" | grep "a\\.b"; echo $?', { stdout: 'a.b\n1\n' }],
      ['echo "a+b" | grep "a+b"; echo "aab" | grep -E "a+b"', { stdout: 'a+b\naab\n' }],
      ['echo "*x" | grep "*x"; echo "{1}" | grep "{1}"', { stdout: '*x\n{1}\n' }],
      ['grep x nope; echo $?', { stdout: '2\n', stderr: 'grep: nope: No such file or directory\n' }],
      ['grep -s x nope; echo $?', { stdout: '2\n', stderr: '' }],
      ['grep "[" a.txt; echo $?', { stdout: '2\n' }],
      ['grep x /d; echo $?', { stdout: '2\n', stderr: 'grep: /d: Is a directory\n' }],
    ]));
});

describe('sed', () => {
  it('substitutes, deletes, prints and edits in place', () =>
    table([
      ['sed s/o/0/ a.txt', { stdout: 'hell0 world\nf0o bar\nHell0 again\n' }],
      ['sed "s/o/0/g" a.txt | head -n 1', { stdout: 'hell0 w0rld\n' }],
      ['sed "s/o/0/2" a.txt | head -n 1', { stdout: 'hello w0rld\n' }],
      ['sed "s/HELLO/hi/I" a.txt | sed -n 3p', { stdout: 'hi again\n' }],
      ['sed -n "/foo/p" a.txt; sed -n "2,3p" a.txt', { stdout: 'foo bar\nfoo bar\nHello again\n' }],
      ['sed "2d" a.txt; sed "/^H/d" a.txt', { stdout: 'hello world\nHello again\nhello world\nfoo bar\n' }],
      ['sed "\\$d" a.txt | wc -l; sed -n "\\$p" a.txt', { stdout: '2\nHello again\n' }],
      ['sed "/foo/,\\$ s/^/> /" a.txt', { stdout: 'hello world\n> foo bar\n> Hello again\n' }],
      ['sed "2!d" a.txt', { stdout: 'foo bar\n' }],
      ['sed "s|o|/|g; s/l/L/" a.txt | head -n 1', { stdout: 'heLl/ w/rld\n' }],
      ['sed -e "s/a/A/" -e "s/b/B/" a.txt | sed -n 2p', { stdout: 'foo BAr\n' }],
      ['sed "s/\\(hello\\) \\(world\\)/\\2 \\1 [&]/" a.txt | head -n 1', { stdout: 'world hello [hello world]\n' }],
      ['sed -E "s/(o+)/<\\1>/g" a.txt | head -n 2', { stdout: 'hell<o> w<o>rld\nf<oo> bar\n' }],
      ['sed -r "s/[0-9]+/N/" n.txt | head -n 2', { stdout: 'N\nN\n' }],
      ['sed "s/x*/-/g" <<EOF\nabc\nEOF', { stdout: '-a-b-c-\n' }],
      [
        'echo baab | sed "s/[^a]*[ab]a\\(ab*\\)*/<&>/"; echo ab | sed -E "s/a|ab/X/"; echo baab | grep -o "[^a]*[ab]a\\(ab*\\)*"',
        { stdout: '<baab>\nX\nbaab\n' },
      ],
      ['sed "s/o/\\n/" a.txt | head -n 2', { stdout: 'hell\n world\n' }],
      ['sed "y/abc/xyz/" csv | head -n 1', { stdout: 'nxme,xge,zity\n' }],
      ['sed "2q" a.txt; sed "1Q" a.txt; sed "q5" a.txt; echo $?', { stdout: 'hello world\nfoo bar\nhello world\n5\n' }],
      [
        'sed "1i\\\\\ntop" nonl; echo; sed "1a after" nonl; echo; sed "c changed" nonl',
        { stdout: 'top\nno newline at end\nno newline at end\nafter\n\nchanged\n' },
      ],
      ['sed = a.txt | head -n 2', { stdout: '1\nhello world\n' }],
      ['sed -n "/foo/{s/foo/FOO/;p}" a.txt', { stdout: 'FOO bar\n' }],
      ['sed "s/end/END/" nonl; echo "|"', { stdout: 'no newline at END|\n' }],
      ['sed -i "s/world/there/" a.txt; head -n 1 a.txt', { stdout: 'hello there\n' }],
      ['sed -i.bak -e "1d" a.txt; wc -l < a.txt; wc -l < a.txt.bak', { stdout: '2\n3\n' }],
      ['sed -n -i "2p" a.txt; cat a.txt', { stdout: 'foo bar\n' }],
      ['sed "s/a/b/" nope; echo $?', { stdout: '2\n', stderr: "sed: can't read nope: No such file or directory\n" }],
      [
        'sed "N" a.txt',
        {
          stderr:
            "sed: -e expression #1: unsupported command 'N' (the virtual shell's sed has s y d p q Q a i c = and {})\n",
          exitCode: 1,
        },
      ],
      ['sed "s/a/b" a.txt', { stderr: 'sed: -e expression #1: unterminated expression (missing /)\n', exitCode: 1 }],
      ['sed', { stderr: 'sed: no script specified\n', exitCode: 2 }],
    ]));
});

describe('paste', () => {
  it.each<Row>([
    ['printf "a\\nb\\n" > x; printf "1\\n" > y; paste x y; paste -d : x y', { stdout: 'a\t1\nb\t\na:1\nb:\n' }],
    ['seq 5 | paste - -; seq 4 | paste -s -d ",;" -', { stdout: '1\t2\n3\t4\n5\t\n1,2;3,4\n' }],
    ['paste -s a.txt | tr "\\t" "|"', { stdout: 'hello world|foo bar|Hello again\n' }],
    ['paste -d "\\n" nonl nonl', { stdout: 'no newline at end\nno newline at end\n' }],
    ['paste nope', { stderr: 'paste: nope: No such file or directory\n', exitCode: 1 }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});

describe('virtual devices', () => {
  it.each<Row>([
    ['grep -c x /dev/null; echo $?; sort /dev/null; wc -c /dev/null', { stdout: '0\n1\n0 /dev/null\n' }],
    [
      '[ -e /dev/null ] && [ -c /dev/null ] && [ -w /dev/null ] && [ ! -f /dev/null ] && echo device',
      { stdout: 'device\n' },
    ],
    [
      'cp /dev/null a.txt; wc -c < a.txt; cp a.txt /dev/null; ls /dev 2>/dev/null || echo no-dev-dir',
      { stdout: '0\nno-dev-dir\n' },
    ],
    [
      'echo in | grep -H i /dev/stdin; echo x | cat /dev/stdin; echo y | sed s/y/z/ /dev/stdin',
      { stdout: '/dev/stdin:in\nx\nz\n' },
    ],
    ['echo err | tee /dev/stderr >/dev/null', { stdout: '', stderr: 'err\n' }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});

describe('seq, basename, dirname, yes, xargs', () => {
  it.each<Row>([
    ['seq 3; seq 5 7; seq 0 5 12; seq 3 -1 1', { stdout: '1\n2\n3\n5\n6\n7\n0\n5\n10\n3\n2\n1\n' }],
    ['seq -s, 1 4; seq -w 8 10; seq 1 0.5 2', { stdout: '1,2,3,4\n08\n09\n10\n1.0\n1.5\n2.0\n' }],
    ['seq 3 1; echo $?', { stdout: '0\n' }],
    ['seq 1 0 3', { exitCode: 2 }],
    ['seq x', { stderr: "seq: invalid floating point argument: 'x'\n", exitCode: 2 }],
    [
      'basename /a/b.txt; basename /a/b.txt .txt; basename b.txt b.txt; basename /; basename a//; basename -a x/y z/w; basename -s .c a.c b.c',
      { stdout: 'b.txt\nb\nb.txt\n/\na\ny\nw\na\nb\n' },
    ],
    [
      'dirname /a/b; dirname a; dirname /a; dirname a/b/; dirname //; dirname x/y z',
      { stdout: '/a\n.\n/\na\n/\nx\n.\n' },
    ],
    ['yes | head -n 2; yes a b | head -n 1', { stdout: 'y\ny\na b\n' }],
    ['echo a b c | xargs; echo a b c | xargs -n 2 echo x', { stdout: 'a b c\nx a b\nx c\n' }],
    ['printf "1\\n2\\n" | xargs -I % echo "<%>"', { stdout: '<1>\n<2>\n' }],
    ['printf "a b\\0c\\0" | xargs -0 -n1 echo', { stdout: 'a b\nc\n' }],
    ['echo "\'a b\' \\"c d\\" e\\\\ f" | xargs -n1', { stdout: 'a b\nc d\ne f\n' }],
    ['printf "x,y" | xargs -d , -n1 echo', { stdout: 'x\ny\n' }],
    ['true | xargs echo empty; true | xargs -r echo never', { stdout: 'empty\n' }],
    ['echo x | xargs -t echo', { stdout: 'x\n', stderr: 'echo x\n' }],
    ['echo 1 2 | xargs -n1 sh -c "exit \\$0"; echo $?', { stdout: '123\n' }],
    ['echo x | xargs nosuch; echo $?', { stdout: '127\n' }],
    ['ls | xargs -n1 basename | sort | head -n 2', { stdout: 'a.txt\ncsv\n' }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});
