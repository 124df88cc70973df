/**
 * Every JSON file of the store is read through one guarded reader: a truncated state file of each
 * kind is `ERR_STORE_CORRUPT` naming the file, from `gcStore` (which then removes nothing), from
 * `verifyStore` (reported as a problem, not thrown), and from the command that reads it.
 *
 * Every kind carries its format version: each file written says `"version"`, a file of a newer
 * version is `ERR_UNSUPPORTED` naming it (from gc, which removes nothing, and from its reader; verify
 * reports it),
 * and a file from before versions (no `version` field) still reads.
 */
import { cpSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { loadBuildRecord } from '../../src/builder/build-record.js';
import { build } from '../../src/builder/build.js';
import { createContainer, listContainers, openContainer } from '../../src/container/containers.js';
import { loadImage } from '../../src/image/image.js';
import { listImages } from '../../src/image/images.js';
import { importImage } from '../../src/image/import.js';
import { indexImageLayers } from '../../src/layer/layer-store.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { verifyStore } from '../../src/maintenance/verify-store.js';
import { openStore, type Store } from '../../src/store/store.js';
import { makeBaseImage, makeContext } from '../builder/helpers.js';

const HELLO = new URL('../../fixtures/images/hello.oci.tar', import.meta.url).pathname;
const DOCKERFILE = 'FROM base:1\nCOPY a.txt /a.txt\nRUN --mount=type=cache,target=/c echo x >> /c/log && echo y > /y\n';

let tmp: string;
let ctx: { dir: string };
let template: string;

const first = (dir: string): string => readdirSync(dir).filter((f) => !f.startsWith('.'))[0]!;

/** The diffID hex of the hello image's layer, read from the layout's files. */
function helloDiffId(root: string): string {
  const blob = (digest: string) => JSON.parse(readFileSync(join(root, 'blobs/sha256', digest.slice(7)), 'utf8'));
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
  return (blob(manifest.config.digest) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0]!.slice(7);
}

/** One kind of state: which file to damage, and the command that reads it. */
interface Row {
  kind: string;
  file: (root: string) => string;
  read: (store: Store) => Promise<unknown>;
  /** The format has had a version from its first release (no unversioned files exist). */
  alwaysVersioned?: boolean;
}

const rebuild = (store: Store) => build({ store, context: ctx.dir, tags: ['app:1'] });

const ROWS: Row[] = [
  { kind: 'index.json', file: (r) => join(r, 'index.json'), read: (s) => listImages({ store: s }) },
  {
    kind: 'layer index',
    file: (r) => join(r, 'layerkit/layers', helloDiffId(r), 'index.json'),
    read: async (s) => {
      for (const name of ['hello'])
        await indexImageLayers({ store: s, image: await loadImage({ store: s, image: name }) });
    },
  },
  {
    kind: 'build cache record',
    file: (r) => join(r, 'layerkit/cache/records', first(join(r, 'layerkit/cache/records'))),
    read: rebuild,
  },
  {
    kind: 'build cache position',
    file: (r) => {
      const d = join(r, 'layerkit/cache/positions', first(join(r, 'layerkit/cache/positions')));
      return join(d, first(d));
    },
    // A changed input: every step misses, and each miss is explained against its position's last components.
    read: async (s) => {
      writeFileSync(join(ctx.dir, 'a.txt'), 'changed\n');
      try {
        return await build({ store: s, context: ctx.dir });
      } finally {
        writeFileSync(join(ctx.dir, 'a.txt'), 'a\n');
      }
    },
  },
  {
    kind: 'build record',
    file: (r) => join(r, 'layerkit/builds', first(join(r, 'layerkit/builds'))),
    read: async (s) => loadBuildRecord({ store: s, digest: s.resolveRef('app:1').descriptor.digest }),
  },
  {
    kind: 'context file hashes',
    file: (r) => join(r, 'layerkit/cache/context-hashes', first(join(r, 'layerkit/cache/context-hashes'))),
    read: rebuild,
  },
  {
    kind: 'cache mount',
    file: (r) => join(r, 'layerkit/cache-mounts', first(join(r, 'layerkit/cache-mounts'))),
    read: (s) => build({ store: s, context: ctx.dir, noCache: true }),
  },
  {
    kind: 'container',
    file: (r) => join(r, 'layerkit/containers/c1/container.json'),
    read: async (s) => listContainers({ store: s }),
  },
  {
    kind: "container's saved layer",
    file: (r) => {
      const d = join(r, 'layerkit/containers/c1');
      return join(d, readdirSync(d).find((f) => f.startsWith('state-'))!, 'upper.json');
    },
    read: (s) => openContainer({ store: s, name: 'c1' }),
    alwaysVersioned: true,
  },
  {
    kind: 'gc root',
    file: (r) => join(r, 'layerkit/roots/containers', first(join(r, 'layerkit/roots/containers'))),
    read: (s) => listImages({ store: s }),
  },
];

test.beforeAll(async ({ fileTmp }) => {
  tmp = fileTmp;
  ctx = makeContext(fileTmp, { 'a.txt': 'a\n', Dockerfile: DOCKERFILE });
  template = join(tmp, 'template');
  const store = await openStore({ root: template, durable: false });
  await importImage({ store, source: HELLO, tags: ['hello'] });
  await makeBaseImage({ store, tag: 'base:1' });
  await rebuild(store);
  await createContainer({ store, image: 'hello', name: 'c1' });
});

describe('a truncated state file of each kind', () => {
  it.each(ROWS)('$kind: ERR_STORE_CORRUPT from gc, verify and its reader', async (row) => {
    const root = join(tmp, row.kind.replace(/\W+/g, '-'));
    cpSync(template, root, { recursive: true });
    const file = row.file(root);
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeGreaterThan(2);
    truncateSync(file, Math.floor(text.length / 2));
    const store = await openStore({ root, durable: false });
    const blobs = store.blobs.list().length;
    const corrupt = expect.objectContaining({
      code: 'ERR_STORE_CORRUPT',
      message: expect.stringContaining(file),
      data: expect.objectContaining({ path: file }),
    });

    await expect(gcStore({ store })).rejects.toThrow(corrupt);
    await expect(gcStore({ store, pruneCache: { until: '1h' } })).rejects.toThrow(corrupt);
    expect(store.blobs.list()).toHaveLength(blobs);

    const report = await verifyStore({ store });
    expect(report.problems).toContainEqual(expect.objectContaining({ code: 'ERR_STORE_CORRUPT' }));
    expect(report.problems.some((p) => p.message.includes(file))).toBe(true);

    await expect(row.read(store)).rejects.toThrow(corrupt);
    // An empty file is damaged too.
    writeFileSync(file, '');
    await expect(row.read(store)).rejects.toThrow(corrupt);
  });
});

describe('the format version of each kind of state file', () => {
  /** A copy of the template with `file` rewritten by `edit` (its parsed JSON). */
  async function editedCopy(row: Row, name: string, edit: (value: Record<string, unknown>) => void) {
    const root = join(tmp, `${name}-${row.kind.replace(/\W+/g, '-')}`);
    cpSync(template, root, { recursive: true });
    const file = row.file(root);
    const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(value);
    writeFileSync(file, JSON.stringify(value));
    return { file, store: await openStore({ root, durable: false }) };
  }

  const OURS = ROWS.filter((r) => r.kind !== 'index.json');

  it.each(OURS)('$kind: written with a version', (row) => {
    const value = JSON.parse(readFileSync(row.file(template), 'utf8')) as { version?: unknown };
    expect(value.version).toEqual(expect.any(Number));
  });

  it.each(OURS)('$kind: a newer version is ERR_UNSUPPORTED naming the file, and gc removes nothing', async (row) => {
    const { file, store } = await editedCopy(row, 'newer', (v) => {
      v.version = 99;
    });
    const blobs = store.blobs.list().length;
    const unsupported = expect.objectContaining({
      code: 'ERR_UNSUPPORTED',
      message: expect.stringContaining(file),
      data: expect.objectContaining({ path: file, version: 99 }),
    });
    await expect(gcStore({ store })).rejects.toThrow(unsupported);
    expect(store.blobs.list()).toHaveLength(blobs);
    const report = await verifyStore({ store });
    expect(report.problems).toContainEqual(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED', message: expect.stringContaining(file) }),
    );
    await expect(row.read(store)).rejects.toThrow(unsupported);
  });

  it.each(OURS.filter((r) => !r.alwaysVersioned))('$kind: a file without a version still reads', async (row) => {
    const { store } = await editedCopy(row, 'unversioned', (v) => {
      delete v.version;
    });
    await expect(row.read(store)).resolves.not.toThrow();
    expect((await verifyStore({ store })).problems).toEqual([]);
  });

  it("lease: another live process's lease of a newer version stops gc (it cannot tell what the lease keeps)", async () => {
    const root = join(tmp, 'newer-lease');
    cpSync(template, root, { recursive: true });
    // The parent of this process is alive, so the lease is not a dead process's leftover.
    const file = join(root, 'layerkit/leases', `${process.ppid}-000000000000.json`);
    writeFileSync(file, `${JSON.stringify({ pid: process.ppid, v: 99 })}\nsha256:${'0'.repeat(64)}\n`);
    const store = await openStore({ root, durable: false });
    await expect(gcStore({ store })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED', data: expect.objectContaining({ path: file }) }),
    );
  });
});
