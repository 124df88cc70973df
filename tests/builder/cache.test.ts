/**
 * The build cache, as a table: each row builds a Dockerfile in a fresh store on tmpfs, applies
 * one kind of change (a file's content, mode or only mtime, a build arg, an ENV, a LABEL, the
 * base image, the order of instructions, .dockerignore...), builds again and checks which
 * filesystem steps hit and which missed, and the reason each miss names.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import type { BuildOptions } from '../../src/builder/types.js';
import type { Store } from '../../src/store/store.js';
import {
  BASE_USERS,
  makeBaseImage,
  missFiles,
  makeContext,
  makeDiskStore,
  makeTar,
  stepRows,
  writeFiles,
  type FileTable,
  type StepRow,
} from './helpers.js';

/** What a row's change may touch. */
interface ChangeContext {
  /** The context folder (the Dockerfile is `Dockerfile` in it). */
  dir: string;
  store: Store;
  buildArgs: Record<string, string>;
  /** Rewrites the Dockerfile. */
  editDockerfile: (edit: (text: string) => string) => void;
}

interface CacheRow {
  name: string;
  dockerfile: string;
  context: FileTable;
  /** Base images to make first: tag → files. */
  bases?: Record<string, FileTable>;
  buildArgs?: Record<string, string>;
  change: (ctx: ChangeContext) => void | Promise<void>;
  /** The second build's filesystem steps: instruction, status, first explanation kind. */
  expect: StepRow[];
}

/** A tar of one file (ADD unpacks it). */
const TAR = await makeTar([{ path: 'in-tar', type: 'file', data: 'in the tar\n' }]);

const FILES: FileTable = {
  'a.txt': 'alpha\n',
  'b.txt': 'beta\n',
  'src/main.c': 'int main(){}\n',
  'notes.md': 'notes\n',
};

const rows: CacheRow[] = [
  {
    name: "a file's content",
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY b.txt /b\nRUN echo done > /done\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { 'a.txt': 'ALPHA\n' }),
    expect: [
      ['COPY a.txt /a', 'built', 'files'],
      ['COPY b.txt /b', 'built', 'parent'],
      ['RUN echo done > /done', 'built', 'parent'],
    ],
  },
  {
    name: "a file's content, same size and mtime (bytes are hashed, not stat data)",
    dockerfile: 'FROM scratch\nCOPY a.txt /a\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { 'a.txt': 'alphA\n' }),
    expect: [['COPY a.txt /a', 'built', 'files']],
  },
  {
    name: "a file's mode",
    dockerfile: 'FROM scratch\nCOPY b.txt /b\nCOPY a.txt /a\n',
    context: FILES,
    change: ({ dir }) => fs.chmodSync(join(dir, 'a.txt'), 0o755),
    expect: [
      ['COPY b.txt /b', 'cached'],
      ['COPY a.txt /a', 'built', 'files'],
    ],
  },
  {
    name: "only a file's mtime (must still hit)",
    dockerfile: 'FROM scratch\nCOPY . /app\nRUN cat /app/a.txt > /copy\n',
    context: FILES,
    change: ({ dir }) => {
      fs.utimesSync(join(dir, 'a.txt'), 1_700_000_000, 1_700_000_000);
      fs.utimesSync(join(dir, 'src'), 1_700_000_000, 1_700_000_000);
    },
    expect: [
      ['COPY . /app', 'cached'],
      ['RUN cat /app/a.txt > /copy', 'cached'],
    ],
  },
  {
    name: 'a file added to a copied directory',
    dockerfile: 'FROM scratch\nCOPY src /src\nCOPY a.txt /a\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { 'src/util.c': 'void f(){}\n' }),
    expect: [
      ['COPY src /src', 'built', 'files'],
      ['COPY a.txt /a', 'built', 'parent'],
    ],
  },
  {
    name: 'an ARG value (build arg): a later RUN misses, a COPY does not',
    dockerfile: 'FROM scratch\nARG VERSION=1\nCOPY a.txt /a\nRUN echo "$VERSION" > /version\n',
    context: FILES,
    change: (ctx) => {
      ctx.buildArgs['VERSION'] = '2';
    },
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo "$VERSION" > /version', 'built', 'env'],
    ],
  },
  {
    name: 'a declared but unused ARG still misses every later RUN',
    dockerfile: 'FROM scratch\nARG UNUSED\nRUN echo hi > /hi\n',
    context: FILES,
    change: (ctx) => {
      ctx.buildArgs['UNUSED'] = 'x';
    },
    expect: [['RUN echo hi > /hi', 'built', 'env']],
  },
  {
    name: 'a build arg nothing declares changes nothing',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nRUN echo hi > /hi\n',
    context: FILES,
    change: (ctx) => {
      ctx.buildArgs['NOT_DECLARED'] = 'x';
    },
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo hi > /hi', 'cached'],
    ],
  },
  {
    name: 'an ENV above a COPY: the COPY hits, a later RUN misses',
    dockerfile: 'FROM scratch\nENV MODE=dev\nCOPY a.txt /a\nRUN echo "$MODE" > /mode\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('MODE=dev', 'MODE=prod')),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo "$MODE" > /mode', 'built', 'env'],
    ],
  },
  {
    name: 'an ENV used in a COPY destination misses that COPY (its instruction changed)',
    dockerfile: 'FROM scratch\nENV DEST=/one\nCOPY a.txt $DEST/a\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('DEST=/one', 'DEST=/two')),
    expect: [['COPY a.txt $DEST/a', 'built', 'instruction']],
  },
  {
    name: 'a LABEL (no miss)',
    dockerfile: 'FROM scratch\nLABEL version=1\nCOPY a.txt /a\nRUN echo hi > /hi\nLABEL other=x\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('version=1', 'version=2').replace('other=x', 'other=y')),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo hi > /hi', 'cached'],
    ],
  },
  {
    name: 'EXPOSE, CMD and a metadata reorder (no miss)',
    dockerfile: 'FROM scratch\nEXPOSE 80\nCMD ["a"]\nCOPY a.txt /a\nRUN echo hi > /hi\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('EXPOSE 80\nCMD ["a"]', 'CMD ["b"]\nEXPOSE 8080')),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo hi > /hi', 'cached'],
    ],
  },
  {
    name: 'WORKDIR before a RUN',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nWORKDIR /w1\nRUN pwd > here\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('/w1', '/w2')),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['WORKDIR /w2', 'built', 'instruction'],
      ['RUN pwd > here', 'built', 'parent'],
    ],
  },
  {
    name: 'SHELL before a RUN (the argv changes)',
    dockerfile: 'FROM scratch\nSHELL ["/bin/sh", "-c"]\nCOPY a.txt /a\nRUN echo hi > /hi\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('["/bin/sh", "-c"]', '["/bin/sh", "-ec"]')),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['RUN echo hi > /hi', 'built', 'shell'],
    ],
  },
  {
    name: 'a RUN heredoc body',
    dockerfile: 'FROM scratch\nRUN <<EOF\necho one > /x\nEOF\nCOPY a.txt /a\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('echo one', 'echo two')),
    expect: [
      ['RUN <<EOF\necho one > /x\nEOF'.replace('one', 'two'), 'built', 'instruction'],
      ['COPY a.txt /a', 'built', 'parent'],
    ],
  },
  {
    name: 'WORKDIR / before a COPY to a relative path (no layer, but another destination)',
    dockerfile: 'FROM scratch\nWORKDIR /w\nLABEL x=y\nCOPY a.txt .\nCOPY b.txt /abs/\n',
    context: FILES,
    change: (ctx) => ctx.editDockerfile((t) => t.replace('LABEL x=y', 'WORKDIR /')),
    expect: [
      ['WORKDIR /w', 'cached'],
      ['COPY a.txt .', 'built', 'workdir'],
      ['COPY b.txt /abs/', 'built', 'parent'],
    ],
  },
  {
    name: 'COPY --link --chown=name, when the name resolves to another uid in the new base',
    dockerfile: 'FROM base:1\nCOPY --link --chown=app a.txt /a\n',
    context: FILES,
    bases: {
      'base:1': BASE_USERS,
      'base:2': { 'etc/passwd': 'app:x:2000:2000::/:/bin/sh\n', 'etc/group': 'app:x:2000:\n' },
    },
    change: async ({ store }) => {
      await store.tag('base:1', store.resolveRef('base:2').descriptor);
    },
    expect: [['COPY --link --chown=app a.txt /a', 'built', 'owner']],
  },
  {
    name: 'ADD --unpack=false of a tar',
    dockerfile: 'FROM scratch\nADD bundle.tar /x/\n',
    context: { ...FILES, 'bundle.tar': { content: TAR } },
    change: (ctx) => ctx.editDockerfile((t) => t.replace('ADD bundle.tar', 'ADD --unpack=false bundle.tar')),
    expect: [['ADD --unpack=false bundle.tar /x/', 'built', 'instruction']],
  },
  {
    name: 'USER before a RUN',
    dockerfile: 'FROM base:1\nUSER root\nRUN id -u > /tmp-uid\n',
    context: FILES,
    bases: { 'base:1': BASE_USERS },
    change: (ctx) => ctx.editDockerfile((t) => t.replace('USER root', 'USER app')),
    expect: [['RUN id -u > /tmp-uid', 'built', 'user']],
  },
  {
    name: 'the base image (retagged to a different image)',
    dockerfile: 'FROM base:1\nCOPY a.txt /a\nRUN echo hi > /hi\n',
    context: FILES,
    bases: { 'base:1': BASE_USERS, 'base:2': { ...BASE_USERS, 'etc/motd': 'hello\n' } },
    change: async ({ store }) => {
      await store.tag('base:1', store.resolveRef('base:2').descriptor);
    },
    expect: [
      ['COPY a.txt /a', 'built', 'base-image'],
      ['RUN echo hi > /hi', 'built', 'parent'],
    ],
  },
  {
    name: 'a reordered instruction',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY b.txt /b\nRUN echo hi > /hi\n',
    context: FILES,
    change: (ctx) =>
      ctx.editDockerfile((t) => t.replace('COPY a.txt /a\nCOPY b.txt /b', 'COPY b.txt /b\nCOPY a.txt /a')),
    expect: [
      ['COPY b.txt /b', 'built', 'instruction'],
      ['COPY a.txt /a', 'built', 'instruction'],
      ['RUN echo hi > /hi', 'built', 'parent'],
    ],
  },
  {
    name: '.dockerignore: ignoring a file the build copies misses',
    dockerfile: 'FROM scratch\nCOPY . /app\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { '.dockerignore': 'notes.md\n' }),
    expect: [['COPY . /app', 'built', 'files']],
  },
  {
    name: '.dockerignore: ignoring a file the build does not copy keeps hits',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY src /src\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { '.dockerignore': 'notes.md\nb.txt\n' }),
    expect: [
      ['COPY a.txt /a', 'cached'],
      ['COPY src /src', 'cached'],
    ],
  },
  {
    name: 'a change above a COPY --link does not miss it',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY --link b.txt /b\n',
    context: FILES,
    change: ({ dir }) => writeFiles(dir, { 'a.txt': 'changed\n' }),
    expect: [
      ['COPY a.txt /a', 'built', 'files'],
      ['COPY --link b.txt /b', 'cached'],
    ],
  },
];

async function freshRow(
  tmp: string,
  row: CacheRow,
): Promise<{ store: Store; ctx: ChangeContext; options: () => BuildOptions }> {
  const s = await makeDiskStore(tmp);
  const c = makeContext(tmp, { ...row.context, Dockerfile: row.dockerfile });
  for (const [tag, files] of Object.entries(row.bases ?? {})) await makeBaseImage({ store: s.store, tag, files });
  const ctx: ChangeContext = {
    dir: c.dir,
    store: s.store,
    buildArgs: { ...row.buildArgs },
    editDockerfile: (edit) => {
      const path = join(c.dir, 'Dockerfile');
      fs.writeFileSync(path, edit(fs.readFileSync(path, 'utf8')));
    },
  };
  return {
    store: s.store,
    ctx,
    options: () => ({ store: s.store, context: c.dir, tags: ['cache-test:latest'], buildArgs: { ...ctx.buildArgs } }),
  };
}

describe('cache table: what each change misses, and why', () => {
  test.for(rows)('$name', async (row, { tmp }) => {
    const { ctx, options } = await freshRow(tmp, row);
    const first = await build(options());
    expect(first.steps.filter((s) => !s.metadata).every((s) => s.status === 'built')).toBe(true);
    const again = await build(options());
    // Unchanged, everything hits.
    expect(stepRows(again).map(([, status]) => status)).toEqual(stepRows(again).map(() => 'cached'));
    await row.change(ctx);
    const second = await build(options());
    expect(stepRows(second)).toEqual(row.expect);
    for (const s of second.steps) {
      if (s.status === 'built' && !s.metadata) {
        expect(s.reason, s.instruction).toBeTruthy();
        expect(s.explanation?.length, s.instruction).toBeGreaterThan(0);
      }
      if (s.status === 'cached') expect(s.explanation).toBeUndefined();
    }
  });
});

describe('what a miss explanation says', () => {
  test('a content change names the file, and that the size changed', async ({ tmp }) => {
    const { ctx, options } = await freshRow(tmp, rows[0]!);
    await build(options());
    writeFiles(ctx.dir, { 'a.txt': 'a longer alpha\n' });
    const { steps } = await build(options());
    const copy = steps.find((s) => s.instruction === 'COPY a.txt /a')!;
    expect(copy.explanation).toEqual([
      {
        kind: 'files',
        message: expect.stringContaining('a.txt'),
        files: [{ path: 'a.txt', change: 'modified', detail: 'content (6 → 15 bytes)' }],
      },
    ]);
  });

  test('a mode change names the old and new mode', async ({ tmp }) => {
    const { ctx, options } = await freshRow(tmp, rows[2]!);
    await build(options());
    fs.chmodSync(join(ctx.dir, 'a.txt'), 0o600);
    const { steps } = await build(options());
    expect(missFiles(steps.find((s) => s.instruction === 'COPY a.txt /a')!.explanation![0])).toEqual([
      { path: 'a.txt', change: 'modified', detail: 'mode 644 → 600' },
    ]);
  });

  test('a build arg change names the variable and both values', async ({ tmp }) => {
    const row = rows.find((r) => r.name.startsWith('an ARG value'))!;
    const { ctx, options } = await freshRow(tmp, row);
    await build(options());
    ctx.buildArgs['VERSION'] = '2';
    const { steps } = await build(options());
    const runStep = steps.find((s) => s.instruction.startsWith('RUN'))!;
    expect(runStep.explanation).toEqual([{ kind: 'env', message: 'ARG/ENV changed: VERSION: 1 → 2' }]);
  });

  test('a new sourceDateEpoch misses every filesystem step (it clamps their mtimes)', async ({ tmp }) => {
    const { options } = await freshRow(tmp, rows[0]!);
    await build(options());
    const { steps } = await build({ ...options(), sourceDateEpoch: 1_000 });
    expect(stepRows({ steps })).toEqual([
      ['COPY a.txt /a', 'built', 'source-date-epoch'],
      ['COPY b.txt /b', 'built', 'parent'],
      ['RUN echo done > /done', 'built', 'parent'],
    ]);
    expect(steps[0]!.reason).toBe("sourceDateEpoch changed (it clamps the layer's mtimes): (none) → 1000");
  });

  test('another kind of instruction at the same place: only that (and the parent) is named', async ({ tmp }) => {
    const { ctx, options } = await freshRow(tmp, rows[0]!);
    await build(options());
    ctx.editDockerfile((t) => t.replace('COPY b.txt /b', 'RUN echo b > /b'));
    const { steps } = await build(options());
    expect(steps.find((s) => s.instruction === 'RUN echo b > /b')!.explanation).toEqual([
      { kind: 'instruction', message: 'the instruction changed: was `COPY b.txt /b`' },
    ]);
  });

  test('the build record keeps every step, its explanation and its whole output', async ({ tmp }) => {
    const { loadBuildRecord } = await import('../../src/builder/build-record.js');
    const { ctx, store, options } = await freshRow(tmp, rows[0]!);
    await build(options());
    writeFiles(ctx.dir, { 'a.txt': 'changed\n' });
    const second = await build(options());
    const record = loadBuildRecord({ store, digest: second.image.descriptor.digest })!;
    expect(record.steps.map((s) => [s.instruction, s.status, s.explanation?.[0]?.kind])).toEqual([
      ['COPY a.txt /a', 'built', 'files'],
      ['COPY b.txt /b', 'built', 'parent'],
      ['RUN echo done > /done', 'built', 'parent'],
    ]);
    expect(record).toMatchObject({ dockerfile: 'Dockerfile', target: 'stage-0', tags: ['cache-test:latest'] });
  });

  test('an ignored file shows as removed from the inputs', async ({ tmp }) => {
    const row = rows.find((r) => r.name.includes('the build copies misses'))!;
    const { ctx, options } = await freshRow(tmp, row);
    await build(options());
    await row.change(ctx);
    const { steps } = await build(options());
    expect(missFiles(steps.find((s) => s.instruction === 'COPY . /app')!.explanation![0])).toEqual([
      // The ignore file is itself part of the context (it does not ignore itself), so COPY . copies it.
      { path: '.dockerignore', change: 'added' },
      { path: 'notes.md', change: 'removed' },
    ]);
  });
});
