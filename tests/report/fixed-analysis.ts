/**
 * A fixed analysis for golden and rendering tests: four in-memory layers (a file rewritten, a
 * directory deleted by a whiteout, a directory made opaque, the same layer twice) and a build
 * record with a cached, a missed, a config-only and a skipped step, with no Dockerfile on disk.
 */
import type { BuildRecord, Digest, StepRecord } from '../../src/index.js';
import type { LayerReader, MemoryLayerEntryInput } from '../../src/low-level.js';
import type { ImageAnalysis } from '../../src/index.js';
import { analyzeLayers, createMemoryLayer } from '../../src/low-level.js';

const d = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
const file = (path: string, size: number, fill = 'x'): MemoryLayerEntryInput => ({
  path,
  type: 'file',
  data: fill.repeat(size),
});

/** The layers, bottom first (the last repeats the second). */
export function fixedLayers(): LayerReader[] {
  const etc = createMemoryLayer({ entries: [{ path: 'etc', type: 'directory' }, file('etc/motd', 1200, 'm')] });
  const web = createMemoryLayer({
    entries: [
      { path: 'srv/www', type: 'directory' },
      file('srv/www/a.html', 3000, 'a'),
      file('srv/www/<b>.html', 800, 'b'),
      file('tmp/build.log', 25_000, 'l'),
    ],
  });
  const edit = createMemoryLayer({
    entries: [
      { path: 'srv/www', type: 'directory', mode: 0o750 },
      file('srv/www/index.html', 400, 'i'),
      file('etc/motd', 90, 'n'),
      { path: 'bin/sh', type: 'symlink', linkTarget: 'busybox' },
    ],
    whiteouts: ['tmp'],
    opaqueDirs: ['srv/www'],
  });
  return [etc, web, edit, web];
}

/** The analysis, with a record that matches the layers (steps carry their diffIDs). */
export function fixedAnalysis(): ImageAnalysis {
  const layers = fixedLayers();
  // FROM scratch: the first numbered step is 1; ENV has no number; app counts 4 steps.
  const step = (
    s: Partial<StepRecord> & Pick<StepRecord, 'stage' | 'index' | 'instruction' | 'status'>,
  ): StepRecord => ({ line: s.index + 1, metadata: false, durationMs: 5, total: s.stage === 'app' ? 4 : 1, ...s });
  const steps: StepRecord[] = [
    step({ stage: 'tools', step: 1, index: 1, instruction: 'RUN make tools', status: 'skipped' }),
    step({
      stage: 'app',
      step: 1,
      index: 1,
      instruction: 'COPY etc/ /etc/',
      status: 'cached',
      diffId: layers[0]!.diffId,
    }),
    step({
      stage: 'app',
      step: 2,
      index: 2,
      instruction: 'COPY www/ /srv/www/',
      status: 'cached',
      diffId: layers[1]!.diffId,
    }),
    step({ stage: 'app', index: 3, instruction: 'ENV MODE=prod', status: 'built', metadata: true }),
    step({
      stage: 'app',
      step: 3,
      index: 4,
      instruction: 'RUN ./tidy.sh',
      status: 'built',
      diffId: layers[2]!.diffId,
      reason: 'a source file changed',
      explanation: [
        {
          kind: 'files',
          message: 'a source file changed: tidy.sh modified',
          files: [{ path: 'tidy.sh', change: 'modified', detail: 'content (10 → 12 bytes)' }],
        },
      ],
    }),
    step({
      stage: 'app',
      step: 4,
      index: 5,
      instruction: 'COPY www/ /srv/www/',
      status: 'built',
      diffId: layers[3]!.diffId,
      explanation: [
        { kind: 'parent', message: 'an earlier step produced a different result (the parent layer changed)' },
      ],
    }),
  ];
  const record: BuildRecord = {
    digest: d('1'),
    dockerfile: 'Dockerfile',
    context: '/nonexistent/layerkit-fixed-context',
    target: 'app',
    tags: ['fixed:1'],
    stages: [
      { stage: 'tools', index: 0, status: 'skipped', base: { image: 'scratch' }, total: 1 },
      { stage: 'app', index: 1, status: 'built', base: { image: 'scratch' }, total: 4 },
    ],
    steps,
    warnings: [],
    finished: '2024-05-01T10:00:00.000Z',
    durationMs: 1234,
  };
  const entry = (created_by: string, empty = false) => ({
    created: '2024-05-01T10:00:00Z',
    created_by,
    comment: 'buildkit.dockerfile.v0',
    ...(empty ? { empty_layer: true } : {}),
  });
  return analyzeLayers({
    image: { names: ['fixed:1'], digest: d('1'), id: d('2'), created: '2024-05-01T10:00:00Z', platform: 'linux/amd64' },
    layers,
    descriptors: layers.map((_, i) => ({
      digest: d(String.fromCharCode(97 + i)),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      size: 500 + i * 100,
    })),
    history: [
      entry('COPY etc/ /etc/ # buildkit'),
      entry('COPY www/ /srv/www/ # buildkit'),
      entry('ENV MODE=prod', true),
      entry('RUN /bin/sh -c ./tidy.sh # buildkit'),
      entry('COPY www/ /srv/www/ # buildkit'),
    ],
    record,
  });
}
