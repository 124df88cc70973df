/**
 * `layerkit build` run again with nothing changed is answered by its memo (src/cli/build-memo.ts):
 * the output of the last fully cached run, byte for byte, after one line saying so, and exit 0.
 * The real CLI runs as a child process (a memo records and replays what goes to the process's
 * pipes). What would make the build differ (a context file, an argument, the environment) makes the
 * builder run; a request the memo cannot vouch for never gets one; no secret reaches the memo.
 * The tests set `LAYERKIT_BUILD_MEMO_RACY_MS=0`: their context files are seconds old, not minutes.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { REPO_ROOT } from '../helpers/dist.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { openStore } from '../../src/store/store.js';
import { BUILD_MEMOS } from '../../src/builder/build-memo-state.js';
import { makeBaseImage, makeContext } from '../builder/helpers.js';

const DOCKERFILE = 'FROM base:1\nARG V=1\nCOPY . /app/\nRUN echo "$V" > /v\n';
const REPLAYED = /^nothing this build reads has changed since \S+: what it printed then follows/;
const ENV = { LAYERKIT_BUILD_MEMO_RACY_MS: '0' };

async function setUp(tmp: string): Promise<{ root: string; dir: string }> {
  const root = join(tmp, 'store');
  const store = await openStore({ root, durable: false });
  await makeBaseImage({ store, tag: 'base:1' });
  const { dir } = makeContext(tmp, { Dockerfile: DOCKERFILE, 'a.txt': 'alpha\n' });
  return { root, dir };
}

function memoFiles(root: string): string[] {
  try {
    return readdirSync(join(root, 'layerkit', BUILD_MEMOS.folder));
  } catch {
    return [];
  }
}

describe('a build with nothing changed', () => {
  test('is answered by the memo of the last fully cached run, byte for byte', async ({ tmp }) => {
    const { root, dir } = await setUp(tmp);
    const build = (args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      spawnCli(['--store', root, 'build', '-t', 'app:1', '--progress', 'plain', ...args, dir], {
        env: { ...ENV, ...env },
      });
    const first = await build();
    expect(first.code, first.err).toBe(0);
    expect(first.err).not.toMatch(REPLAYED);
    const second = await build();
    expect(second.code, second.err).toBe(0);
    expect(second.err).toContain('CACHED');
    expect(second.err).not.toMatch(REPLAYED);
    expect(memoFiles(root)).toHaveLength(1);
    const third = await build();
    expect(third.code, third.err).toBe(0);
    expect(third.err).toMatch(REPLAYED);
    expect(third.out).toBe(second.out);
    expect(third.err.slice(third.err.indexOf('\n') + 1)).toBe(second.err);
    // The same image each time a build is served from the cache: `built sha256:…` names it.
    expect(second.out).toMatch(/^built sha256:[0-9a-f]{64} /);
    expect(second.out).toBe(first.out);

    // The same command line spelled otherwise (--store after the command) is answered too.
    const spelled = await spawnCli(['build', '--store', root, '-t', 'app:1', '--progress', 'plain', dir], {
      env: ENV,
    });
    expect(spelled.err).not.toMatch(REPLAYED);
    const again = await spawnCli(['build', '--store', root, '-t', 'app:1', '--progress', 'plain', dir], { env: ENV });
    expect(again.err).toMatch(REPLAYED);
    expect(again.out).toBe(second.out);

    // What changes the request or its inputs runs the builder; each then writes its own memo.
    const rows: Array<[string, () => Promise<{ code: number | null; out: string; err: string }>, boolean]> = [
      ['another build argument', () => build(['--build-arg', 'V=2']), true],
      ['another environment', () => build([], { SOME_VARIABLE: 'x' }), false],
      ['LAYERKIT_BUILD_MEMO=0', () => build([], { LAYERKIT_BUILD_MEMO: '0' }), false],
      [
        'a changed context file',
        () => {
          writeFileSync(join(dir, 'a.txt'), 'ALPHA\n');
          return build();
        },
        true,
      ],
    ];
    for (const [what, run, changesImage] of rows) {
      const r = await run();
      expect(r.code, `${what}: ${r.err}`).toBe(0);
      expect(r.err, what).not.toMatch(REPLAYED);
      expect(r.out !== second.out, what).toBe(changesImage);
    }
  });

  test('a terminal-free request it cannot vouch for never gets a memo', async ({ tmp }) => {
    const { root, dir } = await setUp(tmp);
    const variants: string[][] = [
      ['--progress', 'json', '-t', 'app:1'],
      [],
      ['-t', 'app:1', '--no-cache'],
      ['-t', 'app:1', '-o', join(tmp, 'out')],
      ['-t', 'app:1', '--iidfile', join(tmp, 'iid')],
      ['-t', 'app:1', '--pull=always'],
    ];
    for (const variant of variants)
      for (let i = 0; i < 2; i++) {
        // A local output goes to a new folder each time (an existing one is refused).
        const args = variant.map((a) => (a === join(tmp, 'out') ? `${a}-${i}` : a));
        const r = await spawnCli(['--store', root, 'build', ...args, dir], { env: ENV });
        // --pull=always needs a registry for base:1: it fails, and writes nothing either.
        if (!args.includes('--pull=always')) expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      }
    expect(memoFiles(root), 'requests the memo cannot vouch for').toEqual([]);
    // Without the racy override, a file written (with the same bytes) a moment before each build is
    // not vouched for: every build is served from the cache, and none writes a memo.
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(dir, 'a.txt'), 'alpha\n');
      const r = await spawnCli(['--store', root, 'build', '--progress', 'plain', '-t', 'app:1', dir]);
      expect(r.code, r.err).toBe(0);
      if (i > 0) expect(r.err).toContain('CACHED');
    }
    expect(memoFiles(root), 'racily clean inputs').toEqual([]);
  });

  test.skipIf(!hasTool('script'))(
    `on a terminal the live display runs, and no memo is written${hasTool('script') ? '' : ` (skipped: ${missingToolMessage('script')})`}`,
    async ({ tmp }) => {
      const { root, dir } = await setUp(tmp);
      const bin = join(REPO_ROOT, 'src/cli/bin.ts');
      const command = [process.execPath, '--import', 'tsx', bin, '--store', root, 'build', '-t', 'app:1', dir]
        .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
        .join(' ');
      for (let i = 0; i < 3; i++) {
        // util-linux's script(1) runs the command on a pseudo-terminal.
        const r = spawnSync('script', ['-qec', command, '/dev/null'], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...ENV },
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).not.toMatch(/nothing this build reads has changed/);
      }
      expect(memoFiles(root)).toEqual([]);
    },
  );

  test('no secret of the environment or the command line reaches the memo', async ({ tmp }) => {
    const { root, dir } = await setUp(tmp);
    const args = ['--store', root, 'build', '-q', '-t', 'app:1', '--build-arg', 'V=arg-s3cr3t-value', dir];
    const env = { ...ENV, API_TOKEN: 'env-s3cr3t-value' };
    for (let i = 0; i < 3; i++) expect((await spawnCli(args, { env })).code).toBe(0);
    const files = memoFiles(root);
    expect(files).toHaveLength(1);
    const text = readFileSync(join(root, 'layerkit', BUILD_MEMOS.folder, files[0]!), 'utf8');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('API_TOKEN');
    // Quiet: the replay is the image ID alone, as the build printed it.
    const replay = await spawnCli(args, { env });
    expect(replay.err).toBe('');
    expect(replay.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });
});
