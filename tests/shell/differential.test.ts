/**
 * Differential tests against a real POSIX shell: each script runs with `busybox sh` in a temp
 * directory and with the virtual shell over a copy of the same starting tree, both in memfs and
 * in layerkit's union view (the filesystem RUN steps really use); stdout,
 * whether stderr is empty, the exit code and the resulting tree (paths, types, modes, contents)
 * must agree. Plus a fast-check property over random text pipelines.
 */
import { spawnSync } from 'node:child_process';
import { promises as nodeFs, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { it } from '../helpers/fixtures.js';
import type { ExecutorFs } from '../../src/union/fs-contract.js';
import { createUnionFS } from '../../src/union/index.js';
import { withTempDir } from '../helpers/tmp.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { makeFs, run, snapshot, writeTree, type Tree } from './helpers.js';

const BUSYBOX = '/bin/busybox';
const haveBusybox = hasTool('busybox');

/** Applets the scripts use; the real shell gets a PATH with only these, all busybox. */
const APPLETS = [
  'basename',
  'cat',
  'chmod',
  'cp',
  'cut',
  'dirname',
  'echo',
  'env',
  'false',
  'find',
  'grep',
  'head',
  'ln',
  'ls',
  'mkdir',
  'mv',
  'paste',
  'printf',
  'pwd',
  'rm',
  'rmdir',
  'sed',
  'seq',
  'sort',
  'tail',
  'tee',
  'test',
  'touch',
  'tr',
  'true',
  'uniq',
  'wc',
  'xargs',
  'yes',
  'sh',
  '[',
];

const START: Tree = {
  'a.txt': 'hello world\nfoo bar\n',
  'b.txt': 'line1\nline2\nline3\n',
  nums: '10\n9\n100\n1\n',
  'dir/x.txt': 'x\n',
  'dir/y.log': 'y\n',
  'dir/sub/z': 'zz\n',
  '.hidden': 'secret\n',
  'run.sh': { content: '#!/bin/sh\necho "script:$1:$#"\nexit 3\n', mode: 0o755 },
  'plain.sh': { content: 'echo plain "$@"\n', mode: 0o755 },
  'noexec.sh': { content: '#!/bin/sh\necho no\n', mode: 0o644 },
  link: { symlink: 'a.txt' },
};

/** Scripts run by both shells. Only relative paths; no timestamps; no error-message text compared. */
const SCRIPTS: string[] = [
  // quoting and expansion
  `echo 'single $HOME' "double $((1+2))" back\\ slash`,
  `x='a  b'; echo $x; echo "$x"; printf '[%s]' $x; echo`,
  `set -- 'a b' c ''; echo $#; for i in "$@"; do echo "<$i>"; done; for i in $@; do echo "($i)"; done`,
  `set -- a b c; echo "$*"; IFS=,; echo "$*"; echo $*`,
  `IFS=:; v='a:b::c'; for f in $v; do echo "[$f]"; done`,
  `v=' lead trail '; echo [$v]; echo ["$v"]`,
  `x=file.tar.gz; echo \${x%.*} \${x%%.*} \${x#*.} \${x##*.} \${#x}`,
  `unset u; echo "\${u-dflt}" "\${u:-d2}" "\${u+alt}"; e=; echo "[\${e-x}]" "[\${e:-y}]" "[\${e:+z}]"; echo \${n:=set}; echo $n`,
  `p=/usr/local/bin; echo \${p#/*/} \${p##*/} \${p%/*}`,
  `echo "$(echo inner; echo)"x; echo \`echo back\`; echo "$(printf 'a\\n\\n\\n')"|wc -l`,
  `echo $((7/2)) $((7%3)) $((2*(3+4))) $((1<2)) $((5>6)) $((-3+1)) $((010)) $((0x1f)) $((1==1 && 0||1))`,
  `i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i; : $((j=4)); echo $j`,
  `echo a\\\nb; echo "a\\\nb"`,
  `echo "a \\"quoted\\" \\$x \\\\ end"`,
  `echo ~ | grep -c /; echo "~"`,
  `a=1 b=2; echo "\${a}\${b}" "$a$b" \${a}x`,
  `echo "$0" | grep -q sh; echo $?`,
  // control flow
  `if true; then echo yes; else echo no; fi; if false; then echo yes; elif true; then echo elif; fi`,
  `for i in 1 2 3; do if [ $i = 2 ]; then continue; fi; echo $i; done`,
  `for i in 1 2 3; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done`,
  `n=0; until [ $n -ge 3 ]; do n=$((n+1)); echo $n; done`,
  `for w in apple banana cherry; do case $w in a*) echo A;; b*|c*) echo BC;; *) echo other;; esac; done`,
  `case "x.tar.gz" in *.tar.gz) echo tgz;; *.gz) echo gz;; esac; case abc in [a-b]??) echo range;; esac`,
  `f() { echo "f:$1:$#"; return 4; }; f one two; echo $?`,
  `g() { local v=inner; echo $v; }; v=outer; g; echo $v`,
  `counter() { c=$((c+1)); }; c=0; counter; counter; echo $c`,
  `{ echo a; echo b; } | sort -r`,
  `(cd dir && pwd | sed 's#.*/##'); basename "$(pwd)" | grep -c .`,
  `x=1; (x=2; echo $x); echo $x`,
  `true && echo and; false && echo no; false || echo or; true || echo no`,
  `! false && echo negated; ! true; echo $?`,
  `echo one; echo two &  wait; echo three`,
  `while read line; do echo "got:$line"; done < b.txt`,
  `while IFS= read -r a b; do echo "[$a][$b]"; done <<EOF\n  spaced  out \nx\\\\y z\nEOF`,
  `read a b rest <<EOF\none two three four\nEOF\necho "$a|$b|$rest"`,
  `cat <<EOF\nvalue=$((2+2)) \\$notvar\n\tindent\nEOF\ncat <<'EOF'\nraw $HOME\nEOF\ncat <<-EOF\n\tstripped\n\tEOF\n`,
  `eval 'x=5; echo $x'; cmd='echo evaled'; eval "$cmd"`,
  `set -- a b c d; shift; echo $1 $#; shift 2; echo $1 $#`,
  `printf '%s\\n' one two | while read l; do echo "$l"; done | tail -n 1`,
  // set -e and exit codes
  `set -e; false || true; echo survived; if false; then :; fi; echo still; ! true; echo neg; false && true; echo andlist`,
  `set -e; echo before; false; echo after`,
  `set -e; (exit 3); echo not reached`,
  `set -e; f() { false; echo in-f; }; f || echo handled`,
  `set -e; x=$(false); echo unreached`,
  `exit 42`,
  `(exit 7); echo $?`,
  `false | true; echo $?; true | false; echo $?`,
  `set -o pipefail; false | true; echo $?`,
  `sh -c 'echo inner $0 $1; exit 5' zero one; echo $?`,
  `sh -c 'exit 3'; echo $?`,
  `./run.sh arg; echo "rc=$?"`,
  `./plain.sh x y; echo $?`,
  `./noexec.sh; echo "rc=$?"`,
  `./missing-script; echo "rc=$?"`,
  `sh run.sh q; echo $?`,
  `nosuchcommand 2>/dev/null; echo $?`,
  `if then`,
  `echo "unterminated`,
  `echo $((1/0)); echo after`,
  `unset x; echo \${x:?is unset}; echo after`,
  `set -u; echo \${undefined_var}; echo after`,
  // redirections
  `echo out > o.txt; echo more >> o.txt; cat o.txt; wc -l < o.txt`,
  `echo err 1>&2 2>/dev/null; echo visible`,
  `ls nonexist 2>/dev/null; echo $?`,
  `{ echo to-stderr >&2; } 2>e.txt; cat e.txt`,
  `ls nonexist > out.txt 2>&1; grep -c . out.txt`,
  `echo x 2>&1 >/dev/null | wc -c`,
  `cat < a.txt > copy.txt; cmp_out=$(cat copy.txt); echo "$cmp_out"`,
  `: > empty.txt; ls -l empty.txt | cut -c1-10`,
  `echo data > /dev/null; cat /dev/null; echo done`,
  `exec 3>fd3.txt; echo via3 >&3; cat fd3.txt`,
  `echo hi | tee t1.txt t2.txt > /dev/null; cat t1.txt t2.txt`,
  `echo new > a.txt; cat link`,
  // globbing
  `echo *.txt; echo dir/*; echo d*/*.txt; echo nomatch*; echo .h*`,
  `echo "*.txt" '*.txt' \\*.txt`,
  `echo [ab].txt; echo ?.txt; echo [!a].txt; echo dir/s*/z`,
  `for f in dir/*; do echo "file: $f"; done`,
  `set -f; echo *.txt; set +f; echo *.txt`,
  `echo */`,
  // utilities
  `echo -n no-newline; echo; echo -e 'tab\\there'; echo -e 'a\\cb'; echo -- -n`,
  `printf '%5s|%-5s|%05d|%x|%o|%c|%%\\n' ab cd 42 255 8 xyz; printf '%s,' a b c; echo; printf '%d %d\\n' 1 2 3 4`,
  `printf '%.2s %3.1f %e\\n' abcdef 3.14159 1234.5`,
  `cat -n b.txt; cat a.txt - b.txt < nums | wc -l`,
  `mkdir -p p/q/r && mkdir p/s && ls p; mkdir p 2>/dev/null; echo $?; mkdir -m 700 priv; ls -ld priv | cut -c1-10`,
  `rm a.txt; ls a.txt 2>/dev/null; echo $?; rm -f nope; echo $?; rm dir 2>/dev/null; echo $?; rm -r dir; ls`,
  `rmdir dir/sub 2>/dev/null; echo $?; mkdir -p e1/e2; rmdir -p e1/e2; ls -d e1 2>/dev/null; echo $?`,
  `cp a.txt c.txt; cp -r dir dir2; cp b.txt dir/; ls dir dir2; cat dir/b.txt`,
  `cp dir nodir 2>/dev/null; echo $?; mkdir t; cp a.txt b.txt t; ls t`,
  `cp -r dir/. newdir; ls newdir; mkdir existing; cp -r dir existing/; ls existing/dir`,
  `chmod 600 b.txt; cp -p b.txt bp.txt; cp b.txt bn.txt; ls -l bp.txt bn.txt | cut -c1-10`,
  `cp -a link linkcopy; cp link linkfollow; ls -l linkcopy | cut -c1; cat linkfollow`,
  `mv a.txt moved.txt; mv b.txt dir; mv dir renamed; ls; ls renamed`,
  `mv nums dir/sub/; ls dir/sub; mv dir/sub .; ls sub`,
  `ln -s b.txt sl; cat sl; ln -sf a.txt sl; cat sl; ln b.txt hard; cat hard; ln -s dir dl; ls dl`,
  `touch new1 new2; ls new*; touch a.txt; cat a.txt`,
  `chmod 755 a.txt; chmod u-x,go-r a.txt; chmod +x b.txt; chmod -R go-rwx dir; ls -l a.txt b.txt | cut -c1-10; ls -ld dir dir/sub | cut -c1-10`,
  `chmod a=r,u+w nums; chmod g+s dir; ls -ld nums dir | cut -c1-10`,
  `ls; ls -a; ls -A; ls -1 dir; ls -d dir; ls -R dir`,
  `ls dir a.txt b.txt; ls -F dir`,
  `head -n 2 nums; head -1 b.txt; head -c 3 a.txt; echo; tail -n 2 nums; tail -n +2 b.txt; tail -c 4 a.txt`,
  `head -n -1 b.txt; head b.txt a.txt`,
  `wc a.txt; wc -l b.txt nums; wc -w < a.txt; wc -c a.txt`,
  `sort nums; sort -n nums; sort -rn nums; printf 'b\\na\\nb\\n' | sort -u`,
  `printf 'x 3\\ny 1\\nz 2\\n' | sort -k2 -n; printf 'a:3\\nb:1\\n' | sort -t: -k2; printf 'B\\na\\nC\\n' | sort -f`,
  `printf '%s\\n' a a b c c c | uniq -c; printf '%s\\n' a a b | uniq -d; printf '%s\\n' a a b | uniq -u`,
  `echo Hello | tr a-z A-Z; echo hello | tr -d l; echo aabbcc | tr -s a-c; echo 'a b' | tr ' ' '\\n'`,
  `echo 'a:b:c' | cut -d: -f2; echo 'a:b:c' | cut -d: -f1,3; echo abcdef | cut -c2-4; echo 'a:b' | cut -d: -f2-`,
  `echo one two three | xargs -n 1 echo item; printf 'a\\nb\\n' | xargs echo all; echo x | xargs -I{} echo '<{}>'`,
  `grep hello a.txt; grep -c line b.txt; grep -v line2 b.txt; grep -n foo a.txt; grep -i HELLO a.txt; grep -q zzz a.txt; echo $?`,
  `grep -E 'line[13]' b.txt; grep 'l\\(ine\\)2' b.txt; grep -F 'o b' a.txt; grep -r x dir; grep -l x dir/x.txt a.txt`,
  `grep -w foo a.txt; grep -x 'foo bar' a.txt; grep -o 'l[a-z]' b.txt | head -n 2; grep nomatch a.txt; echo $?`,
  `sed 's/o/0/' a.txt; sed 's/o/0/g' a.txt; sed -n '2p' b.txt; sed '1d' b.txt; sed -e 's/line/L/' -e '$d' b.txt`,
  `sed -i 's/line/row/g' b.txt; cat b.txt; sed 's|/|_|g' <<EOF\n/a/b\nEOF`,
  `sed -E 's/(l)(ine)/\\2\\1/' b.txt; sed 's/[0-9]\\+/N/' b.txt; sed '/line2/,$ s/^/> /' b.txt; echo abc | sed 'y/abc/xyz/'`,
  `seq 3; seq 2 4; seq 1 2 7; seq -s , 3; seq 3 -1 1`,
  `basename /a/b/c.txt; basename /a/b/c.txt .txt; basename dir/; dirname /a/b/c; dirname c; dirname /`,
  `yes | head -n 3; yes no | head -n 2`,
  `env | grep -c '^PATH='; env FOO=bar sh -c 'echo $FOO'; FOO=1 sh -c 'echo $FOO'; echo "[$FOO]"`,
  `test -f a.txt && echo file; test -d dir && echo dir; test -e nope || echo missing; test -L link && echo link; test -x run.sh && echo exec`,
  `[ -s a.txt ] && echo nonempty; [ -z "" ] && echo empty; [ abc = abc ] && echo eq; [ 3 -gt 2 ] && echo gt; [ ! -e nope ] && echo not`,
  `[ 1 -eq 1 -a 2 -eq 2 ] && echo both; [ 1 -eq 2 -o 2 -eq 2 ] && echo either; [ \\( 1 -eq 1 \\) ] && echo paren; [ a \\< b ] && echo lt`,
  `test; echo $?; test ''; echo $?; test x; echo $?; [ 1 -lt ]; echo $?`,
  `find . -name '*.txt' | sort; find dir -type d | sort; find dir -type f -name 'z'`,
  `find . -maxdepth 1 -type f | sort; find dir -mindepth 2 | sort; find dir -name '*.log' -exec cat {} \\;`,
  `find dir -name '*.txt' -exec rm {} \\;; find dir | sort; find . -path './dir/*' | sort`,
  `pwd | grep -c /; cd dir; echo "$PWD" | sed 's#.*/##'; cd ..; cd -  >/dev/null; basename "$(pwd)"`,
  `cd dir/sub; cd ../..; ls -d dir; cd nonexist 2>/dev/null; echo $?`,
  `export A=exported; B=local; sh -c 'echo "[$A][$B]"'`,
  `readonly R=1; R=2 2>/dev/null; echo unreachable`,
  `unset -f nofunc; f() { echo f; }; unset -f f; f 2>/dev/null; echo $?`,
  `echo $#; set -- x y; echo $# $1 $2; set --; echo $#`,
  `command -v echo >/dev/null && echo found; command -v nosuchcmd; echo $?`,
  `type cd | grep -c builtin`,
  `getopts ab: opt -a; echo $opt; OPTIND=1; while getopts 'ab:c' o -a -b val -c; do echo "$o:\${OPTARG-}"; done`,
  `trap 'echo trapped' EXIT; echo body`,
  `(trap 'echo sub-exit' EXIT; exit 2); echo $?`,
  `. ./plain.sh; echo sourced`,
  `umask 077; touch private; mkdir pdir; ls -ld private pdir | cut -c1-10; umask`,
  `x=$(cat <<EOF\nheredoc in cmdsub\nEOF\n); echo "$x"`,
  `echo $(( $(echo 3) * 4 )); echo "\${#HOME}" | grep -c .`,
  `v=abc; echo \${v#a} "\${v%"c"}" \${v%\\c}`,
  `printf 'a\\tb\\n' | cut -f2; printf 'k=v\\n' | while IFS== read k v; do echo "$k -> $v"; done`,
  // more expansion corners
  `echo "\${x:-"a b"}" \${x:-'q r'} "\${x:-'s'}"`,
  `IFS=; v='a b'; set -- $v; echo $#; unset IFS; set -- $v; echo $#`,
  `a=5; echo $((a+=2)) $a $((a++)) $a $((--a)) $((a>3 ? 10 : 20)) $((2**10)) $((~0)) $((5&3|8^1))`,
  `case '*' in "*") echo star;; esac; case a in "*") echo no;; *) echo any;; esac; case '[x' in [*) echo bracket;; esac`,
  `a=b; b=c; eval echo \\$$a; echo \${a:-\${b:-nested}} \${zz:-\${b}}`,
  `x=$(exit 3); echo $?; echo $?; f() { return; }; false; f; echo $?`,
  `set -- 1 2; for x; do echo "arg $x"; done; while true; do break; done; echo $?`,
  `seq 100 | grep 5 | wc -l; yes | head -n 100000 | wc -l; seq 10 | tail -n 3 | head -n 1`,
  `sh -c 'echo $#' a b c; sh -c 'echo "$@"' zero 1 2`,
  `echo "$(cd dir; pwd)" | grep -c dir; pwd | grep -c dir`,
  `set -x; echo traced; set +x; echo quiet`,
  `unset IFS; printf '%s\\n'; test 1 -eq a; echo $?; [ -n "$nothing" ] || echo empty`,
  `cat <<EOF | tr a-z A-Z\nhello $((1+1))\nEOF`,
  `f() {\n  cat <<END\n  in func $1\nEND\n}\nf arg`,
  `echo Hello World | tr '[:lower:]' '[:upper:]'; echo 'a1b2c3' | tr -cd '[:digit:]'; echo; echo abc | tr -c a X; echo`,
  `printf 'b\\t2\\na\\t10\\n' | sort -k2n; printf 'x y\\nx a\\nw z\\n' | sort -k1,1 -k2; grep -c line b.txt a.txt`,
  `mv dir dir/sub 2>/dev/null; echo $?; ls dir`,
  `ln -s nonexistent dangling; ls -l dangling | cut -c1; test -e dangling || echo dangling; touch -c nope; ls nope 2>/dev/null || echo nocreate`,
  `echo abc | sed 's/b*/X/g'; sed -n '/line2/p' b.txt; sed '2q' b.txt; sed '$!d' b.txt; sed 's/\\(.*\\)/[\\1]/' b.txt; sed 's/line/&&/' b.txt`,
  `printf '%b\\n' 'a\\tb' 'c\\0101'; printf '%s\\n' "it's"; printf '%3d|%-3d|%+d\\n' 5 5 5; printf '%.3d\\n' 7`,
  `find . -type l; find . -name '.*' | sort; find . -name '*.sh' -type f | sort; find dir -empty`,
  `ls -a dir; ls -R . | head -n 4; ls -ld link | cut -c1`,
  `cat nofile; echo $?; mkdir dir; echo $?; rmdir dir; echo $?; cp nofile x; echo $?; mv nofile x; echo $?`,
  `ln -s a.txt b.txt; echo $?; chmod 644 nofile; echo $?; touch nodir/x; echo $?; grep x nofile; echo $?`,
  `head nofile; echo $?; wc nofile; echo $?; cd nofile; echo $?; ls dir/nofile; echo $?`,
  `echo a > f1; echo b >> f1; sort -r f1 > f2; cat f2; rm f1 f2; ls f1 f2 2>&1 | wc -l`,
  `x=1; x=$((x+1)) y=$x; echo $x $y; z=9 sh -c 'echo $z'; echo "[$z]"`,
  `echo a b c | { read x y; echo "$y/$x"; }; echo "$x" | wc -c`,
  `v=hello; echo \${v%l*} \${v%%l*} \${v#*l} \${v##*l} \${v#} \${v%x}`,
  `echo 'trailing\\' "dq\\\\"; echo '\\n'`,
  `for i in $(seq 3); do printf '%s-' "$i"; done; echo; echo $(echo a; echo b)`,
  `echo \${HOME:+set}; echo \${#PATH} | grep -c .; echo \${1-none} \${#} \${#@}`,
  `test -r a.txt && test -w a.txt && echo rw; [ a.txt -nt a.txt ] || echo notnewer; [ a.txt -ef link ] && echo same`,
  // declarations, prefixes and idioms
  `x="a b"; export A=$x; f() { local L=$x; echo "[$L]"; }; f; echo "[$A]"; readonly R=$x; echo "[$R]"`,
  `echo $ x "$" '$' a$`,
  `a=1; a=2 true; echo $a; f() { echo "in:$v"; }; v=1 f`,
  `IFS= read -r line < a.txt; echo "[$line]"; set -- $(echo a b); echo $#; echo "\${#}" $((\${#}+1))`,
  `echo $((x)); x=; echo $((x+1)); x=3; echo $((x)) $(( x ))`,
  `printf '%s\\n' $(seq 3) | sort -r | head -n 1; echo {a,b} a{b c}d`,
  `[ "$(ls)" ] && echo nonempty; test -z "$(cat /dev/null)" && echo empty; n=$(wc -l < b.txt); echo $((n * 2))`,
  `cat a.txt | while read x y; do echo "$y"; done; for f in *; do [ -d "$f" ] && echo "dir:$f"; done`,
  `case "$(echo hi)" in h*) echo match;; esac; echo "a" > "sp ace"; ls; cat "sp ace"`,
  `mkdir -p x/y; cd x/y; pwd | sed 's#.*/##'; cd ../..; rmdir x/y x; ls -d x 2>/dev/null || echo removed`,
  `until false; do break; done; echo ok; true | { read x; echo "[$x]"; }; : \${VAR:=default}; echo $VAR`,
  `readonly X=1; (X=2) 2>/dev/null; echo $?`,
  `false; echo $(true) $?; true; echo $(false) $?; x=$(false); echo $?; x=$(false) y=1; echo $?`,
  `f() { return 3; }; if f; then echo t; else echo "f=$?"; fi; ! f; echo $?`,
  `echo "$(echo "nested \\"quotes\\" $(echo deep)")"`,
  `v=x; echo "\${v}y" "\${v:+"\${v}z"}" '\${v}'`,
  `set -- "a b" c; echo "$#:$1"; shift; echo "$#:$1"; set -- "$@" d; echo "$@"`,
  `i=0; while :; do i=$((i+1)); [ $i -ge 3 ] && break; done; echo $i`,
  `for i in 1 2; do echo $i; done | while read n; do echo "n$n"; done`,
  `{ echo a; echo b; } > f.txt; wc -l < f.txt; grep -c . f.txt`,
  `seq 4 | paste - -; paste -d, nums nums; paste -s nums; grep -c x /dev/null; [ -c /dev/null ] && echo dev`,
  // Dockerfile idioms
  `set -ex; for d in a b c; do mkdir -p "pkg/$d"; touch "pkg/$d/.keep"; done; find pkg -name .keep | sort`,
  `echo "deb http://x stable main" > list; sed -i 's/stable/testing/' list; cat list; grep -q foo list || echo foo >> list; grep -q foo list || echo foo >> list; cat list`,
  `VERSION=1.2.3; echo \${VERSION%%.*} \${VERSION#*.}; ARCH=amd64; case "$ARCH" in amd64) A=x86_64;; *) exit 1;; esac; echo $A`,
  `printf '%s\\n' 'a=1' 'b=2' > env.list; while IFS='=' read -r k v; do echo "export $k=\\"$v\\""; done < env.list`,
  `{ echo '#!/bin/sh'; echo 'echo hello from $0'; } > s.sh && chmod 755 s.sh && ./s.sh`,
  `trap 'rm -f tmpfile' EXIT; echo hi > tmpfile; cat tmpfile`,
  `echo "A=1" > conf; . ./conf; echo $A; printf 'b\\na\\nb\\n' > f; sort -u -o f f; cat f`,
  `touch x.md y.md; for f in *.md; do mv "$f" "\${f%.md}.txt"; done; ls; find . -name '*.txt' -exec chmod 600 {} +; ls -l *.txt | cut -c1-10`,
  `mkdir -p src/a src/b; touch src/a/1 src/b/2; cp -r src dst; find dst | sort; rm -rf src`,
  `out=$(sh -c 'echo out; echo err >&2' 2>&1); echo "$out"; x=\`echo \\\`echo nested\\\`\`; echo $x`,
];

/** Scripts only the union view can run faithfully (memfs renames a symlink's target, not the link). */
const UNION_ONLY: string[] = [
  `mv link l2; cat l2; ls -l l2 | cut -c1; mkdir d; mv l2 d/; ls -l d | cut -c1 | tail -n 1`,
  `ln -s dir dl; mv dl dl2; ls dl2/; cp -a dl2 dl3; ls -l dl3 | cut -c1`,
];

describe.skipIf(!haveBusybox)('virtual shell vs busybox sh', () => {
  let binDir: string;

  it.beforeAll(({ fileTmp }) => {
    process.umask(0o022);
    binDir = join(fileTmp, 'bin');
    mkdirSync(binDir);
    for (const applet of APPLETS) symlinkSync(BUSYBOX, join(binDir, applet));
  });

  /** Runs `script` under busybox sh in a folder of its own (one per property run: test.prop takes no fixtures). */
  async function realRun(script: string): Promise<{ stdout: string; stderr: string; exitCode: number; tree: unknown }> {
    return withTempDir(async (dir) => {
      const work = join(dir, 'work');
      await nodeFs.mkdir(work);
      await writeTree(nodeFs as unknown as ExecutorFs, work, START);
      const r = spawnSync(BUSYBOX, ['sh', '-c', script], {
        cwd: work,
        env: { PATH: binDir, HOME: '/root', LC_ALL: 'C' },
        encoding: 'latin1',
        timeout: 20_000,
      });
      return {
        stdout: r.stdout,
        stderr: r.stderr,
        exitCode: r.status ?? -1,
        tree: await snapshot(nodeFs as unknown as ExecutorFs, work),
      };
    }, 'layerkit-bbrun-');
  }

  async function virtualRun(
    script: string,
    backend: 'memfs' | 'union' = 'memfs',
  ): Promise<{ stdout: string; stderr: string; exitCode: number; tree: unknown }> {
    const fs =
      backend === 'memfs' ? await makeFs({}, { etc: false }) : (createUnionFS({ layers: [] }) as unknown as ExecutorFs);
    await fs.mkdir('/work', { recursive: true });
    await writeTree(fs, '/work', START);
    const r = await run(script, { fs, cwd: '/work', env: { PATH: '/bin', HOME: '/root', LC_ALL: 'C' } });
    return { ...r, stdout: Buffer.from(r.stdout).toString('latin1'), tree: await snapshot(fs, '/work') };
  }

  const cases = [
    ...SCRIPTS.flatMap((s) => [[s, 'memfs'] as const, [s, 'union'] as const]),
    ...UNION_ONLY.map((s) => [s, 'union'] as const),
  ];
  // A script of the table runs under busybox once, for both backends it is compared on.
  const realRuns = new Map<string, ReturnType<typeof realRun>>();
  const realRunOnce = (script: string) => {
    let r = realRuns.get(script);
    if (!r) realRuns.set(script, (r = realRun(script)));
    return r;
  };
  test.each(cases)('%s (%s)', async (script, backend) => {
    const real = await realRunOnce(script);
    const virt = await virtualRun(script, backend);
    expect({ stdout: virt.stdout, exitCode: virt.exitCode, stderrEmpty: virt.stderr === '' }).toEqual({
      stdout: Buffer.from(real.stdout, 'latin1').toString('latin1'),
      exitCode: real.exitCode,
      stderrEmpty: real.stderr === '',
    });
    expect(virt.tree).toEqual(real.tree);
  });

  const word = fc.stringMatching(/^[a-e ]{0,6}$/);
  const stage = fc.constantFrom(
    'sort',
    'sort -r',
    'sort -u',
    'sort -n',
    'head -n 2',
    'head -n 1',
    'tail -n 2',
    'tail -n +2',
    'wc -l',
    'wc -w',
    'wc -c',
    'tr a-e A-E',
    'tr -d a',
    "tr -s ' '",
    'cut -c 1-3',
    "cut -d ' ' -f 2",
    'uniq',
    'uniq -c',
    'sort -k 2',
  );
  test.prop(
    [
      fc.array(word, { maxLength: 6 }),
      fc.array(stage, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('printf', 'echo', 'echo -n'),
    ],
    { numRuns: 40 },
  )('random pipelines agree with busybox sh', async (lines, stages, producer) => {
    const quoted = lines.map((l) => `'${l}'`).join(' ');
    const source =
      producer !== 'printf' ? `${producer} ${quoted}` : lines.length === 0 ? 'printf ""' : `printf '%s\\n' ${quoted}`;
    const script = [source, ...stages].join(' | ');
    const real = await realRun(script);
    const virt = await virtualRun(script);
    expect(virt.stdout).toBe(real.stdout);
    expect(virt.exitCode).toBe(real.exitCode);
  });

  const operand = fc.oneof(fc.integer({ min: -20, max: 20 }).map(String), fc.constantFrom('x', 'y', '010', '0x1f'));
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      operand,
      fc
        .tuple(
          tie('e'),
          fc.constantFrom('+', '-', '*', '<', '<=', '==', '!=', '&&', '||', '&', '|', '^', '<<'),
          tie('e'),
        )
        .map(([a, op, b]) => `${a} ${op} ${b}`),
      // busybox evaluates the branch ?: does not take, so a divisor is never zero here
      fc
        .tuple(tie('e'), fc.constantFrom('/', '%'), fc.integer({ min: 1, max: 9 }))
        .map(([a, op, n]) => `(${a}) ${op} ${n}`),
      tie('e').map((a) => `(${a})`),
      tie('e').map((a) => `!${a}`),
      // busybox rejects an unparenthesised ?: in the middle operand, which bash and POSIX accept
      fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, a, b]) => `${c} ? (${a}) : ${b}`),
    ),
  })).e;
  test.prop([expr], { numRuns: 60 })('random arithmetic agrees with busybox sh', async (e) => {
    const script = `x=7; y=-3; echo $((${e}))`;
    const real = await realRun(script);
    const virt = await virtualRun(script);
    expect({ stdout: virt.stdout, exitCode: virt.exitCode }).toEqual({ stdout: real.stdout, exitCode: real.exitCode });
  });

  const patternWord = fc.stringMatching(/^[ab./]{0,6}$/);
  const pattern = fc.stringMatching(/^[ab.*?/]{0,4}$/);
  test.prop([patternWord, pattern, fc.constantFrom('#', '##', '%', '%%')], { numRuns: 60 })(
    'random pattern removal agrees with busybox sh',
    async (value, pat, op) => {
      const script = `v='${value}'; printf '[%s]\\n' "\${v${op}${pat}}"; case "$v" in ${pat || "''"}) echo match;; esac`;
      const real = await realRun(script);
      const virt = await virtualRun(script);
      expect({ stdout: virt.stdout, exitCode: virt.exitCode }).toEqual({
        stdout: real.stdout,
        exitCode: real.exitCode,
      });
    },
  );

  const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\(a\\)', '\\(ab*\\)');
  const piece = fc.tuple(atom, fc.constantFrom('', '', '*', '\\{1,2\\}')).map(([a, q]) => a + q);
  const bre = fc
    .tuple(fc.boolean(), fc.array(piece, { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([s, p, e]) => `${s ? '^' : ''}${p.join('')}${e ? '$' : ''}`);
  const text = fc.array(fc.stringMatching(/^[abc]{0,5}$/), { minLength: 1, maxLength: 4 });
  test.prop([bre, text, fc.constantFrom('', 'g')], { numRuns: 50 })(
    'random basic regular expressions agree with busybox grep and sed',
    async (re, lines, flag) => {
      const input = lines.join('\\n');
      const script = `printf '${input}\\n' > in; grep -c '${re}' in; grep -o '${re}' in | head -n 5; sed 's/${re.replace(/\//g, '\\/')}/<&>/${flag}' in`;
      const real = await realRun(script);
      const virt = await virtualRun(script);
      expect({ stdout: virt.stdout, exitCode: virt.exitCode }).toEqual({
        stdout: real.stdout,
        exitCode: real.exitCode,
      });
    },
  );
});

if (!haveBusybox)
  describe('virtual shell vs busybox sh (busybox missing)', () => {
    test.skip(missingToolMessage('busybox'), () => {});
  });
