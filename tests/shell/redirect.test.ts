/** Redirections: files, fds, duplication order, heredocs, virtual devices, failures, modes and owners. */
import { describe, expect, it } from 'vitest';
import { makeFs, ownershipFs, run } from './helpers.js';

describe('redirections', () => {
  it.each<[string, { stdout?: string; stderr?: string; exitCode?: number }]>([
    ['echo a > /tmp/f; echo b > /tmp/f; cat /tmp/f', { stdout: 'b\n' }],
    ['echo a > /tmp/f; echo b >> /tmp/f; cat < /tmp/f', { stdout: 'a\nb\n' }],
    ['> /tmp/empty; wc -c < /tmp/empty', { stdout: '0\n' }],
    [
      'ls /nope 2> /tmp/err; echo $?; cat /tmp/err',
      { stdout: '1\nls: /nope: No such file or directory\n', stderr: '' },
    ],
    ['ls /nope 2>>/tmp/e; ls /nope2 2>>/tmp/e; wc -l < /tmp/e', { stdout: '2\n' }],
    ['{ echo out; echo err >&2; } > /tmp/both 2>&1; cat /tmp/both', { stdout: 'out\nerr\n', stderr: '' }],
    ['{ echo out; echo err >&2; } 2>&1 > /tmp/o; cat /tmp/o', { stdout: 'err\nout\n', stderr: '' }],
    ['{ echo out; echo err >&2; } &> /tmp/all; cat /tmp/all', { stdout: 'out\nerr\n', stderr: '' }],
    ['echo 1 &> /tmp/a; echo 2 &>> /tmp/a; cat /tmp/a', { stdout: '1\n2\n' }],
    ['{ echo out; echo err >&2; } >& /tmp/dup; cat /tmp/dup', { stdout: 'out\nerr\n' }],
    ['echo to-err 1>&2', { stdout: '', stderr: 'to-err\n' }],
    ['echo x 2>&1 1>/dev/null', { stdout: '', stderr: '' }],
    ['echo x >/dev/stderr', { stdout: '', stderr: 'x\n' }],
    ['echo x 2>/dev/stdout 1>&2', { stdout: 'x\n', stderr: '' }],
    ['echo in | cat /dev/stdin; echo in2 | cat - ; echo in3 | cat < /dev/stdin', { stdout: 'in\nin2\nin3\n' }],
    ['cat < /dev/null; echo x > /dev/null; echo $?', { stdout: '0\n' }],
    [
      'exec 3> /tmp/three; echo a >&3; echo b 1>&3; exec 3>&-; echo c >&3; cat /tmp/three',
      { stdout: 'a\nb\n', stderr: 'sh: 3: Bad file descriptor\n' },
    ],
    ['cat 3<<EOF <&3\nfrom three\nEOF', { stdout: 'from three\n' }],
    ['echo hi >&-; echo $?', { stdout: '0\n' }],
    ['for i in 1 2; do echo $i; done > /tmp/loop; cat /tmp/loop', { stdout: '1\n2\n' }],
    ['while read l; do echo "<$l>"; done < /etc/group | head -n 1', { stdout: '<root:x:0:>\n' }],
    ['if true; then echo in-if; fi 2>/dev/null >/tmp/if; cat /tmp/if', { stdout: 'in-if\n' }],
    ['f() { echo in-f; }; f > /tmp/func; cat /tmp/func', { stdout: 'in-f\n' }],
    ['echo > /; echo $?', { stdout: '1\n', stderr: "sh: can't create /: Is a directory\n" }],
    ['echo hi > /nodir/f; echo $?', { stdout: '1\n', stderr: "sh: can't create /nodir/f: nonexistent directory\n" }],
    ['cat < /nope; echo $?', { stdout: '1\n', stderr: "sh: can't open '/nope': No such file or directory\n" }],
    [
      'echo not-run > /nodir/x || echo failed',
      { stdout: 'failed\n', stderr: "sh: can't create /nodir/x: nonexistent directory\n" },
    ],
    ['{ echo never; } < /nope; echo $?', { stdout: '1\n' }],
    [
      'set -C; echo a > /tmp/c; echo b > /tmp/c; echo $?; echo c >| /tmp/c; cat /tmp/c',
      { stdout: '1\nc\n', stderr: "sh: can't create /tmp/c: File exists\n" },
    ],
    ['echo data > /tmp/rw; cat <> /tmp/rw; cat <> /tmp/created; ls /tmp/created', { stdout: 'data\n/tmp/created\n' }],
    ['x=$(echo out; echo err >&2) 2>/dev/null; echo "$x"', { stdout: 'out\n', stderr: '' }],
    ['echo $(echo $((1+1)) > /tmp/cs) ; cat /tmp/cs', { stdout: '\n2\n' }],
    ['cat <<EOF > /tmp/h\nline $((2*3))\nEOF\ncat /tmp/h', { stdout: 'line 6\n' }],
    ['cat <<-  "EOF"\n\tno $expand\n\tEOF', { stdout: 'no $expand\n' }],
    ['cat <<E1; cat <<E2\none\nE1\ntwo\nE2', { stdout: 'one\ntwo\n' }],
    ['echo a b | (read x y; echo $y) 2>&1', { stdout: 'b\n' }],
    ['echo ok > /tmp/file with space 2>/dev/null; cat /tmp/file', { stdout: 'ok with space\n' }],
    ['f=/tmp/v; echo via-var > $f; cat "$f"', { stdout: 'via-var\n' }],
  ])('%s', async (script, expected) => {
    const r = await run(script);
    const picked: typeof expected = {};
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    if (expected.exitCode !== undefined) picked.exitCode = r.exitCode;
    expect(picked).toEqual(expected);
  });

  it('creates files with the umask applied and owned by the running user', async () => {
    const fs = ownershipFs(await makeFs({ 'home/appuser': { dir: true, mode: 0o777 } }));
    await run('echo a > /home/appuser/f; umask 077; echo b > /home/appuser/g; echo c >> /home/appuser/f', {
      fs,
      user: 'appuser',
    });
    const f = await fs.stat('/home/appuser/f');
    const g = await fs.stat('/home/appuser/g');
    expect([f.mode & 0o777, f.uid, f.gid]).toEqual([0o644, 1000, 1000]);
    expect([g.mode & 0o777, g.uid, g.gid]).toEqual([0o600, 1000, 1000]);
    expect(await fs.readFile('/home/appuser/f', 'utf8')).toBe('a\nc\n');
  });

  it('keeps the mode and owner of a file it truncates', async () => {
    const fs = ownershipFs(await makeFs({ 'tmp/x': { content: 'old', mode: 0o600 } }));
    await fs.chown('/tmp/x', 7, 8);
    await run('echo new > /tmp/x', { fs });
    const st = await fs.stat('/tmp/x');
    expect([st.mode & 0o777, st.uid, st.gid, await fs.readFile('/tmp/x', 'utf8')]).toEqual([0o600, 7, 8, 'new\n']);
  });

  it('streams output as it is produced, in order across stdout and stderr', async () => {
    const fs = await makeFs();
    const events: string[] = [];
    const { runShellScript } = await import('../../src/shell/index.js');
    await runShellScript({
      script: 'echo 1; echo 2 >&2; echo 3',
      fs,
      stdout: (c) => events.push(`out:${Buffer.from(c).toString()}`),
      stderr: (c) => events.push(`err:${Buffer.from(c).toString()}`),
    });
    expect(events).toEqual(['out:1\n', 'err:2\n', 'out:3\n']);
  });
});
