/** The executor contract: argv forms, environment, users and ownership, stdin, abort, extra utilities, documented set. */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  createVirtualShell,
  NOT_FOUND_ADVICE,
  runShellScript,
  SHELL_BUILTINS,
  SUPPORTED_UTILITIES,
} from '../../src/shell/index.js';
import type { Utility } from '../../src/shell/index.js';
import { makeFs, ownershipFs, run, runArgv, snapshot } from './helpers.js';

describe('createVirtualShell().run', () => {
  it('is named virtual-shell', () => {
    expect(createVirtualShell().name).toBe('virtual-shell');
  });

  it.each<[string[], { stdout?: string; stderr?: string; exitCode: number }]>([
    [['/bin/sh', '-c', 'echo "$0 $1 $#"', 'zero', 'one'], { stdout: 'zero one 1\n', exitCode: 0 }],
    [['/bin/sh', '-c', 'echo hi; exit 3'], { stdout: 'hi\n', exitCode: 3 }],
    [['sh', '-ec', 'false; echo no'], { stdout: '', exitCode: 1 }],
    [['/bin/bash', '-c', 'echo $0'], { stdout: '/bin/bash\n', exitCode: 0 }],
    [['/bin/ash', '-o', 'pipefail', '-c', 'false | true'], { exitCode: 1 }],
    [['dash', '-c', 'echo dash'], { stdout: 'dash\n', exitCode: 0 }],
    [
      ['/bin/sh', '-c', 'if'],
      { stderr: 'sh: line 1: syntax error: unexpected end of file (expecting "then")\n', exitCode: 2 },
    ],
    [['echo', 'exec', 'form', '$HOME'], { stdout: 'exec form $HOME\n', exitCode: 0 }],
    [['/usr/bin/env', 'printf', '%s|', 'a b', 'c'], { stdout: 'a b|c|', exitCode: 0 }],
    [['/bin/false'], { exitCode: 1 }],
    [['pip', 'install', 'x'], { stderr: `sh: pip: not found (${NOT_FOUND_ADVICE})\n`, exitCode: 127 }],
    [[], { stdout: '', exitCode: 0 }],
  ])('%j', async (argv, expected) => {
    const r = await runArgv(argv);
    const picked: Partial<typeof r> = { exitCode: r.exitCode };
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    expect(picked).toEqual(expected);
  });

  it('passes env and cwd, and sets HOME from the user when the env has none', async () => {
    const fs = await makeFs({ 'app/x': '' });
    expect(
      (await runArgv(['/bin/sh', '-c', 'echo "$FOO $PWD $HOME"; ls'], { fs, cwd: '/app', env: { FOO: 'bar' } })).stdout,
    ).toBe('bar /app /root\nx\n');
    expect((await runArgv(['/bin/sh', '-c', 'echo $HOME'], { fs, user: 'appuser', env: {} })).stdout).toBe(
      '/home/appuser\n',
    );
    expect(
      (await runArgv(['/bin/sh', '-c', 'echo $HOME'], { fs, user: 'appuser', env: { HOME: '/custom' } })).stdout,
    ).toBe('/custom\n');
    expect((await runArgv(['/bin/sh', '-c', 'echo $HOME'], { fs, user: '4242', env: {} })).stdout).toBe('/\n');
  });

  it('feeds stdin bytes', async () => {
    const fs = await makeFs();
    const out: Uint8Array[] = [];
    const r = await createVirtualShell().run({
      argv: ['sort'],
      fs,
      env: {},
      cwd: '/',
      user: '',
      stdin: Buffer.from('b\na\n'),
      stdout: (c) => out.push(c),
    });
    expect([r.exitCode, Buffer.concat(out).toString()]).toEqual([0, 'a\nb\n']);
  });
});

describe('users and ownership', () => {
  it('creates files, directories and links owned by the USER, resolved in the image', async () => {
    const fs = ownershipFs(await makeFs({ work: { dir: true, mode: 0o777 }, 'work/src': 'data' }));
    const r = await runArgv(
      ['/bin/sh', '-c', 'touch f; mkdir -p d/e; ln -s f l; cp src c; echo x > r; mktemp -p . -d; id -un'],
      { fs, cwd: '/work', user: 'appuser' },
    );
    expect(r.exitCode).toBe(0);
    const owners: Record<string, string> = {};
    for (const p of ['f', 'd', 'd/e', 'c', 'r', 'src']) {
      const st = await fs.stat(`/work/${p}`);
      owners[p] = `${st.uid}:${st.gid}`;
    }
    const link = await fs.lstat('/work/l');
    owners.l = `${link.uid}:${link.gid}`;
    expect(owners).toEqual({
      f: '1000:1000',
      d: '1000:1000',
      'd/e': '1000:1000',
      c: '1000:1000',
      r: '1000:1000',
      l: '1000:1000',
      src: '0:0',
    });
  });

  it.each([
    ['appuser:staff', 'uid=1000(appuser) gid=50(staff) groups=50(staff)\n'],
    ['1000:50', 'uid=1000(appuser) gid=50(staff) groups=50(staff)\n'],
    ['nobody', 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n'],
    ['', 'uid=0(root) gid=0(root) groups=0(root)\n'],
    ['0', 'uid=0(root) gid=0(root) groups=0(root)\n'],
  ])('USER %j', async (user, id) => {
    expect((await runArgv(['id'], { user })).stdout).toBe(id);
  });

  it.each([
    ['ghost', 'sh: unable to find user ghost: no matching entries in passwd file\n'],
    ['appuser:ghosts', 'sh: unable to find group ghosts: no matching entries in group file\n'],
  ])('unknown USER %j fails like docker', async (user, stderr) => {
    expect(await runArgv(['echo', 'never'], { user })).toEqual({ stdout: '', stderr, exitCode: 126 });
  });

  it('works without /etc/passwd (root, numeric users)', async () => {
    const fs = await makeFs({}, { etc: false });
    expect((await runArgv(['id'], { fs })).stdout).toBe('uid=0 gid=0 groups=0\n');
    expect((await runArgv(['id'], { fs, user: '5:6' })).stdout).toBe('uid=5 gid=6 groups=6\n');
    expect((await runArgv(['id'], { fs, user: 'root' })).exitCode).toBe(126);
  });
});

describe('abort', () => {
  it('interrupts sleep at once', async () => {
    const fs = await makeFs();
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(
      createVirtualShell().run({
        argv: ['/bin/sh', '-c', 'sleep 10'],
        fs,
        env: {},
        cwd: '/',
        user: '',
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses to start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(run('echo never', { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('stops yes writing to a file-less sink', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await expect(run('yes > /dev/null', { signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('extra utilities', () => {
  const hello: Utility = async (ctx) => {
    await ctx.stdout.write(`hello ${ctx.args.join(',')} in ${ctx.cwd} as ${ctx.user.uid}\n`);
    return 3;
  };

  it('runs them by name, by /usr/bin path, from xargs and env, and can replace built-ins', async () => {
    const fs = await makeFs();
    const shell = createVirtualShell({
      extraUtilities: { hello, echo: async (ctx) => (await ctx.stdout.write('custom\n'), 0) },
    });
    const out: Uint8Array[] = [];
    const r = await shell.run({
      argv: ['/bin/sh', '-c', 'hello a b; echo $?; /usr/bin/hello; printf x | xargs hello; env hello; echo y'],
      fs,
      env: {},
      cwd: '/tmp',
      user: 'appuser',
      stdout: (c) => out.push(c),
    });
    expect(Buffer.concat(out).toString()).toBe(
      'hello a,b in /tmp as 1000\ncustom\nhello  in /tmp as 1000\nhello x in /tmp as 1000\nhello  in /tmp as 1000\ncustom\n',
    );
    expect(r.exitCode).toBe(0);
  });

  it('are available to runShellScript', async () => {
    const r = await run('hello z', { extraUtilities: { hello } });
    expect(r).toEqual({ stdout: 'hello z in / as 0\n', stderr: '', exitCode: 3 });
  });
});

describe('documented set', () => {
  const REQUIRED = [
    'echo',
    'printf',
    'cat',
    'mkdir',
    'rm',
    'rmdir',
    'cp',
    'mv',
    'ln',
    'touch',
    'chmod',
    'chown',
    'ls',
    'pwd',
    'true',
    'false',
    'tee',
    'head',
    'tail',
    'wc',
    'sort',
    'env',
    'id',
    'sleep',
    'test',
    '[',
    'basename',
    'dirname',
    'seq',
    'yes',
    'grep',
    'sed',
    'tr',
    'cut',
    'uniq',
    'xargs',
    'which',
    'whoami',
    'hostname',
    'date',
    'stat',
    'find',
    'sh',
  ];

  it('lists every required utility once, sorted, with usage and description', () => {
    const names = SUPPORTED_UTILITIES.map((u) => u.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    for (const n of REQUIRED) expect(names).toContain(n);
    for (const u of SUPPORTED_UTILITIES) {
      expect(u.synopsis.startsWith(u.name === 'sh' ? 'sh|' : u.name)).toBe(true);
      expect(u.description.length).toBeGreaterThan(5);
    }
  });

  it('runs every listed utility and knows every listed builtin', async () => {
    for (const u of SUPPORTED_UTILITIES) {
      const r = await run(`command -v ${u.name === '[' ? '"["' : u.name}`);
      expect({ name: u.name, status: r.exitCode }).toEqual({ name: u.name, status: 0 });
    }
    const types = await run(`type ${SHELL_BUILTINS.map((b) => (b === '.' ? '.' : b)).join(' ')}`);
    expect(types.exitCode).toBe(0);
    expect(
      types.stdout
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => / is a (special )?shell builtin$/.test(l)),
    ).toBe(true);
  });
});

describe('determinism', () => {
  const script =
    'mkdir -p a/b; for i in 3 1 2; do echo $i > a/f$i; done; t=$(mktemp -d); touch $t/x; ls -lR a; date; find . -type f | sort | xargs sha256sum';

  it('gives the same output and tree for the same start', async () => {
    const once = async (): Promise<unknown> => {
      const fs = await makeFs();
      const r = await run(script, { fs, cwd: '/tmp', env: { PATH: '/bin', SOURCE_DATE_EPOCH: '1600000000' } });
      return { r, tree: await snapshot(fs, '/tmp') };
    };
    expect(await once()).toEqual(await once());
  });

  test.prop(
    [
      fc.uniqueArray(
        fc.stringMatching(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,7}$/).filter((n) => n !== '.' && n !== '..'),
        { maxLength: 8 },
      ),
    ],
    { numRuns: 30 },
  )('globbing and ls list created names sorted bytewise, dotfiles only when asked', async (names) => {
    const fs = await makeFs({ d: { dir: true } });
    const quoted = names.map((n) => `'${n}'`).join(' ');
    const r = await run(`cd /d; for n in ${quoted}; do touch "$n"; done; echo *; ls; ls -A`, { fs });
    const visible = names.filter((n) => !n.startsWith('.')).sort();
    const all = [...names].sort();
    expect(r.stdout).toBe(
      `${visible.length === 0 ? '*' : visible.join(' ')}\n${visible.map((n) => `${n}\n`).join('')}${all.map((n) => `${n}\n`).join('')}`,
    );
  });
});

describe('runShellScript', () => {
  it('takes $0 and positional parameters', async () => {
    const fs = await makeFs();
    const out: Uint8Array[] = [];
    const r = await runShellScript({
      script: 'echo "$0|$#|$2"',
      fs,
      arg0: 'build.sh',
      args: ['a', 'b'],
      stdout: (c) => out.push(c),
    });
    expect([r.exitCode, Buffer.concat(out).toString()]).toEqual([0, 'build.sh|2|b\n']);
  });
});
