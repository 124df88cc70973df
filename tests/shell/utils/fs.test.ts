/** Filesystem utilities with their flags, over memfs (and a test double where memfs falls short). */
import { describe, expect, it } from 'vitest';
import type { ExecutorFs } from '../../../src/union/fs-contract.js';
import { makeFs, ownershipFs, run, snapshot } from '../helpers.js';

const TREE = {
  'w/a.txt': 'A\n',
  'w/b.txt': 'B\n',
  'w/dir/x': 'X\n',
  'w/dir/sub/y': 'Y\n',
  'w/dir/.hid': 'H\n',
  'w/exe': { content: '#!/bin/sh\n', mode: 0o755 },
  'w/link': { symlink: 'a.txt' },
  'w/dirlink': { symlink: 'dir' },
  'w/dangling': { symlink: 'nowhere' },
};

type Row = [string, { stdout?: string; stderr?: string; exitCode?: number }];

async function table(rows: Row[]): Promise<void> {
  for (const [script, expected] of rows) {
    const fs = await makeFs(TREE);
    const r = await run(script, {
      fs,
      cwd: '/w',
      env: { PATH: '/bin', HOME: '/root', SOURCE_DATE_EPOCH: '1700000000' },
    });
    const picked: Row[1] = {};
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    picked.exitCode = r.exitCode;
    expect({ script, ...picked }).toEqual({ script, exitCode: 0, ...expected });
  }
}

async function tree(script: string, fs?: ExecutorFs): Promise<{ out: string; entries: string[] }> {
  const f = fs ?? (await makeFs(TREE));
  const r = await run(script, { fs: f, cwd: '/w' });
  const entries = (await snapshot(f, '/w')).map(
    (e) => `${e.path} ${e.type} ${e.mode}${e.target === undefined ? '' : ` -> ${e.target}`}`,
  );
  return { out: `${r.stdout + r.stderr}[${r.exitCode}]`, entries };
}

describe('mkdir, rmdir, rm', () => {
  it.each<Row>([
    ['mkdir n; ls -ld n | cut -c1-10', { stdout: 'drwxr-xr-x\n' }],
    ['mkdir -p p/q/r; ls -R p | head -n 3', { stdout: 'p:\nq\n\n' }],
    ['mkdir -p dir a.txt 2>/dev/null; echo $?', { stdout: '1\n' }],
    ['mkdir -m 700 m; mkdir -m u=rwx,g=rx m2; ls -ld m m2 | cut -c1-10', { stdout: 'drwx------\ndrwxr-xrwx\n' }],
    ['mkdir -p -m 700 p/q; ls -ld p p/q | cut -c1-10', { stdout: 'drwxr-xr-x\ndrwx------\n' }],
    ['mkdir dir', { stderr: "mkdir: can't create directory 'dir': File exists\n", exitCode: 1 }],
    ['mkdir no/such', { stderr: "mkdir: can't create directory 'no/such': No such file or directory\n", exitCode: 1 }],
    ['mkdir -v v', { stdout: "mkdir: created directory '/w/v'\n" }],
    ['mkdir', { stderr: 'mkdir: missing operand\n', exitCode: 2 }],
    ['mkdir -m 999 z', { stderr: "mkdir: invalid mode '999'\n", exitCode: 2 }],
    ['rmdir dir', { stderr: "rmdir: 'dir': Directory not empty\n", exitCode: 1 }],
    ['rmdir a.txt', { stderr: "rmdir: 'a.txt': Not a directory\n", exitCode: 1 }],
    ['mkdir -p e/f/g; rmdir -p e/f/g; ls -d e 2>/dev/null; echo $?', { stdout: '1\n' }],
    ['mkdir e; touch e/k; rmdir --ignore-fail-on-non-empty e; echo $?', { stdout: '0\n' }],
    ['rm a.txt; ls a.txt 2>/dev/null || echo gone', { stdout: 'gone\n' }],
    ['rm link; cat a.txt', { stdout: 'A\n' }],
    ['rm dirlink; ls dir | wc -l', { stdout: '2\n' }],
    [
      'rm -f nope; echo $?; rm nope',
      { stdout: '0\n', stderr: "rm: can't remove 'nope': No such file or directory\n", exitCode: 1 },
    ],
    ['rm dir', { stderr: "rm: can't remove 'dir': Is a directory\n", exitCode: 1 }],
    ['rm -r dir; ls -d dir 2>/dev/null || echo gone', { stdout: 'gone\n' }],
    ['rm -rf dir nope; echo $?', { stdout: '0\n' }],
    ['mkdir e; rm -d e; echo $?', { stdout: '0\n' }],
    ['rm -r .', { stderr: "rm: refusing to remove '.' or '..' directory: skipping '.'\n", exitCode: 1 }],
    ['rm -rf /', { stderr: "rm: it is dangerous to operate recursively on '/'\n", exitCode: 1 }],
    ['rm -v a.txt', { stdout: "removed 'a.txt'\n" }],
    ['rm dangling; echo $?', { stdout: '0\n' }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});

describe('cp', () => {
  it('copies files, into directories, and refuses directories without -r', async () => {
    const r = await tree('cp a.txt c.txt; cp a.txt b.txt dir; cp dir d2; echo $?; cp a.txt nodir/; echo $?');
    expect(r.out).toBe("1\n1\ncp: omitting directory 'dir'\ncp: can't create 'nodir/': Not a directory\n[0]");
    expect(r.entries).toContain('c.txt file 644');
    expect(r.entries).toContain('dir/a.txt file 644');
    expect(r.entries).toContain('dir/b.txt file 644');
    expect(r.entries.some((e) => e.startsWith('d2'))).toBe(false);
  });

  it('copies trees with -r, contents with src/., and symlinks as symlinks', async () => {
    const r = await tree('cp -r dir d2; mkdir d3; cp -r dir/. d3; cp -R dir d3/; cp -r dirlink dl2');
    expect(r.out).toBe('[0]');
    for (const e of [
      'd2 dir 755',
      'd2/.hid file 644',
      'd2/sub/y file 644',
      'd3/x file 644',
      'd3/sub/y file 644',
      'd3/dir/x file 644',
      'dl2 symlink - -> dir',
    ]) {
      expect(r.entries).toContain(e);
    }
  });

  it('follows symlinks without -r, keeps them with -P/-a, and -L follows in trees', async () => {
    const r = await tree(
      'cp link f1; cp -P link f2; cp -a link f3; mkdir t; ln -s ../a.txt t/l; cp -rL t t2; cp -r t t3',
    );
    expect(r.entries).toEqual(
      expect.arrayContaining([
        'f1 file 644',
        'f2 symlink - -> a.txt',
        'f3 symlink - -> a.txt',
        't2/l file 644',
        't3/l symlink - -> ../a.txt',
      ]),
    );
  });

  it('preserves mode with -p/-a, otherwise applies the umask to the source mode', async () => {
    const fs = await makeFs({ 'w/m': { content: 'm', mode: 0o4751 }, 'w/d': { dir: true, mode: 0o700 } });
    await run('cp m plain; cp -p m kept; cp -a d d2; cp -r d d3; umask 077; cp m masked', { fs, cwd: '/w' });
    const modes = (await snapshot(fs, '/w')).map((e) => `${e.path}:${e.mode}`);
    expect(modes).toEqual(['d:700', 'd2:700', 'd3:700', 'kept:4751', 'm:4751', 'masked:700', 'plain:751']);
  });

  it('preserves owners and mtimes with -a', async () => {
    const fs = ownershipFs(await makeFs({ 'w/o': 'o' }));
    await fs.chown('/w/o', 5, 6);
    await fs.utimes('/w/o', 1000, 1000);
    await run('cp -a o kept; cp o fresh', { fs, cwd: '/w' });
    const kept = await fs.stat('/w/kept');
    const fresh = await fs.stat('/w/fresh');
    expect([kept.uid, kept.gid, Math.round(kept.mtimeMs / 1000)]).toEqual([5, 6, 1000]);
    expect([fresh.uid, fresh.gid]).toEqual([0, 0]);
  });

  it.each<Row>([
    ['cp -n b.txt a.txt; cat a.txt', { stdout: 'A\n' }],
    ['cp b.txt a.txt; cat a.txt', { stdout: 'B\n' }],
    ['cp a.txt a.txt', { stderr: "cp: 'a.txt' and 'a.txt' are the same file\n", exitCode: 1 }],
    ['cp -r dir dir/sub', { stderr: "cp: cannot copy a directory, 'dir', into itself, 'dir/sub/dir'\n", exitCode: 1 }],
    ['cp a.txt b.txt c.txt', { stderr: "cp: target 'c.txt' is not a directory\n", exitCode: 1 }],
    ['cp nope x', { stderr: "cp: can't stat 'nope': No such file or directory\n", exitCode: 1 }],
    ['cp -v a.txt c', { stdout: "'a.txt' -> 'c'\n" }],
    ['cp a.txt', { stderr: "cp: missing destination file operand after 'a.txt'\n", exitCode: 2 }],
    ['mkdir t; cp -T dir t; echo $?; cp -rT dir t; ls t', { stdout: '1\nsub\nx\n' }],
    ['cp -r dir a.txt', { stderr: "cp: cannot overwrite non-directory 'a.txt' with directory 'dir'\n", exitCode: 1 }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});

describe('mv, ln', () => {
  it.each<Row>([
    ['mv a.txt c.txt; ls a.txt c.txt 2>/dev/null', { stdout: 'c.txt\n', exitCode: 1 }],
    ['mv a.txt b.txt dir; ls dir', { stdout: 'a.txt\nb.txt\nsub\nx\n' }],
    ['mv dir/sub .; ls sub', { stdout: 'y\n' }],
    ['mv -n a.txt b.txt; cat b.txt a.txt', { stdout: 'B\nA\n' }],
    ['mv a.txt b.txt; cat b.txt', { stdout: 'A\n' }],
    ['mv dir dir/sub', { stderr: "mv: cannot move 'dir' to a subdirectory of itself, 'dir/sub'\n", exitCode: 1 }],
    ['mkdir e; mv a.txt e; mv e/a.txt .; mkdir f; mv a.txt f/renamed; ls f', { stdout: 'renamed\n' }],
    ['mkdir -p t/dir; mv a.txt t/dir', { stdout: '' }],
    ['mv a.txt dir/sub/y/z', { exitCode: 1 }],
    ['mv dir a.txt', { stderr: "mv: cannot overwrite non-directory '/w/a.txt' with directory 'dir'\n", exitCode: 1 }],
    ['mv nope x', { stderr: "mv: can't stat 'nope': No such file or directory\n", exitCode: 1 }],
    ['mv -v a.txt z', { stdout: "renamed 'a.txt' -> '/w/z'\n" }],
    ['ln -s a.txt s; cat s; readlink s', { stdout: 'A\na.txt\n' }],
    ['ln -s a.txt dir; readlink dir/a.txt', { stdout: 'a.txt\n' }],
    ['ln -s b.txt link', { stderr: 'ln: link: File exists\n', exitCode: 1 }],
    ['ln -sf b.txt link; cat link', { stdout: 'B\n' }],
    ['ln -sfn b.txt dirlink; readlink dirlink; ls dir | wc -l', { stdout: 'b.txt\n2\n' }],
    ['ln -sf b.txt dirlink; readlink dir/b.txt', { stdout: 'b.txt\n' }],
    ['ln -sfT b.txt dirlink; readlink dirlink', { stdout: 'b.txt\n' }],
    ['ln a.txt h; echo more >> h; cat a.txt; stat -c %h a.txt', { stdout: 'A\nmore\n2\n' }],
    ['ln dir h', { stderr: 'ln: dir: hard link not allowed for directory\n', exitCode: 1 }],
    ['cd dir; ln -s ../a.txt; cat a.txt', { stdout: 'A\n' }],
    ['ln -sv a.txt v', { stdout: "'v' -> 'a.txt'\n" }],
  ])('%s', async (script, expected) => table([[script, expected]]));

  it('mv copies and deletes when the filesystem refuses to rename across devices', async () => {
    const inner = await makeFs(TREE);
    const fs = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'rename') {
          return async () => {
            throw Object.assign(new Error('EXDEV: cross-device link not permitted, rename'), { code: 'EXDEV' });
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await tree('mv dir moved; mv a.txt moved/', fs);
    expect(r.out).toBe('[0]');
    expect(r.entries.filter((e) => /^(moved|dir|a\.txt)[ /]/.test(e))).toEqual([
      'moved dir 755',
      'moved/.hid file 644',
      'moved/a.txt file 644',
      'moved/sub dir 755',
      'moved/sub/y file 644',
      'moved/x file 644',
    ]);
  });
});

describe('touch, chmod, chown, chgrp', () => {
  it.each<Row>([
    ['touch n; ls -l n | cut -c1-10; wc -c < n', { stdout: '-rw-r--r--\n0\n' }],
    ['touch -c nope; ls nope 2>/dev/null; echo $?', { stdout: '1\n' }],
    ['touch -d "2020-01-02 03:04:05" a.txt; date -r a.txt +%F_%T', { stdout: '2020-01-02_03:04:05\n' }],
    ['touch -d @86400 a.txt; stat -c %Y a.txt', { stdout: '86400\n' }],
    ['touch -t 202001020304.05 a.txt; date -r a.txt "+%Y%m%d%H%M%S"', { stdout: '20200102030405\n' }],
    ['touch -d @5 a.txt; touch -r a.txt b.txt; stat -c %Y b.txt', { stdout: '5\n' }],
    ['touch new; stat -c %Y new', { stdout: '1700000000\n' }],
    ['touch no/such', { stderr: 'touch: no/such: No such file or directory\n', exitCode: 1 }],
    ['touch -d yesterday x', { stderr: "touch: invalid date 'yesterday'\n", exitCode: 2 }],
    ['chmod 750 a.txt; stat -c %a a.txt', { stdout: '750\n' }],
    ['chmod u+x,g-r,o= a.txt; stat -c %A a.txt', { stdout: '-rwx------\n' }],
    [
      'chmod +x a.txt; stat -c %a a.txt; umask 077; chmod +w b.txt; chmod a+w b.txt; stat -c %a b.txt',
      { stdout: '755\n666\n' },
    ],
    ['chmod a=r a.txt; chmod u+w,g=u a.txt; stat -c %a a.txt', { stdout: '664\n' }],
    ['chmod 4755 exe; chmod g+s,+t dir; stat -c "%a %A" exe dir', { stdout: '4755 -rwsr-xr-x\n3755 drwxr-sr-t\n' }],
    ['chmod u-s,a-x exe; stat -c %A exe', { stdout: '-rw-r--r--\n' }],
    ['chmod -R go-rx dir; stat -c %a dir dir/sub dir/x', { stdout: '700\n700\n600\n' }],
    ['chmod a-x,a+X dir exe a.txt; stat -c %a dir exe a.txt', { stdout: '755\n644\n644\n' }],
    ['chmod 600 link; stat -c %a a.txt', { stdout: '600\n' }],
    ['chmod -x exe; stat -c %a exe', { stdout: '644\n' }],
    ['chmod 644 nope', { stderr: "chmod: cannot access 'nope': No such file or directory\n", exitCode: 1 }],
    ['chmod z+q a.txt', { stderr: "chmod: invalid mode 'z+q'\n", exitCode: 2 }],
    ['chmod 644', { exitCode: 2 }],
    ['chown nobody a.txt', { stdout: '' }],
    ['chown ghost a.txt', { stderr: 'chown: unknown user ghost\n', exitCode: 1 }],
    ['chown 0:ghosts a.txt', { stderr: 'chown: unknown group ghosts\n', exitCode: 1 }],
    ['chgrp ghosts a.txt', { stderr: 'chgrp: unknown group ghosts\n', exitCode: 1 }],
  ])('%s', async (script, expected) => table([[script, expected]]));

  it('chown resolves names from /etc/passwd and /etc/group, recurses and handles symlinks', async () => {
    const fs = ownershipFs(await makeFs(TREE));
    const r = await run(
      'chown appuser a.txt; chown appuser: b.txt; chown :staff exe; chown 42:43 dir/x; chown -R nobody:nogroup dir/sub; chown -h 9:9 link; chown 8 dirlink; chgrp 50 dir',
      { fs, cwd: '/w' },
    );
    expect(r).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const owner = async (p: string, l = false): Promise<string> => {
      const st = l ? await fs.lstat(p) : await fs.stat(p);
      return `${st.uid}:${st.gid}`;
    };
    expect(await owner('/w/a.txt')).toBe('1000:0');
    expect(await owner('/w/b.txt')).toBe('1000:1000');
    expect(await owner('/w/exe')).toBe('0:50');
    expect(await owner('/w/dir/x')).toBe('42:43');
    expect(await owner('/w/dir/sub')).toBe('65534:65534');
    expect(await owner('/w/dir/sub/y')).toBe('65534:65534');
    expect(await owner('/w/link', true)).toBe('9:9');
    expect(await owner('/w/dir')).toBe('8:50');
  });
});

describe('ls', () => {
  it.each<Row>([
    ['ls', { stdout: 'a.txt\nb.txt\ndangling\ndir\ndirlink\nexe\nlink\n' }],
    ['ls -a dir; ls -A dir', { stdout: '.\n..\n.hid\nsub\nx\n.hid\nsub\nx\n' }],
    ['ls -d dir; ls dirlink; ls -d dirlink', { stdout: `${'dir\n.hid\nsub\nx\n'.replace('.hid\n', '')}dirlink\n` }],
    ['ls -F', { stdout: 'a.txt\nb.txt\ndangling@\ndir/\ndirlink@\nexe*\nlink@\n' }],
    ['ls -p dir', { stdout: 'sub/\nx\n' }],
    ['ls -r dir; ls -1 dir', { stdout: 'x\nsub\nsub\nx\n' }],
    ['ls a.txt dir b.txt', { stdout: 'a.txt\nb.txt\n\ndir:\nsub\nx\n' }],
    ['ls dir dir/sub', { stdout: 'dir:\nsub\nx\n\ndir/sub:\ny\n' }],
    ['ls -R dir', { stdout: 'dir:\nsub\nx\n\ndir/sub:\ny\n' }],
    ['echo big > big; touch -d @1 a.txt; ls -S a.txt big; ls -t a.txt big', { stdout: 'big\na.txt\nbig\na.txt\n' }],
    ['ls nope; echo $?', { stdout: '1\n', stderr: 'ls: nope: No such file or directory\n' }],
    ['ls -l a.txt', { stdout: '-rw-r--r--    1 root     root             2 Nov 14 22:13 a.txt\n' }],
    [
      'ls -ln a.txt; ls -l link | cut -c 1-43; ls -l link | sed "s/.* link/link/"',
      {
        stdout:
          '-rw-r--r--    1 0        0                2 Nov 14 22:13 a.txt\nlrwxrwxrwx    1 root     root             5\nlink -> a.txt\n',
      },
    ],
    ['touch -d 2001-02-03 old; ls -l old | cut -c 45-', { stdout: 'Feb  3  2001 old\n' }],
    ['ls -l dir | head -n 1', { stdout: 'total 4\n' }],
    ['ls -lh exe | cut -c 1-10', { stdout: '-rwxr-xr-x\n' }],
  ])('%s', async (script, expected) => {
    const fs = await makeFs(TREE);
    for (const p of ['/w/a.txt', '/w/link']) await fs.utimes(p, 1700000000, 1700000000).catch(() => undefined);
    const r = await run(script, { fs, cwd: '/w', env: { PATH: '/bin', SOURCE_DATE_EPOCH: '1700000000' } });
    const picked: Row[1] = { exitCode: r.exitCode };
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    expect(picked).toEqual({ exitCode: 0, ...expected });
  });

  it('shows owner names from the image, numbers when unknown', async () => {
    const fs = ownershipFs(await makeFs(TREE));
    await fs.chown('/w/a.txt', 1000, 50);
    await fs.chown('/w/b.txt', 4242, 4343);
    const r = await run('ls -l a.txt b.txt | cut -c 17-33', { fs, cwd: '/w' });
    expect(r.stdout).toBe('appuser  staff   \n4242     4343    \n');
  });
});

describe('find', () => {
  it.each<Row>([
    ['find dir', { stdout: 'dir\ndir/.hid\ndir/sub\ndir/sub/y\ndir/x\n' }],
    ['find . -name "*.txt"', { stdout: './a.txt\n./b.txt\n' }],
    ['find . -maxdepth 1 -type d', { stdout: '.\n./dir\n' }],
    ['find . -type l | sort', { stdout: './dangling\n./dirlink\n./link\n' }],
    ['find dir -mindepth 1 -maxdepth 1', { stdout: 'dir/.hid\ndir/sub\ndir/x\n' }],
    ['find dir -type f -name y -o -name x', { stdout: 'dir/sub/y\ndir/x\n' }],
    ['find dir ! -type d', { stdout: 'dir/.hid\ndir/sub/y\ndir/x\n' }],
    ['find dir -not -name "*.*" -type f', { stdout: 'dir/sub/y\ndir/x\n' }],
    ['find dir \\( -name x -o -name y \\) -print', { stdout: 'dir/sub/y\ndir/x\n' }],
    ['find . -path "./dir/s*"', { stdout: './dir/sub\n./dir/sub/y\n' }],
    ['find . -iname "A.TXT"', { stdout: './a.txt\n' }],
    ['find dir -name x -exec cat {} \\;', { stdout: 'X\n' }],
    ['find dir -type f -exec echo found {} +', { stdout: 'found dir/.hid dir/sub/y dir/x\n' }],
    ['find dir -name "*" -type f -exec sh -c "echo [\\$1]" sh {} \\; | head -n 1', { stdout: '[dir/.hid]\n' }],
    ['find dir -name sub -prune -o -print', { stdout: 'dir\ndir/.hid\ndir/x\n' }],
    ['find dir -type f -delete; find dir', { stdout: 'dir\ndir/sub\n' }],
    ['find dir -delete; ls dir 2>/dev/null; echo $?', { stdout: '1\n' }],
    ['touch e; find . -maxdepth 1 -empty', { stdout: './e\n' }],
    ['find . -maxdepth 1 -perm 755 -type f; find . -maxdepth 1 -perm -100 -type f', { stdout: './exe\n./exe\n' }],
    ['find . -maxdepth 1 -size +0 -type f -name "*.txt"; find . -size -1 -type f', { stdout: './a.txt\n./b.txt\n' }],
    ['find dir -print0 -quit | tr "\\0" "|"', { stdout: 'dir|' }],
    ['find nope; echo $?', { stdout: '1\n', stderr: "find: 'nope': No such file or directory\n" }],
    ['find . -bogus', { stderr: "find: unknown predicate '-bogus'\n", exitCode: 1 }],
    ['find . -user root -type f -name a.txt; find . -group 0 -name b.txt', { stdout: './a.txt\n./b.txt\n' }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});

describe('stat, test, readlink, realpath, mktemp', () => {
  it.each<Row>([
    [
      'stat -c "%n %s %a %A %u %U %g %G %F %h" a.txt',
      { stdout: 'a.txt 2 644 -rw-r--r-- 0 root 0 root regular file 1\n' },
    ],
    [
      'stat -c "%F|%N" dir link; touch e; stat -c %F e',
      { stdout: "directory|'dir'\nsymbolic link|'link' -> 'a.txt'\nregular empty file\n" },
    ],
    ['stat -L -c %F link; stat --printf "%s\\n" a.txt', { stdout: 'regular file\n2\n' }],
    ['touch -d @0 a.txt; stat -c "%Y %y" a.txt', { stdout: '0 1970-01-01 00:00:00.000000000 +0000\n' }],
    ['stat a.txt | head -n 1', { stdout: "  File: 'a.txt'\n" }],
    ['stat nope', { stderr: "stat: can't stat 'nope': No such file or directory\n", exitCode: 1 }],
    [
      'test -e a.txt -a -f a.txt -a -d dir -a -h link -a -L dangling -a ! -e dangling -a -x exe -a ! -x a.txt && echo ok',
      { stdout: 'ok\n' },
    ],
    ['touch e; [ -s a.txt ] && [ ! -s e ] && [ -r a.txt ] && [ -w a.txt ] && echo sizes', { stdout: 'sizes\n' }],
    ['chmod 4755 exe; [ -u exe ] && [ ! -g exe ] && [ ! -k exe ] && echo bits', { stdout: 'bits\n' }],
    [
      '[ -O a.txt ] && [ -G a.txt ] && [ ! -b a.txt ] && [ ! -c a.txt ] && [ ! -p a.txt ] && [ ! -S a.txt ] && [ ! -t 1 ] && echo kinds',
      { stdout: 'kinds\n' },
    ],
    [
      'touch -d @1 a.txt; touch -d @2 b.txt; [ b.txt -nt a.txt ] && [ a.txt -ot b.txt ] && [ a.txt -ef link ] && echo times',
      { stdout: 'times\n' },
    ],
    [
      '[ -z "" ] && [ -n x ] && [ x ] && [ ! "" ] && [ a = a ] && [ a == a ] && [ a != b ] && [ a \\< b ] && [ b \\> a ] && echo strings',
      { stdout: 'strings\n' },
    ],
    [
      '[ 2 -eq 2 ] && [ 1 -ne 2 ] && [ 1 -lt 2 ] && [ 2 -le 2 ] && [ 3 -gt 2 ] && [ 3 -ge 3 ] && [ -5 -lt " 4" ] && echo ints',
      { stdout: 'ints\n' },
    ],
    ['[ 1 -eq 1 -a \\( 2 -eq 3 -o 3 -eq 3 \\) ] && [ ! 1 -eq 2 ] && [ -n -a ] && echo logic', { stdout: 'logic\n' }],
    ['[ a -eq 1 ]; echo $?', { stdout: '2\n', stderr: '[: a: integer expression expected\n' }],
    ['[ a = a; echo $?', { stdout: '2\n', stderr: '[: missing ]\n' }],
    ['test a b; echo $?', { stdout: '2\n', stderr: 'test: a: unary operator expected\n' }],
    ['test; echo $?; test -n; echo $?; test !; echo $?', { stdout: '1\n0\n0\n' }],
    ['readlink link dangling; readlink a.txt; echo $?', { stdout: 'a.txt\nnowhere\n1\n' }],
    [
      'readlink -f link; readlink -f dirlink/sub; realpath dirlink/../a.txt; realpath -m new/x 2>/dev/null; echo $?',
      { stdout: '/w/a.txt\n/w/dir/sub\n/w/a.txt\n1\n' },
    ],
    ['realpath link; realpath -s link; realpath nofile', { stdout: '/w/a.txt\n/w/link\n/w/nofile\n' }],
    [
      'mkdir /tmp2; TMPDIR=/tmp2 mktemp; mktemp -d; mktemp -p . job.XXXX; mktemp -u',
      { stdout: '/tmp2/tmp.bNvi6hEbov\n/tmp/tmp.bNvi6hEbov\n./job.sCnm\n/tmp/tmp.PLNGKeMm5J\n' },
    ],
    [
      'a=$(mktemp); b=$(mktemp); [ "$a" != "$b" ] && stat -c %a "$a" && mktemp -d | xargs stat -c %a',
      { stdout: '600\n700\n' },
    ],
    ['mktemp abc', { stderr: "mktemp: too few X's in template 'abc'\n", exitCode: 2 }],
  ])('%s', async (script, expected) => table([[script, expected]]));
});
