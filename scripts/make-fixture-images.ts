/**
 * Makes the small example images in fixtures/images/ with layerkit itself, deterministically
 * (SOURCE_DATE_EPOCH 0): run `npx tsx scripts/make-fixture-images.ts` and the bytes come out the
 * same every time.
 *
 * hello.oci.tar: two layers. The base has /etc/os-release, /etc/motd, /usr/share/doc/{a,b} and
 * /bin/hello (a shell script); the top layer rewrites /etc/motd, deletes /usr/share/doc/a with a
 * whiteout and makes /var/cache opaque, adding /var/cache/new.
 */
import { exportImage, openStore, addLayer, writeImage } from '../src/index.js';
import type { LayerEntryInput } from '../src/low-level.js';

const file = (path: string, text: string, mode = 0o644): LayerEntryInput => ({
  header: { path, type: 'file', mode, uid: 0, gid: 0, mtime: 0, size: Buffer.byteLength(text) },
  data: Buffer.from(text),
});
const dir = (path: string, mode = 0o755): LayerEntryInput => ({
  header: { path, type: 'directory', mode, uid: 0, gid: 0, mtime: 0 },
});
const marker = (path: string): LayerEntryInput => ({
  header: { path, type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 },
  data: Buffer.alloc(0),
});

const store = await openStore({ memory: true });
const base = await addLayer({
  store,
  sourceDateEpoch: 0,
  entries: [
    dir('bin'),
    file('bin/hello', '#!/bin/sh\necho "hello from layerkit"\n', 0o755),
    dir('etc'),
    file('etc/motd', 'welcome to the base layer\n'),
    file('etc/os-release', 'NAME="layerkit example"\nID=layerkit\n'),
    dir('usr'),
    dir('usr/share'),
    dir('usr/share/doc'),
    file('usr/share/doc/a', 'doc a\n'),
    file('usr/share/doc/b', 'doc b\n'),
    dir('var'),
    dir('var/cache'),
    file('var/cache/old', 'stale\n'),
  ],
});
const top = await addLayer({
  store,
  sourceDateEpoch: 0,
  entries: [
    dir('etc'),
    file('etc/motd', 'welcome to the top layer\n'),
    dir('usr'),
    dir('usr/share'),
    dir('usr/share/doc'),
    marker('usr/share/doc/.wh.a'),
    dir('var'),
    dir('var/cache'),
    marker('var/cache/.wh..wh..opq'),
    file('var/cache/new', 'fresh\n'),
  ],
});
const created = '1970-01-01T00:00:00Z';
const image = await writeImage({
  store,
  config: {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/hello'] },
    rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
    history: [
      { created, created_by: 'layerkit fixture: base files' },
      { created, created_by: 'layerkit fixture: rewrite motd, delete a doc, replace /var/cache' },
    ],
  },
  layers: [base.descriptor, top.descriptor],
  tags: ['hello:latest'],
});
await exportImage({
  store,
  image,
  format: 'oci-archive',
  output: new URL('../fixtures/images/hello.oci.tar', import.meta.url).pathname,
  name: 'hello:latest',
});
console.log(`fixtures/images/hello.oci.tar: ${image.descriptor.digest}`);
