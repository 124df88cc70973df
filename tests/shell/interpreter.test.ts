/** Control flow, `set -e` exemptions, special parameters, shell builtins and exit codes. */
import { describe, expect, it } from 'vitest';
import { NOT_FOUND_ADVICE } from '../../src/shell/index.js';
import { makeFs, run } from './helpers.js';

type Expect = { stdout?: string; stderr?: string; exitCode?: number };

async function check(script: string, expected: Expect, options: Parameters<typeof run>[1] = {}): Promise<void> {
  const r = await run(script, options);
  const picked: Expect = {};
  if (expected.stdout !== undefined) picked.stdout = r.stdout;
  if (expected.stderr !== undefined) picked.stderr = r.stderr;
  if (expected.exitCode !== undefined) picked.exitCode = r.exitCode;
  expect(picked).toEqual(expected);
}

describe('control flow', () => {
  it.each<[string, Expect]>([
    ['if false; then echo a; elif false; then echo b; else echo c; fi', { stdout: 'c\n' }],
    ['if false; then echo a; fi; echo $?', { stdout: '0\n' }],
    ['if (exit 3); then :; else echo $?; fi', { stdout: '3\n' }],
    ['for i in 1 2 3; do echo $i; done; echo "last $i"', { stdout: '1\n2\n3\nlast 3\n' }],
    ['for i in; do echo never; done; echo $?', { stdout: '0\n' }],
    ['set -- x "y z"; for a; do echo "[$a]"; done', { stdout: '[x]\n[y z]\n' }],
    ['i=0; while [ $i -lt 3 ]; do i=$((i+1)); [ $i = 2 ] && continue; echo $i; done', { stdout: '1\n3\n' }],
    ['i=0; until [ $i = 2 ]; do i=$((i+1)); done; echo $i', { stdout: '2\n' }],
    ['for a in 1 2; do for b in 1 2; do [ $b = 2 ] && continue 2; echo $a$b; done; done', { stdout: '11\n21\n' }],
    ['for a in 1 2; do while true; do break 2; done; echo no; done; echo out', { stdout: 'out\n' }],
    ['break; continue; echo ok', { stdout: 'ok\n' }],
    [
      'case abc in a*c) echo m1;; esac; case x in y|x) echo m2;; esac; case "" in "") echo empty;; esac',
      { stdout: 'm1\nm2\nempty\n' },
    ],
    ['x=3; case $x in [0-2]) echo low;; [3-5]) echo mid;; esac', { stdout: 'mid\n' }],
    ['case x in x) ;; esac; echo $?', { stdout: '0\n' }],
    ['f() { echo "$0:$1:$2:$#"; }; f a b', { stdout: 'sh:a:b:2\n' }],
    ['f() { return 3; echo no; }; f; echo $?', { stdout: '3\n' }],
    ['f() { local x=in; g; }; g() { echo $x; }; x=out; f; echo $x', { stdout: 'in\nout\n' }],
    ['f() { x=changed; }; x=orig; f; echo $x', { stdout: 'changed\n' }],
    ['f() { echo "$@"; }; set -- outer; f inner; echo $1', { stdout: 'inner\nouter\n' }],
    ['f() { f; }; f', { exitCode: 2, stderr: 'sh: function nesting too deep (500 calls)\n' }],
    ['f() (cd /tmp; pwd); f; pwd', { stdout: '/tmp\n/\n' }],
    ['{ echo a; echo b; } > /dev/null; echo c', { stdout: 'c\n' }],
    ['(exit 5); echo $?; (echo sub; exit 2) ; echo $?', { stdout: '5\nsub\n2\n' }],
    ['x=1; { x=2; }; (x=3); echo $x', { stdout: '2\n' }],
    ['echo a; echo b & echo c; wait $!; echo $?', { stdout: 'a\nb\nc\n0\n' }],
    ['(exit 4) & wait $!; echo $?', { stdout: '4\n' }],
    ['cd /tmp & pwd', { stdout: '/\n' }],
  ])('%s', async (script, expected) => {
    await check(script, expected);
  });
});

describe('set -e', () => {
  it.each<[string, Expect]>([
    ['set -e; false; echo no', { stdout: '', exitCode: 1 }],
    [
      'set -e; if false; then :; fi; while false; do :; done; until true; do :; done; echo yes',
      { stdout: 'yes\n', exitCode: 0 },
    ],
    ['set -e; false && echo no; echo yes', { stdout: 'yes\n', exitCode: 0 }],
    ['set -e; false || false; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; true && false; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; ! true; echo yes', { stdout: 'yes\n' }],
    ['set -e; f() { false; echo in-f; }; if f; then echo then; fi', { stdout: 'in-f\nthen\n' }],
    ['set -e; f() { false; echo in-f; }; f; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; f() { false && true; }; f; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; { false && true; }; echo group-exempt', { stdout: 'group-exempt\n' }],
    ['set -e; (false); echo no', { stdout: '', exitCode: 1 }],
    ['set -e; (false; echo no); echo no2', { stdout: '', exitCode: 1 }],
    ['set -e; x=$(false); echo no', { stdout: '', exitCode: 1 }],
    ['set -e; false | true; echo pipeline-ok', { stdout: 'pipeline-ok\n' }],
    ['set -eo pipefail; false | true; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; eval false; echo no', { stdout: '', exitCode: 1 }],
    ['set -e; eval "false || true"; echo yes', { stdout: 'yes\n' }],
    ['set -e; set +e; false; echo off', { stdout: 'off\n' }],
    ['set -e; trap "echo trap \\$?" EXIT; false', { stdout: 'trap 1\n', exitCode: 1 }],
  ])('%s', async (script, expected) => {
    await check(script, expected);
  });
});

describe('special parameters', () => {
  it('$? $# $@ $* $0 $1.. $$ $! $-', async () => {
    await check(
      'echo "$?"; false; echo $?; echo $# "$*" "$1" "$2" $0; echo $$; : & echo $!; set -eu; echo $-',
      {
        stdout: '0\n1\n2 a b a b sh\n1\n2\neu\n',
      },
      { args: ['a', 'b'] } as Parameters<typeof run>[1],
    );
  });
});

describe('builtins', () => {
  it.each<[string, Expect]>([
    ['set -- a b c; shift; echo $@; shift 2; echo "[$*]"; shift; echo $?', { stdout: 'b c\n[]\n1\n' }],
    ['set -- a b; set --; echo $#', { stdout: '0\n' }],
    ['set a b; echo $2', { stdout: 'b\n' }],
    ['set -o pipefail; set -o | grep pipefail', { stdout: 'pipefail        on\n' }],
    ['set +o | grep errexit', { stdout: 'set +o errexit\n' }],
    ['set -z', { exitCode: 2, stderr: 'sh: set: illegal option -z\n' }],
    ['x=1; export x; y=2; sh -c \'echo "$x,$y"\'', { stdout: '1,\n' }],
    ["export A=1 B; B=2; sh -c 'echo $A$B'; export -p | grep -c \"export A='1'\"", { stdout: '12\n1\n' }],
    ['unset HOME PATH; export | grep -c HOME', { stdout: '0\n' }],
    ['x=1; unset x; echo "[${x-unset}]"', { stdout: '[unset]\n' }],
    ['readonly r=1; r=2; echo no', { exitCode: 2, stderr: 'sh: r: is read only\n' }],
    ['readonly r=1; unset r; echo $?', { stdout: '1\n', stderr: 'sh: unset: r: is read only\n' }],
    ['readonly -p | grep -c PATH; readonly q=1; readonly | grep q=', { stdout: "0\nreadonly q='1'\n" }],
    ['local x=1', { exitCode: 1, stderr: 'sh: local: not in a function\n' }],
    ['cd /tmp; echo $PWD $OLDPWD; cd -; echo $PWD', { stdout: '/tmp /\n/\n/\n' }],
    ['mkdir /root; cd /tmp/../etc; pwd; cd; pwd', { stdout: '/etc\n/root\n' }],
    ['cd /nope; echo $?', { stdout: '2\n', stderr: "sh: cd: can't cd to /nope: No such file or directory\n" }],
    ['cd /etc/passwd', { exitCode: 2, stderr: "sh: cd: can't cd to /etc/passwd: Not a directory\n" }],
    ['exit 300', { exitCode: 44 }],
    ['exit', { exitCode: 0 }],
    ['false; exit', { exitCode: 1 }],
    ['exit abc', { exitCode: 2, stderr: 'sh: exit: Illegal number: abc\n' }],
    ['eval "echo a; echo b"; eval; echo $?', { stdout: 'a\nb\n0\n' }],
    [
      'eval "if"; echo $?',
      { stdout: '2\n', stderr: 'sh: line 1: syntax error: unexpected end of file (expecting "then")\n' },
    ],
    [
      "echo 'echo sourced $1; y=2; return 7; echo no' > /tmp/lib.sh; . /tmp/lib.sh arg; echo $? $y; source /tmp/lib.sh; echo $?",
      { stdout: 'sourced arg\n7 2\nsourced\n7\n' },
    ],
    ['. /nope.sh; echo no', { exitCode: 2, stderr: "sh: .: can't open '/nope.sh': No such file or directory\n" }],
    ['exec echo replaced; echo never', { stdout: 'replaced\n', exitCode: 0 }],
    ['exec false; echo never', { stdout: '', exitCode: 1 }],
    ['exec > /tmp/o; echo into-file; exec >&2; cat /tmp/o', { stderr: 'into-file\n' }],
    ['exec 2>/dev/null; ls /nope; echo $?', { stdout: '1\n', stderr: '' }],
    ['command -v cd echo nosuch; echo $?', { stdout: 'cd\necho\n127\n' }],
    ['mkdir -p /usr/bin; touch /usr/bin/ls; command -v ls; type ls', { stdout: '/usr/bin/ls\nls is /usr/bin/ls\n' }],
    [
      'f() { :; }; type f cd set if echo nosuch',
      {
        stdout:
          'f is a function\ncd is a shell builtin\nset is a special shell builtin\nif is a shell keyword\necho is a shell builtin\n',
        stderr: 'sh: type: nosuch: not found\n',
        exitCode: 1,
      },
    ],
    ['echo() { printf "fn\\n"; }; echo hi; command echo real', { stdout: 'fn\nreal\n' }],
    ['command cd /tmp; pwd', { stdout: '/tmp\n' }],
    ['umask; umask 027; umask; umask -S; umask u=rwx,g=rx,o=; umask', { stdout: '0022\n0027\nu=rwx,g=rx,o=\n0027\n' }],
    ['read a b <<EOF\n1 2 3\nEOF\necho "$a|$b"', { stdout: '1|2 3\n' }],
    ['read -r x <<EOF\na\\\\b\nEOF\necho "$x"; read y <<EOF\na\\\\b\nEOF\necho "$y"', { stdout: 'a\\b\nab\n' }],
    ['read x <<\'EOF\'\ncont\\\ninued\nEOF\necho "$x"', { stdout: 'continued\n' }],
    ['printf "no-newline" | { read x; echo "$? $x"; }', { stdout: '1 no-newline\n' }],
    ['echo "a b" | { read; echo "[$REPLY]"; }', { stdout: '[a b]\n' }],
    ['printf "1\\n2\\n3\\n" | { read a; read b; cat; }', { stdout: '3\n' }],
    ['IFS=, read a b c <<EOF\nx,,z\nEOF\necho "$a|$b|$c"', { stdout: 'x||z\n' }],
    ['read -p "prompt> " v <<EOF\nval\nEOF\necho $v', { stdout: 'val\n', stderr: 'prompt> ' }],
    [
      'while getopts "ab:" o -a -bX -b Y -c; do echo "$o ${OPTARG-}"; done; echo $OPTIND',
      { stdout: 'a \nb X\nb Y\n? \n6\n', stderr: 'sh: illegal option -- c\n' },
    ],
    ['getopts ":b:" o -b; echo "$o $OPTARG"', { stdout: ': b\n' }],
    ['trap "echo bye" EXIT; echo hi; exit 3', { stdout: 'hi\nbye\n', exitCode: 3 }],
    ['trap "echo bye" 0; trap - EXIT; echo hi', { stdout: 'hi\n' }],
    ['trap "echo t" INT TERM; trap', { stdout: "trap -- 'echo t' INT\ntrap -- 'echo t' TERM\n" }],
    ['trap "" NOPE', { exitCode: 1, stderr: 'sh: trap: NOPE: bad trap\n' }],
    ['hash -r; times | wc -l', { stdout: '2\n' }],
    [': ignored args; echo $?', { stdout: '0\n' }],
  ])('%s', async (script, expected) => {
    await check(script, expected);
  });

  it('set -x traces expanded commands with PS4', async () => {
    await check('set -x; x="a b"; echo $x "$x" >/dev/null; PS4="> "; true', {
      stderr: "+ x='a b'\n+ echo a b 'a b'\n+ PS4='> '\n> true\n",
    });
  });
});

describe('commands, scripts and exit codes', () => {
  it('a missing command exits 127 naming the other executors', async () => {
    await check('nosuch-tool --flag', { exitCode: 127, stderr: `sh: nosuch-tool: not found (${NOT_FOUND_ADVICE})\n` });
    expect(NOT_FOUND_ADVICE).toBe(
      'the virtual shell runs built-in utilities only; use the linux executor (linuxExecutor) to run real binaries, or a function executor',
    );
  });

  it('syntax errors exit 2 with the line', async () => {
    await check('echo ok\nif true; then\n  echo\nfi fi', {
      exitCode: 2,
      stdout: '',
      stderr: 'sh: line 4: syntax error: unexpected "fi"\n',
    });
  });

  it('runs commands by path and from PATH', async () => {
    const fs = await makeFs({
      'usr/local/bin/hello': { content: '#!/bin/sh\necho "hello $1 from $0"\n', mode: 0o755 },
      'opt/b.sh': { content: '#!/usr/bin/env bash\necho bash-script\n', mode: 0o755 },
      'opt/plain': { content: 'echo plain $#\n', mode: 0o755 },
      'opt/e.sh': { content: '#!/bin/sh -e\nfalse\necho no\n', mode: 0o755 },
      'opt/py': { content: '#!/usr/bin/python3\nprint(1)\n', mode: 0o755 },
      'opt/bin': { content: '\x7fELF\x02\x01\x01\0\0\0', mode: 0o755 },
      'opt/noexec': { content: '#!/bin/sh\necho x\n', mode: 0o644 },
      'usr/bin/apt-get': { content: '\x7fELF\x02\x01', mode: 0o755 },
    });
    const cases: [string, Expect][] = [
      ['hello world', { stdout: 'hello world from /usr/local/bin/hello\n', exitCode: 0 }],
      ['/opt/b.sh', { stdout: 'bash-script\n', exitCode: 0 }],
      ['cd /opt; ./plain a b', { stdout: 'plain 2\n', exitCode: 0 }],
      ['/opt/e.sh', { stdout: '', exitCode: 1 }],
      ['/opt/py', { exitCode: 127, stderr: `sh: /opt/py: /usr/bin/python3: not found (${NOT_FOUND_ADVICE})\n` }],
      ['/opt/bin', { exitCode: 126, stderr: `sh: /opt/bin: cannot execute binary file (${NOT_FOUND_ADVICE})\n` }],
      ['/opt/noexec', { exitCode: 126, stderr: 'sh: /opt/noexec: Permission denied\n' }],
      ['/opt', { exitCode: 126, stderr: 'sh: /opt: Is a directory\n' }],
      ['/opt/none', { exitCode: 127, stderr: 'sh: /opt/none: not found\n' }],
      ['apt-get install -y curl', { exitCode: 127, stderr: `sh: apt-get: not found (${NOT_FOUND_ADVICE})\n` }],
      [
        '/bin/echo mapped; /usr/bin/env printf "%s\\n" env-mapped; /usr/local/bin/true && echo t',
        { stdout: 'mapped\nenv-mapped\nt\n' },
      ],
      [
        'sh /opt/plain x; bash -c "echo \\$0 \\$1" zero one; ash -c "exit 4"; echo $?',
        { stdout: 'plain 1\nzero one\n4\n' },
      ],
      ['sh -c', { exitCode: 2, stderr: 'sh: -c requires an argument\n' }],
      ['sh /nope.sh', { exitCode: 127, stderr: "sh: can't open '/nope.sh': No such file or directory\n" }],
      ['echo "echo from-stdin \\$1" | sh -s arg', { stdout: 'from-stdin arg\n' }],
      ['sh -eux -c "true"', { stderr: '+ true\n', exitCode: 0 }],
      ['sh -o pipefail -c "false | true"', { exitCode: 1 }],
      ['sh -c "if"', { exitCode: 2, stderr: 'sh: line 1: syntax error: unexpected end of file (expecting "then")\n' }],
    ];
    for (const [script, expected] of cases) {
      const r = await run(script, { fs });
      const picked: Expect = {};
      if (expected.stdout !== undefined) picked.stdout = r.stdout;
      if (expected.stderr !== undefined) picked.stderr = r.stderr;
      if (expected.exitCode !== undefined) picked.exitCode = r.exitCode;
      expect({ script, ...picked }).toEqual({ script, ...expected });
    }
  });

  it('yes | head terminates and reports SIGPIPE under pipefail', async () => {
    await check('yes | head -n 3; set -o pipefail; yes | head -n 1 >/dev/null; echo $?', { stdout: 'y\ny\ny\n141\n' });
  });

  it('stops at the abort signal, even in an endless loop', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(run('while true; do :; done', { signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });
});
