/**
 * Lazy mounts of uncompressed layers (`...layer.v1.tar`) through a real registry (distribution
 * 2.8) behind a counting proxy: the tar's headers are walked with Range requests and a file's
 * bytes fetched when read, so reading one small file of a 24 MiB layer moves under 1% of it; the view
 * shows the same tree as the image pulled and mounted (whiteouts over a gzip layer below, links,
 * an opaque folder); a big file reads byte-exact; a hostile name and a lying diffID are refused
 * with coded errors naming the blob, and the store is left as it was.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addLayer,
  isLayerkitError,
  type LazyImageFS,
  MediaTypes,
  mountImage,
  openStore,
  pullImage,
  pushImage,
  type Store,
  writeImage,
} from '../../src/index.js';
import { encodeHeader } from '../../src/tar/header-encode.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { type LayerFiles, layerEntriesOf, viewTree } from '../helpers/lazy-trees.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { storeSnapshot } from './images.js';

const skip = registryTestbedMissing();
const meta = { uid: 0, gid: 0, mtime: 0 };
const env = { HOME: '/nonexistent-home' };
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(skip !== undefined)(`lazy mounts of uncompressed layers${skip ? ` (${skip})` : ''}`, () => {
  let bed: Testbed;
  let proxy: FaultProxy;
  let store: Store;
  beforeAll(async () => {
    bed = await startTestbed({ plain: true });
    proxy = await startFaultProxy(bed.plain!.host);
    store = await openStore({ memory: true });
  });
  afterAll(async () => {
    await proxy?.close();
    await bed?.stop();
  });

  it('reads one small file of a 24 MiB plain tar moving under 1% of it; the tree is the pulled mount’s', async () => {
    const lower = await addLayer({
      store,
      compression: 'gzip',
      entries: layerEntriesOf({
        'data/gone': Buffer.from('deleted above\n'),
        'etc/hostname': Buffer.from('lower\n'),
        'var/cache/old': Buffer.from('hidden by an opaque folder\n'),
      }),
    });
    const upperFiles: LayerFiles = {
      'data/gone': 'whiteout',
      'etc/hostname': Buffer.from('upper wins\n'),
      'etc/motd': Buffer.from('hello from a lazy tar\n'),
      'etc/motd.link': { link: 'motd' },
      'etc/motd.hard': { hardlink: 'etc/motd' },
      'var/cache': 'opaque',
      'var/cache/new': Buffer.from('new\n'),
    };
    for (let i = 0; i < 3; i++) upperFiles[`srv/part${i}`] = randomBytes(8 << 20);
    for (let i = 0; i < 20; i++) upperFiles[`usr/share/small/f${i}`] = Buffer.from(`small ${i}\n`);
    const upper = await addLayer({ store, compression: 'none', entries: layerEntriesOf(upperFiles) });
    expect(upper.descriptor.mediaType).toBe(MediaTypes.ociLayer);
    await writeImage({
      store,
      config: {
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [lower.diffId, upper.diffId] },
      },
      layers: [lower.descriptor, upper.descriptor],
      tags: ['tar:1'],
    });
    const ref = `${proxy.host}/lazy/tar:1`;
    await pushImage({ store, image: 'tar:1', ref, env });

    proxy.log.length = 0;
    const other = await openStore({ memory: true });
    const fs = (await mountImage({ store: other, image: ref, lazy: true, env })) as LazyImageFS;
    try {
      expect(fs.lazyLayers).toBe(1);
      expect(await fs.readFile('/etc/motd', 'utf8')).toBe('hello from a lazy tar\n');
      const ofUpper = proxy.log.filter((e) => e.url.endsWith(upper.descriptor.digest));
      // every request for the plain tar is a Range request, and all of them move a few KiB of 24 MiB
      expect(ofUpper.length).toBeGreaterThan(0);
      expect(ofUpper.every((e) => e.method === 'GET' && /^bytes=\d+-\d+$/.test(e.range ?? ''))).toBe(true);
      const moved = ofUpper.reduce((n, e) => n + e.bytesOut, 0);
      // the header walk (small windows after each 8 MiB file) and the file: about 0.2% of the layer
      expect(moved).toBeLessThan(56 * 1024);
      expect(other.blobs.stat(upper.descriptor.digest)).toBeUndefined(); // the tar never reached the store
      expect(other.blobs.stat(lower.descriptor.digest)?.size).toBe(lower.descriptor.size); // gzip: pulled whole

      const pulled = await openStore({ memory: true });
      await pullImage({ store: pulled, ref, env });
      const local = await mountImage({ store: pulled, image: ref, readOnly: true });
      expect(await viewTree(fs)).toEqual(await viewTree(local));
      expect(await fs.exists('/data/gone')).toBe(false);
      expect(await fs.exists('/var/cache/old')).toBe(false);
      expect(await fs.readFile('/etc/hostname', 'utf8')).toBe('upper wins\n');
      expect(await fs.readFile('/etc/motd.hard', 'utf8')).toBe('hello from a lazy tar\n');
      expect(await fs.readFile('/etc/motd.link', 'utf8')).toBe('hello from a lazy tar\n');
      // small files came whole with the headers: reading one asks the registry for nothing more
      const asked = proxy.log.length;
      expect(await fs.readFile('/usr/share/small/f17', 'utf8')).toBe('small 17\n');
      expect(proxy.log.length).toBe(asked);

      // a big file, streamed: byte-exact, and only its bytes moved
      const before = proxy.log.reduce((n, e) => n + e.bytesOut, 0);
      const streamed: Buffer[] = [];
      for await (const c of fs.createReadStream('/srv/part1')) streamed.push(c as Buffer);
      expect(sha(Buffer.concat(streamed))).toBe(sha(local.readFileSync('/srv/part1')));
      const big = proxy.log.reduce((n, e) => n + e.bytesOut, 0) - before;
      expect(big).toBeGreaterThanOrEqual(8 << 20);
      expect(big).toBeLessThan((8 << 20) + (64 << 10));
      // a partial read through a handle; a synchronous read of bytes not fetched says so
      const h = await fs.open('/srv/part2');
      const { buffer, bytesRead } = await h.read(Buffer.alloc(100), 0, 100, (5 << 20) + 7);
      expect(bytesRead).toBe(100);
      expect(Buffer.from(buffer)).toEqual(local.readFileSync('/srv/part2').subarray((5 << 20) + 7, (5 << 20) + 107));
      await h.close();
      expect(() => fs.readFileSync('/srv/part0')).toThrow(/not fetched yet/);
    } finally {
      await fs.close();
    }
  }, 120_000);

  it('a name escaping the root and a diffID that is not the blob’s are refused, naming the blob', async () => {
    // A plain tar written by hand with a hostile name (the layer writer would refuse it).
    const file = (name: string, data: string) => {
      const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
      body.write(data);
      return [encodeHeader({ name, type: 'file', mode: 0o644, ...meta, size: data.length }), body];
    };
    const chunks = [...file('ok', 'ok\n'), ...file('../../etc/evil', 'evil\n'), Buffer.alloc(1024)];
    const tar = Buffer.concat(chunks);
    const put = await store.blobs.put(tar);
    const layer = { mediaType: MediaTypes.ociLayer, digest: put.digest, size: put.size };
    const config = (diffId: string) => ({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers' as const, diff_ids: [diffId as never] },
    });
    await writeImage({ store, config: config(put.digest), layers: [layer], tags: ['evil:1'] });
    await pushImage({ store, image: 'evil:1', ref: `${proxy.host}/lazy/evil:1`, env });
    const other = await openStore({ memory: true });
    const before = storeSnapshot(other);
    const err = await mountImage({ store: other, image: `${proxy.host}/lazy/evil:1`, lazy: true, env }).catch(
      (e: unknown) => e,
    );
    expect(isLayerkitError(err, 'ERR_UNSAFE_PATH'), String(err)).toBe(true);
    expect((err as Error).message).toContain(put.digest);

    const lie = `sha256:${'0'.repeat(64)}`;
    await writeImage({ store, config: config(lie), layers: [layer], tags: ['liar:1'] });
    await pushImage({ store, image: 'liar:1', ref: `${proxy.host}/lazy/liar:1`, env });
    await expect(
      mountImage({ store: other, image: `${proxy.host}/lazy/liar:1`, lazy: true, env }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_MANIFEST',
      data: expect.objectContaining({ digest: put.digest, expected: lie }),
    });
    expect(storeSnapshot(other)).toEqual(before);
  });
});
