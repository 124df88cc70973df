/**
 * Reproducible builds: the same Dockerfile, context and `sourceDateEpoch` give the same manifest
 * digest, twice in a row, from empty stores (two disk roots and a memory store), from a store
 * whose cache holds layers of a build without an epoch, and from a copy of the context whose
 * files have other (later) mtimes. RUN steps write files "now": their mtimes must be clamped.
 */
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import { openStore, type Store } from '../../src/store/store.js';
import { imageTree, makeContext, makeDiskStore, makeTar, withContext, type FileTable } from './helpers.js';

const EPOCH = 1_650_000_000;
const LATER = 1_900_000_000;

const DOCKERFILE = `FROM scratch
ARG FLAVOUR=plain
WORKDIR /app
COPY . .
ADD bundle.tar /opt/
COPY <<EOF /etc/motd
flavour \${FLAVOUR}
EOF
RUN mkdir -p /var/data/sub && echo "$FLAVOUR" > /var/data/flavour && touch /var/data/empty && ln -s flavour /var/data/link && cp /app/a.txt /var/data/copy && chmod 600 /var/data/copy
RUN <<EOF
echo second > /var/data/second
rm /var/data/empty
EOF
LABEL built=yes
CMD ["/bin/sh"]
`;

let contextFiles: FileTable;

async function files(mtime: number): Promise<FileTable> {
  contextFiles ??= {
    'a.txt': 'alpha\n',
    'sub/b.txt': 'beta\n',
    'bundle.tar': {
      content: await makeTar([
        { path: 'pkg', type: 'directory', mtime: LATER },
        { path: 'pkg/file', type: 'file', data: 'in the tar\n', mtime: LATER },
      ]),
    },
  };
  return Object.fromEntries(
    Object.entries(contextFiles).map(([k, v]) => [
      k,
      typeof v === 'string' ? { content: v, mtime } : { ...(v as object), mtime },
    ]),
  ) as FileTable;
}

/** Builds DOCKERFILE in a fresh copy of the context whose files have `mtime`; `epoch` null builds without one. */
async function buildIn(store: Store, mtime = EPOCH - 1000, epoch: number | null = EPOCH): Promise<string> {
  const r = await withContext({ ...(await files(mtime)), Dockerfile: DOCKERFILE }, (context) =>
    build({ store, context, tags: ['repro:1'], ...(epoch !== null ? { sourceDateEpoch: epoch } : {}) }),
  );
  return r.image.descriptor.digest;
}

describe('reproducible builds with sourceDateEpoch', () => {
  test('same digest twice in a row, from two empty disk stores and from a memory store', async ({ tmp }) => {
    const a = await makeDiskStore(tmp);
    const b = await makeDiskStore(tmp);
    const first = await buildIn(a.store);
    expect(await buildIn(a.store)).toBe(first);
    expect(await buildIn(b.store)).toBe(first);
    expect(await buildIn(await openStore({ memory: true }))).toBe(first);
  });

  test('context files with later mtimes are clamped: same digest', async () => {
    const reference = await buildIn(await openStore({ memory: true }), LATER);
    expect(await buildIn(await openStore({ memory: true }), LATER + 12345)).toBe(reference);
    expect(await buildIn(await openStore({ memory: true }), EPOCH + 1)).toBe(reference);
    // An mtime at or below the epoch is kept, so it shows.
    expect(await buildIn(await openStore({ memory: true }), EPOCH - 1)).not.toBe(reference);
  });

  test('a store holding the cache of a build without an epoch gives the same digest as an empty one', async () => {
    const reference = await buildIn(await openStore({ memory: true }));
    const store = await openStore({ memory: true });
    await buildIn(store, EPOCH - 1000, null);
    expect(await buildIn(store)).toBe(reference);
  });

  test('another epoch gives another digest (the test can fail)', async () => {
    const reference = await buildIn(await openStore({ memory: true }));
    expect(await buildIn(await openStore({ memory: true }), EPOCH - 1000, EPOCH + 1)).not.toBe(reference);
  });

  test('every mtime is at most the epoch; files RUN made carry the epoch; created is the epoch', async ({
    store,
    tmp,
  }) => {
    const ctx = makeContext(tmp, {
      ...(await files(LATER)),
      'old.txt': { content: 'old\n', mtime: 1_000_000 },
      Dockerfile: DOCKERFILE,
    });
    const r = await build({ store, context: ctx.dir, sourceDateEpoch: EPOCH });
    const tree = await imageTree(store, r.image);
    for (const [path, e] of tree) expect(e.mtime, path).toBeLessThanOrEqual(EPOCH);
    for (const p of [
      '/var/data',
      '/var/data/flavour',
      '/var/data/link',
      '/var/data/copy',
      '/var/data/second',
      '/app',
      '/etc/motd',
      '/app/a.txt',
      '/opt/pkg/file',
    ]) {
      expect(tree.get(p)?.mtime, p).toBe(EPOCH);
    }
    // Older mtimes are kept (a clamp, not a reset).
    expect(tree.get('/app/old.txt')?.mtime).toBe(1_000_000);
    expect(tree.has('/var/data/empty')).toBe(false);
    const iso = new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z');
    expect(r.image.config.created).toBe(iso);
    expect(new Set(r.image.config.history!.map((h) => h.created))).toEqual(new Set([iso]));
  });

  test('without an epoch, a build served entirely from the cache gives the same image again', async ({ store }) => {
    let now = Date.parse('2026-01-02T03:04:05.678Z');
    const clock = () => now;
    const run = () =>
      withContext(
        { Dockerfile: 'FROM scratch\nCOPY a.txt /\nENV X=1\nCOPY b.txt /\nLABEL l=1\n', 'a.txt': 'a', 'b.txt': 'b' },
        (context) => build({ store, context, tags: ['cached:1'], clock }),
      );
    const first = await run();
    now += 3_600_000;
    const second = await run();
    expect(second.steps.filter((s) => !s.metadata).every((s) => s.status === 'cached')).toBe(true);
    expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);
    // Each layer keeps its own creation time; what adds no layer takes the time before it, as BuildKit's exporter.
    const created = second.image.config.history!.map((h) => h.created);
    expect(created).toEqual([
      '2026-01-02T03:04:05.678Z',
      '2026-01-02T03:04:05.678Z',
      '2026-01-02T03:04:05.678Z',
      '2026-01-02T03:04:05.678Z',
    ]);
    expect(second.image.config.created).toBe('2026-01-02T03:04:05.678Z');
    // A step that misses makes a layer at the new time, and the config takes it.
    now += 60_000;
    const third = await withContext(
      { Dockerfile: 'FROM scratch\nCOPY a.txt /\nENV X=1\nCOPY b.txt /\nLABEL l=1\n', 'a.txt': 'a', 'b.txt': 'B' },
      (context) => build({ store, context, tags: ['cached:1'], clock }),
    );
    expect(third.image.config.history!.map((h) => h.created)).toEqual([
      '2026-01-02T03:04:05.678Z',
      '2026-01-02T03:04:05.678Z',
      new Date(now).toISOString(),
      new Date(now).toISOString(),
    ]);
    expect(third.image.config.created).toBe(new Date(now).toISOString());
  });

  test('without an epoch, created is the build time', async ({ store }) => {
    const before = Date.now() - 1000;
    await buildIn(store, EPOCH, null);
    const image = (await import('../../src/image/image.js')).loadImage({ store, image: 'repro:1' });
    expect(Date.parse((await image).config.created!)).toBeGreaterThanOrEqual(before);
  });
});
