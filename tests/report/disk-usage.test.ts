/**
 * `diskUsage` (`system df`): counts, sizes measured from the files themselves, shared bytes
 * counted once, and RECLAIMABLE checked against what really goes: removing the inactive image
 * and the build cache, then `gc`, frees exactly images.reclaimable + buildCache.reclaimable.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import {
  build,
  createContainer,
  diskUsage,
  gcStore,
  importImage,
  loadImage,
  openStore,
  removeImage,
  type Store,
} from '../../src/index.js';
import { ensureSnapshot } from '../../src/low-level.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

function folderBytes(path: string): number {
  if (!fs.existsSync(path)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(path, { withFileTypes: true, recursive: true }))
    if (!e.isDirectory()) n += fs.lstatSync(join(e.parentPath, e.name)).size;
  return n;
}

describe('diskUsage', () => {
  let tmp: string;
  let root: string;
  let store: Store;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    root = join(tmp, 'store');
    store = await openStore({ root });
    await importImage({ store, source: HELLO, tags: ['hello:1'] });
    fs.mkdirSync(join(tmp, 'ctx'));
    await build({
      store,
      context: join(tmp, 'ctx'),
      dockerfileText:
        'FROM hello:1\nRUN --mount=type=cache,target=/cache echo cached > /cache/f && echo out > /out && echo more > /more\n',
      tags: ['app:1'],
      sourceDateEpoch: 0,
    });
    await createContainer({ store, image: 'hello:1', name: 'box' });
    await gcStore({ store }); // start from a store with nothing unreferenced
  });

  it('measures images, containers and the build cache from the files', async () => {
    const usage = await diskUsage({ store });
    const imageBytes = async (ref: string) => {
      const image = await loadImage({ store, image: ref });
      const blobs = new Set([
        image.descriptor.digest,
        image.manifest.config.digest,
        ...image.layers.map((l) => l.digest),
      ]);
      const states = new Set(image.diffIds);
      return { blobs, states };
    };
    const hello = await imageBytes('hello:1');
    const app = await imageBytes('app:1');
    const blobSize = (d: string) => fs.statSync(join(root, 'blobs', 'sha256', d.slice(7))).size;
    const stateSize = (d: string) => folderBytes(join(root, 'layerkit', 'layers', d.slice(7)));
    const bytes = (x: { blobs: Set<string>; states: Set<string> }) =>
      [...x.blobs].reduce((n, d) => n + blobSize(d), 0) + [...x.states].reduce((n, d) => n + stateSize(d), 0);
    const union = {
      blobs: new Set([...hello.blobs, ...app.blobs]),
      states: new Set([...hello.states, ...app.states]),
    };
    const shared = {
      blobs: new Set([...hello.blobs].filter((d) => app.blobs.has(d))),
      states: new Set([...hello.states].filter((d) => app.states.has(d))),
    };
    expect(usage.images.total).toBe(2);
    expect(usage.images.active).toBe(1);
    expect(usage.images.size).toBe(bytes(union));
    expect(usage.images.reclaimable).toBe(bytes(union) - bytes(hello));
    const byName = Object.fromEntries(usage.images.items.map((i) => [i.names[0], i]));
    expect(byName['hello:1']).toMatchObject({ size: bytes(hello), sharedSize: bytes(shared), containers: 1 });
    expect(byName['app:1']).toMatchObject({ size: bytes(app), sharedSize: bytes(shared), containers: 0 });
    expect(byName['app:1']!.uniqueSize).toBe(bytes(app) - bytes(shared));
    expect(bytes(shared)).toBeGreaterThan(0);

    expect(usage.containers).toMatchObject({ total: 1, active: 0 });
    expect(usage.containers.items[0]).toMatchObject({ name: 'box', imageRef: 'hello:1', status: 'created' });
    expect(usage.containers.size).toBe(folderBytes(join(root, 'layerkit', 'containers', 'box')));
    expect(usage.containers.size).toBeGreaterThan(0);

    const types = usage.buildCache.items.map((e) => `${e.type}:${e.shared}`).sort();
    expect(types).toEqual(['exec.cachemount:false', 'regular:true']);
    const mount = usage.buildCache.items.find((e) => e.type === 'exec.cachemount')!;
    expect(mount.size).toBeGreaterThan(0);
    expect(usage.buildCache.reclaimable).toBe(mount.size);
    expect(usage.buildCache.size).toBeGreaterThan(mount.size);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "the runtime's extracted layers count in the images' size, reclaimable with the image",
    async () => {
      const before = await diskUsage({ store });
      const hello = await loadImage({ store, image: 'hello:1' });
      const app = await loadImage({ store, image: 'app:1' });
      for (const [i, descriptor] of app.layers.entries())
        await ensureSnapshot({ store, descriptor, diffId: app.diffIds[i]! });
      const snapshots = join(root, 'layerkit', 'runtime', 'layers');
      const extracted = folderBytes(snapshots);
      const appOnly = app.diffIds
        .filter((d) => !hello.diffIds.includes(d))
        .reduce((n, d) => n + folderBytes(join(snapshots, d.slice(7))), 0);
      expect(appOnly).toBeGreaterThan(0);
      expect(extracted).toBeGreaterThan(appOnly);
      const after = await diskUsage({ store });
      expect(after.images.size).toBe(before.images.size + extracted);
      expect(after.images.reclaimable).toBe(before.images.reclaimable + appOnly);
      const row = (u: typeof after, name: string) => u.images.items.find((i) => i.names.includes(name))!;
      expect(row(after, 'app:1').sharedSize).toBe(row(before, 'app:1').sharedSize + extracted - appOnly);
      expect(row(after, 'app:1').uniqueSize).toBe(row(before, 'app:1').uniqueSize + appOnly);
    },
  );

  it('RECLAIMABLE is what removing the inactive image and the build cache, then gc, frees', async () => {
    const usage = await diskUsage({ store });
    await removeImage({ store, ref: 'app:1' });
    const report = await gcStore({ store, pruneCache: true });
    expect(report.freedBytes).toBe(usage.images.reclaimable + usage.buildCache.reclaimable);
    const after = await diskUsage({ store });
    expect(after.images).toMatchObject({
      total: 1,
      active: 1,
      reclaimable: 0,
      size: usage.images.size - usage.images.reclaimable,
    });
    expect(after.buildCache).toMatchObject({ total: 0, size: 0, reclaimable: 0 });
  });

  it('system df prints the table; -v the lists; --json the report; an empty store is all zeros', async () => {
    const run = async (argv: string[]) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(c, _e, done) {
          chunks.push(Buffer.from(c as Buffer));
          done();
        },
      });
      const code = await main(argv, { out: sink, err: sink, color: false, debug: false });
      return { code, out: Buffer.concat(chunks).toString() };
    };
    const empty = await run(['--store', join(tmp, 'empty'), 'system', 'df']);
    expect(empty.code).toBe(0);
    expect(empty.out).toBe(
      [
        'TYPE         TOTAL  ACTIVE  SIZE  RECLAIMABLE',
        'Images       0      0       0B    0B',
        'Containers   0      0       0B    0B',
        'Build Cache  0      0       0B    0B',
        '',
      ].join('\n'),
    );
    const usage = await diskUsage({ store });
    const table = await run(['--store', root, 'system', 'df']);
    expect(table.out).toMatch(/^Images +1 +1 +\S+ +0B \(0%\)$/m);
    expect(table.out).toMatch(/^Containers +1 +0 +(\S+) +\1 \(100%\)$/m);
    const json = await run(['--store', root, 'system', 'df', '--json']);
    expect(JSON.parse(json.out)).toEqual(JSON.parse(JSON.stringify(usage)));
    const verbose = await run(['--store', root, 'system', 'df', '-v']);
    expect(verbose.out).toMatch(
      /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nhello +1 +7365f52fd71a +\d+ years ago /m,
    );
    expect(verbose.out).toMatch(/^box +hello:1 +\S+ +\S/m);
    expect(verbose.out).toContain('Build cache usage: 0B');
    expect((await run(['--store', root, 'system', 'du'])).code).toBe(2);
  });
});
