/**
 * Multi-stage builds: only the stages the target reaches run (the others' steps are reported
 * `skipped`, their base images never looked up), `target` picks the stage (case-insensitive), a
 * stage used both as a base and by `COPY --from` is built once, and `COPY --from` keys on the
 * content it copies, so a rebuilt stage that produced the same files does not miss what follows.
 */
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import type { BuildEvent } from '../../src/builder/events.js';
import type { BuildOptions, BuildResult } from '../../src/builder/types.js';
import type { Store } from '../../src/store/store.js';
import { describeTree, imageFile, makeContext, missFiles, stepRows } from './helpers.js';

let ctx: { dir: string };
test.beforeAll(({ fileTmp }) => {
  ctx = makeContext(fileTmp, { 'a.txt': 'a\n' });
});

async function run(
  store: Store,
  dockerfile: string,
  options: Partial<BuildOptions> = {},
): Promise<{ result: BuildResult; events: BuildEvent[] }> {
  const events: BuildEvent[] = [];
  const result = await build({
    store,
    context: ctx.dir,
    dockerfileText: dockerfile,
    sourceDateEpoch: 0,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { result, events };
}

const DOCKERFILE = `FROM scratch AS base
RUN echo base > /base
FROM missing-image:never AS unused
RUN exit 1
FROM base AS builder
RUN echo built > /artifact
FROM scratch AS other
COPY a.txt /other
FROM scratch AS final
COPY --from=builder /artifact /artifact
COPY --from=base /base /base-copy
`;

describe('multi-stage', () => {
  test('only the stages the target reaches run; the others are skipped, base images unresolved', async ({ store }) => {
    const { result, events } = await run(store, DOCKERFILE);
    // each stage with what FROM resolved to and what its COPY --from read (skipped ones too)
    expect(result.stages).toEqual([
      { stage: 'base', index: 0, status: 'built', base: { image: 'scratch' }, copyFrom: [], total: 1 },
      {
        stage: 'unused',
        index: 1,
        status: 'skipped',
        base: { image: 'missing-image:never' },
        copyFrom: [],
        total: 2,
      },
      { stage: 'builder', index: 2, status: 'built', base: { stage: 'base' }, copyFrom: [], total: 1 },
      { stage: 'other', index: 3, status: 'skipped', base: { image: 'scratch' }, copyFrom: [], total: 1 },
      {
        stage: 'final',
        index: 4,
        status: 'built',
        base: { image: 'scratch' },
        copyFrom: ['builder', 'base'],
        total: 2,
      },
    ]);
    expect(result.target).toBe('final');
    // BuildKit's N: FROM an image is 1 (even in a skipped stage); scratch and a stage get no number.
    expect(result.steps.map((s) => [s.stage, s.step, s.instruction, s.status])).toEqual([
      ['base', 1, 'RUN echo base > /base', 'built'],
      ['unused', 2, 'RUN exit 1', 'skipped'],
      ['builder', 1, 'RUN echo built > /artifact', 'built'],
      ['other', 1, 'COPY a.txt /other', 'skipped'],
      ['final', 1, 'COPY --from=builder /artifact /artifact', 'built'],
      ['final', 2, 'COPY --from=base /base /base-copy', 'built'],
    ]);
    expect(Object.keys(await describeTree(store, result.image))).toEqual(['/artifact', '/base-copy']);
    expect(
      events.filter((e) => e.type === 'stage' && e.status === 'skipped').map((e) => (e as { stage: string }).stage),
    ).toEqual(['unused', 'other']);
    expect(events[0]).toMatchObject({ type: 'build', target: 'final' });
  });

  test('a stage used as a base and by COPY --from is built once', async ({ store }) => {
    const { events } = await run(store, DOCKERFILE);
    const started = events
      .filter((e) => e.type === 'stage' && e.status === 'started')
      .map((e) => (e as { stage: string }).stage);
    expect(started).toEqual(['base', 'builder', 'final']);
    expect(events.filter((e) => e.type === 'step' && e.instruction === 'RUN echo base > /base').length).toBe(1);
  });

  test('target picks a stage (case-insensitive); later stages are skipped', async ({ store }) => {
    const { result } = await run(store, DOCKERFILE, { target: 'BUILDER' });
    expect(result.target).toBe('builder');
    expect(result.stages.map((s) => s.status)).toEqual(['built', 'skipped', 'built', 'skipped', 'skipped']);
    expect(await imageFile(store, result.image, '/artifact')).toBe('built\n');
    expect(await imageFile(store, result.image, '/base')).toBe('base\n');
    const other = await run(store, DOCKERFILE, { target: 'other' });
    expect(other.result.stages.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped', 'built', 'skipped']);
  });

  test('targeting a stage whose base image is missing fails, naming its line', async ({ store }) => {
    await expect(run(store, DOCKERFILE, { target: 'unused', pull: 'never' })).rejects.toMatchObject({
      code: 'ERR_BUILD_BASE_NOT_FOUND',
      data: { line: 3 },
    });
  });

  test('COPY --from keys on content: a rebuilt stage with the same output does not miss what follows', async ({
    store,
  }) => {
    const dockerfile =
      'FROM scratch AS builder\nARG V=1\nRUN echo "$V" > /version; echo stable > /out\nFROM scratch\nCOPY --from=builder /out /out\nRUN cat /out > /copy\n';
    await run(store, dockerfile);
    const { result } = await run(store, dockerfile, { buildArgs: { V: '2' } });
    expect(stepRows(result)).toEqual([
      ['RUN echo "$V" > /version; echo stable > /out', 'built', 'env'],
      ['COPY --from=builder /out /out', 'cached'],
      ['RUN cat /out > /copy', 'cached'],
    ]);
    // A stage whose copied output changed does miss, naming the file.
    const changed = await run(store, dockerfile.replace('echo stable', 'echo changed'), { buildArgs: { V: '2' } });
    expect(stepRows(changed.result)).toEqual([
      ['RUN echo "$V" > /version; echo changed > /out', 'built', 'instruction'],
      ['COPY --from=builder /out /out', 'built', 'files'],
      ['RUN cat /out > /copy', 'built', 'parent'],
    ]);
    expect(missFiles(changed.result.steps.find((s) => s.instruction.startsWith('COPY'))!.explanation![0])).toEqual([
      { path: 'out', change: 'modified', detail: 'content (7 → 8 bytes)' },
    ]);
  });

  test('the target stage gets its own config; a COPY --from stage passes on no labels or env', async ({ store }) => {
    const { result } = await run(
      store,
      'FROM scratch AS a\nLABEL from=a\nENV A=1\nRUN echo x > /x\nFROM scratch\nCOPY --from=a /x /x\n',
    );
    expect(result.image.config.config?.Labels).toBeUndefined();
    expect(result.image.config.config?.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    expect(result.image.config.history!.map((h) => h.created_by)).toEqual(['COPY /x /x # buildkit']);
  });
});
