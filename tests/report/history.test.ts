/**
 * History rows matched to a recorded build: a multi-stage Dockerfile built twice (a source edited
 * in between) so the record has cached, built, config-only and skipped steps; a build FROM an
 * image of the store (base entries); the same match with the Dockerfile gone (bases inferred);
 * and the `docker history` table format.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import {
  analyzeImage,
  build,
  formatHistoryJson,
  formatHistoryTable,
  openStore,
  readImageHistory,
  type Store,
} from '../../src/index.js';
import { alignHistory } from '../../src/report/match-history.js';
import { formatAgo, formatSize, formatPercent } from '../../src/report/format.js';
import { buildDemoImage } from './demo-image.js';

describe('readImageHistory with a recorded build', () => {
  let tmp: string;
  let store: Store;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = await openStore({ memory: true });
    await buildDemoImage({ store, dir: tmp });
  });

  /** The rows as `cache [stage N/M] created_by`, oldest first. */
  const summarize = (rows: Awaited<ReturnType<typeof readImageHistory>>['rows']) =>
    rows.map(
      (r) => `${r.cache} ${r.step ? r.step.prefix : '-'} ${r.layer ?? '·'} ${r.createdBy.replace(/ # buildkit$/, '')}`,
    );

  const EXPECTED = [
    'hit [base 1/2] 0 COPY rootfs/ /',
    'hit [base 2/2] 1 RUN /bin/sh -c mkdir -p /var/cache/pkg && seq 1 6000 > /var/cache/pkg/index.txt && echo v1 > /etc/app.conf',
    'config [stage-3] · ENV APP_ENV=production',
    'hit [stage-3 1/5] 2 RUN /bin/sh -c rm -rf /var/cache/pkg && echo v2 > /etc/app.conf',
    'hit [stage-3 2/5] 3 RUN /bin/sh -c mkdir -p /opt && seq 1 2500 > /opt/data.txt',
    'miss [stage-3 3/5] 4 COPY /src/bundle.js /app/bundle.js',
    "miss [stage-3 4/5] 5 RUN /bin/sh -c rm -rf /srv/www && mkdir /srv/www && echo '<h1>hi</h1>' > /srv/www/index.html",
    'miss [stage-3 5/5] 6 COPY config/ /etc/app/',
    'config [stage-3] · CMD ["/app/bundle.js"]',
  ];

  it('matches every entry to its step: the target stage, then the stage it starts FROM', async () => {
    const { rows, hasBuildRecord } = await readImageHistory({ store, image: 'demo:1' });
    expect(hasBuildRecord).toBe(true);
    expect(summarize(rows)).toEqual(EXPECTED);
  });

  it('sizes come from the layer index; entries without a layer are 0', async () => {
    const { rows } = await readImageHistory({ store, image: 'demo:1' });
    // seq 1 6000 with newlines: Σ digits + 6000 newlines.
    const seqBytes = (n: number) =>
      Array.from({ length: n }, (_, i) => String(i + 1).length + 1).reduce((a, b) => a + b, 0);
    expect(rows[1]!.size).toBe(seqBytes(6000) + 'v1\n'.length);
    expect(rows[4]!.size).toBe(seqBytes(2500));
    for (const r of rows) if (r.emptyLayer) expect(r.size).toBe(0);
    expect(rows.filter((r) => !r.emptyLayer).map((r) => r.layer)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('explain agrees, and gives every layer its step and cache status', async () => {
    const a = await analyzeImage({ store, image: 'demo:1' });
    expect(a.layers.map((l) => l.cache)).toEqual(['hit', 'hit', 'hit', 'hit', 'miss', 'miss', 'miss']);
    expect(a.build!.graphSource).toBe('record');
    expect(a.build!.summary).toEqual({ cached: 5, missed: 5, config: 2, skipped: 1, stagesSkipped: 1 });
    const stages = Object.fromEntries(a.build!.stages.map((s) => [s.stage, [s.status, s.base, s.copyFrom, s.target]]));
    expect(stages).toEqual({
      base: ['built', { image: 'scratch' }, [], false],
      builder: ['built', { stage: 'base' }, [], false],
      test: ['skipped', { stage: 'base' }, [], false],
      'stage-3': ['built', { stage: 'base' }, ['builder'], true],
    });
    expect(a.build!.edges).toEqual([
      { from: 'base', to: 'builder', kind: 'from' },
      { from: 'base', to: 'test', kind: 'from' },
      { from: 'base', to: 'stage-3', kind: 'from' },
      { from: 'builder', to: 'stage-3', kind: 'copy' },
    ]);
    const miss = a.build!.steps.find((s) => s.stage === 'builder' && s.step === 2 && s.prefix === '[builder 2/3]')!;
    expect(miss.status).toBe('built');
    expect(miss.reasons).toEqual([
      expect.objectContaining({
        kind: 'files',
        files: [{ path: 'src/util.js', change: 'modified', detail: expect.stringContaining('content') }],
      }),
    ]);
  });

  it('without the Dockerfile, the record still knows every stage’s base and COPY --from sources', async ({
    tmp: dir,
    store: s2,
  }) => {
    await buildDemoImage({ store: s2, dir });
    rmSync(join(dir, 'Dockerfile'));
    const a = await analyzeImage({ store: s2, image: 'demo:1' });
    expect(a.build!.graphSource).toBe('record');
    const stages = Object.fromEntries(a.build!.stages.map((s) => [s.stage, [s.base, s.copyFrom]]));
    expect(stages).toEqual({
      base: [{ image: 'scratch' }, []],
      builder: [{ stage: 'base' }, []],
      test: [{ stage: 'base' }, []],
      'stage-3': [{ stage: 'base' }, ['builder']],
    });
  });

  /** Strips what older layerkit versions did not record: each stage's base and COPY --from sources. */
  const asOldRecord = async (s: Store, image: string): Promise<void> => {
    const digest = (await analyzeImage({ store: s, image })).image.digest;
    const path = `builds/${digest.slice(7)}.json`;
    const record = JSON.parse(s.readState(path)!.toString('utf8')) as { stages: Array<Record<string, unknown>> };
    for (const stage of record.stages) {
      delete stage['base'];
      delete stage['copyFrom'];
    }
    s.writeState(path, JSON.stringify(record));
  };

  it('an older record: bases come from the Dockerfile while it matches', async ({ tmp: dir, store: s2 }) => {
    await buildDemoImage({ store: s2, dir });
    await asOldRecord(s2, 'demo:1');
    const a = await analyzeImage({ store: s2, image: 'demo:1' });
    expect(a.build!.graphSource).toBe('dockerfile');
    expect(a.build!.stages.find((s) => s.stage === 'test')!.base).toEqual({ stage: 'base' });
  });

  it('an older record without the Dockerfile: the same rows match and the target’s base is inferred from the layers', async ({
    tmp: dir,
    store: s2,
  }) => {
    await buildDemoImage({ store: s2, dir });
    await asOldRecord(s2, 'demo:1');
    rmSync(join(dir, 'Dockerfile'));
    const { rows } = await readImageHistory({ store: s2, image: 'demo:1' });
    expect(summarize(rows)).toEqual(EXPECTED);
    const a = await analyzeImage({ store: s2, image: 'demo:1' });
    expect(a.build!.graphSource).toBe('inferred');
    const byStage = Object.fromEntries(a.build!.stages.map((s) => [s.stage, s.base]));
    expect(byStage).toEqual({ base: undefined, builder: undefined, test: undefined, 'stage-3': { stage: 'base' } });
    expect(a.build!.stages.find((s) => s.stage === 'stage-3')!.copyFrom).toEqual(['builder']);
  });

  it('entries that came with a base image of the store are "base"', async ({ tmp, store: s }) => {
    await build({
      store: s,
      context: tmp,
      dockerfileText: 'FROM scratch\nENV A=1\nWORKDIR /w\n',
      tags: ['base:1'],
      sourceDateEpoch: 0,
    });
    await build({
      store: s,
      context: tmp,
      dockerfileText: 'FROM base:1\nWORKDIR /app\nUSER 1000\n',
      tags: ['app:1'],
      sourceDateEpoch: 0,
    });
    const { rows } = await readImageHistory({ store: s, image: 'app:1' });
    expect(summarize(rows)).toEqual([
      'base - · ENV A=1',
      'base - 0 WORKDIR /w',
      'miss [2/2] 1 WORKDIR /app',
      'config [stage-0] · USER 1000',
    ]);
    // The base image's own build record describes the base image itself.
    const { rows: baseRows, hasBuildRecord } = await readImageHistory({ store: s, image: 'base:1' });
    expect(hasBuildRecord).toBe(true);
    expect(baseRows.map((r) => r.cache)).toEqual(['config', 'miss']);
  });
});

describe('alignHistory', () => {
  it.each([
    {
      name: 'empty layers take none',
      history: [{ created_by: 'A' }, { created_by: 'E', empty_layer: true }, { created_by: 'B' }],
      layers: 2,
      want: [0, undefined, 1],
    },
    {
      name: 'layers the history does not describe get rows of their own',
      history: [{ created_by: 'A' }],
      layers: 3,
      want: [0, 1, 2],
    },
    {
      name: 'history claiming more layers than exist',
      history: [{ created_by: 'A' }, { created_by: 'B' }],
      layers: 1,
      want: [0, undefined],
    },
    { name: 'no history at all', history: [], layers: 2, want: [0, 1] },
  ])('$name', ({ history, layers, want }) => {
    const aligned = alignHistory(history, layers);
    expect(aligned.map((a) => a.layer)).toEqual(want);
    expect(aligned.filter((a) => a.entry === undefined).map((a) => a.historyIndex)).toEqual(
      aligned.filter((a) => a.entry === undefined).map(() => undefined),
    );
  });
});

describe('formatHistoryTable', () => {
  const now = Date.parse('2024-01-10T12:00:00Z');
  const rows = [
    {
      historyIndex: 0,
      created: '2024-01-01T12:00:00Z',
      createdBy: 'COPY rootfs/ / # buildkit',
      comment: 'buildkit.dockerfile.v0',
      emptyLayer: false,
      layer: 0,
      size: 2450,
      cache: 'base' as const,
    },
    {
      historyIndex: 1,
      created: '2024-01-10T11:00:00Z',
      createdBy: 'RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl # buildkit',
      comment: 'buildkit.dockerfile.v0',
      emptyLayer: false,
      layer: 1,
      size: 12_345_678,
      cache: 'miss' as const,
    },
    {
      historyIndex: 2,
      created: '2024-01-10T11:59:58Z',
      createdBy: 'CMD ["sh"]',
      comment: 'buildkit.dockerfile.v0',
      emptyLayer: true,
      size: 0,
      cache: 'config' as const,
    },
  ];
  const id = 'sha256:c515229819af34d6fcd9ac9213ab5429c4326cb4f15f40e14e507e48a9de3a3b';

  it('is docker’s table, newest first, with the CACHE column', () => {
    expect(formatHistoryTable(rows, { imageId: id, now })).toEqual([
      'IMAGE          CREATED             CREATED BY                                      SIZE     CACHE   COMMENT',
      'c515229819af   2 seconds ago       CMD ["sh"]                                      0B       -       buildkit.dockerfile.v0',
      '<missing>      About an hour ago   RUN /bin/sh -c apt-get update && apt-get ins…   12.3MB   miss    buildkit.dockerfile.v0',
      '<missing>      9 days ago          COPY rootfs/ / # buildkit                       2.45kB   base    buildkit.dockerfile.v0',
    ]);
  });

  it('--no-trunc keeps the full ID and command; no record, no CACHE column', () => {
    const lines = formatHistoryTable(
      rows.map(({ cache: _c, ...r }) => r),
      { imageId: id, now, noTrunc: true },
    );
    expect(lines[0]!.split(/ {3,}/)).toEqual(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']);
    expect(lines[1]!.startsWith(`${id}   `)).toBe(true);
    expect(lines[2]).toContain('apt-get install -y --no-install-recommends curl # buildkit');
  });

  it('--json is one row per line, newest first', () => {
    const lines = formatHistoryJson(rows);
    expect(lines.map((l) => (JSON.parse(l) as { createdBy: string }).createdBy)).toEqual(
      rows.map((r) => r.createdBy).reverse(),
    );
  });

  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1234, '1.23kB'],
    [12_345, '12.3kB'],
    [123_456, '123kB'],
    [999_999, '1MB'],
    [5_000_000_000, '5GB'],
  ])('formatSize(%d) = %s (docker’s HumanSizeWithPrecision)', (n, want) => {
    expect(formatSize(n)).toBe(want);
  });

  it.each([
    ['2024-01-10T11:59:59.5Z', 'Less than a second ago'],
    ['2024-01-10T11:59:59Z', '1 second ago'],
    ['2024-01-10T11:59:00Z', 'About a minute ago'],
    ['2024-01-10T11:15:00Z', '45 minutes ago'],
    ['2024-01-10T10:40:00Z', 'About an hour ago'],
    ['2024-01-08T12:00:00Z', '2 days ago'],
    ['2023-12-20T12:00:00Z', '3 weeks ago'],
    ['2023-06-10T12:00:00Z', '7 months ago'],
    ['2020-01-10T12:00:00Z', '4 years ago'],
  ])('formatAgo(%s) = %s', (then, want) => {
    expect(formatAgo(then, now)).toBe(want);
  });

  it.each([
    [0, '0%'],
    [1, '100%'],
    [0.0833, '8.3%'],
    [0.99999, '>99.9%'],
    [0.00001, '<0.1%'],
  ])('formatPercent(%d) = %s', (r, want) => {
    expect(formatPercent(r)).toBe(want);
  });
});
