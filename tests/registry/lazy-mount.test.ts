/**
 * Lazy mounts through a real registry (distribution 2.8) behind a counting proxy: a 64 MiB
 * eStargz image mounted with `lazy: true` shows the same tree as the same image pulled and mounted
 * locally (layer order, whiteouts, links), reading one small file moves a few KiB in Range
 * requests, a large file read whole is byte-exact; an uncompressed layer is read by ranges too
 * (its headers, then the file asked for); a gzip layer is pulled whole into the store; a
 * tampered chunk is EINTEGRITY naming the blob.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addLayer,
  type LazyImageFS,
  mountImage,
  openStore,
  pullImage,
  pushImage,
  type Store,
  writeImage,
} from '../../src/index.js';
import type { Digest } from '../../src/digest/digest.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { type LayerFiles, layerEntriesOf, viewTree } from '../helpers/lazy-trees.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';

const skip = registryTestbedMissing();
const _meta = { uid: 0, gid: 0, mtime: 0 };
const env = { HOME: '/nonexistent-home' };

async function image(
  store: Store,
  tag: string,
  layers: Array<{ files: LayerFiles; compression: 'estargz' | 'gzip' | 'none' }>,
) {
  const added = [];
  for (const l of layers)
    added.push(await addLayer({ store, entries: layerEntriesOf(l.files), compression: l.compression }));
  return writeImage({
    store,
    config: {
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: added.map((a) => a.diffId) },
      history: added.map(() => ({ created_by: 'test' })),
    },
    layers: added.map((a) => a.descriptor),
    tags: [tag],
  });
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(skip !== undefined)(`lazy mounts over HTTP Range${skip ? ` (${skip})` : ''}`, () => {
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

  it('reads one small file of a 64 MiB image with a few KiB, and shows the same tree as a pulled mount', async () => {
    const big = (n: number) => randomBytes(n);
    const lower: LayerFiles = {};
    for (let i = 0; i < 6; i++) lower[`data/blob${i}`] = big(5 << 20);
    lower['data/gone'] = Buffer.from('deleted above\n');
    lower['etc/hostname'] = Buffer.from('lower\n');
    const upper: typeof lower = {};
    for (let i = 0; i < 4; i++) upper[`srv/part${i}`] = big(8 << 20);
    upper['data/gone'] = 'whiteout';
    upper['etc/hostname'] = Buffer.from('upper wins\n');
    upper['etc/motd'] = Buffer.from('hello from a lazy mount\n');
    upper['etc/motd.link'] = { link: 'motd' };
    upper['etc/motd.hard'] = { hardlink: 'etc/motd' };
    await image(store, 'lazy:big', [
      { files: lower, compression: 'estargz' },
      { files: upper, compression: 'estargz' },
    ]);
    const ref = `${proxy.host}/lazy/big:1`;
    await pushImage({ store, image: 'lazy:big', ref, env, insecure: true });

    proxy.log.length = 0;
    const other = await openStore({ memory: true });
    const fs = (await mountImage({ store: other, image: ref, lazy: true, insecure: true, env })) as LazyImageFS;
    try {
      expect(fs.lazyLayers).toBe(2);
      expect(await fs.readFile('/etc/motd', 'utf8')).toBe('hello from a lazy mount\n');
      const served = proxy.log.reduce((n, e) => n + e.bytesOut, 0);
      const blobGets = proxy.log.filter((e) => e.method === 'GET' && /\/blobs\//.test(e.url));
      // Manifest, config, then per layer footer + TOC, then one chunk: a few KiB of 64 MiB.
      expect(served).toBeLessThan(16 * 1024);
      expect(fs.bytesFetched).toBeLessThanOrEqual(served);
      const layerGets = blobGets.filter((e) => e.range !== undefined);
      expect(layerGets.length).toBe(5);
      expect(blobGets.length - layerGets.length).toBe(1); // the config, whole
      // The manifest in one GET by tag (no HEAD first); each footer asked for once: the answer to
      // the request made while the config was fetched is the one the layer's reader gets.
      const manifests = proxy.log.filter((e) => /\/manifests\//.test(e.url));
      expect(manifests.map((e) => e.method)).toEqual(['GET']);
      const footers = layerGets.filter((e) => /^bytes=\d+-\d+$/.test(e.range!) && footerRange(e.range!) === 51);
      expect(footers.length).toBe(2);
      // Nothing of the layers reached the store.
      expect(other.blobs.list().length).toBe(2);

      // The same tree as the image pulled and mounted from the store: order, whiteouts, links.
      const pulled = await openStore({ memory: true });
      await pullImage({ store: pulled, ref, env, insecure: true });
      const local = await mountImage({ store: pulled, image: ref, readOnly: true });
      // (The lazy view hides the TOC and the landmark, as stargz-snapshotter does; an eStargz-agnostic
      // extractor, the store's index included, shows them as files.)
      const localTree = await viewTree(local);
      const hidden = localTree.filter((l) => /^\/(stargz\.index\.json|\.no\.prefetch\.landmark) /.test(l));
      expect(hidden).toHaveLength(2);
      expect(await viewTree(fs)).toEqual(localTree.filter((l) => !hidden.includes(l)));
      expect(await fs.exists('/data/gone')).toBe(false);
      expect(await fs.readFile('/etc/hostname', 'utf8')).toBe('upper wins\n');
      expect(await fs.readFile('/etc/motd.hard', 'utf8')).toBe('hello from a lazy mount\n');
      expect(await fs.readFile('/etc/motd.link', 'utf8')).toBe('hello from a lazy mount\n');

      // A large file spanning chunks, streamed: byte-exact, and only its chunks moved.
      const before = proxy.log.reduce((n, e) => n + e.bytesOut, 0);
      const streamed: Buffer[] = [];
      for await (const c of fs.createReadStream('/srv/part2')) streamed.push(c as Buffer);
      const want = local.readFileSync('/srv/part2');
      expect(sha(Buffer.concat(streamed))).toBe(sha(want));
      const moved = proxy.log.reduce((n, e) => n + e.bytesOut, 0) - before;
      expect(moved).toBeGreaterThan(8 << 20);
      expect(moved).toBeLessThan((8 << 20) + (64 << 10));
      // A partial read through a handle, and readFileSync once fetched.
      const h = await fs.open('/data/blob3');
      const { buffer, bytesRead } = await h.read(Buffer.alloc(100), 0, 100, (4 << 20) + 50);
      expect(bytesRead).toBe(100);
      expect(Buffer.from(buffer)).toEqual(local.readFileSync('/data/blob3').subarray((4 << 20) + 50, (4 << 20) + 150));
      await h.close();
      expect(() => fs.readFileSync('/data/blob0')).toThrow(/not fetched yet/);
      await fs.prefetch(['/data/blob0']);
      expect(sha(fs.readFileSync('/data/blob0'))).toBe(sha(local.readFileSync('/data/blob0')));
      await expect(fs.writeFile('/x', 'no')).rejects.toMatchObject({ code: 'EROFS' });
    } finally {
      await fs.close();
    }
  }, 120_000);

  it('reads an uncompressed layer by ranges: its headers, then only the file asked for', async () => {
    const lower: LayerFiles = {};
    for (let i = 0; i < 6; i++) lower[`data/blob${i}`] = randomBytes(4 << 20);
    lower['etc/hostname'] = Buffer.from('lower\n');
    lower['data/gone'] = Buffer.from('deleted above\n');
    const upper: typeof lower = {
      'etc/hostname': Buffer.from('upper wins\n'),
      'data/gone': 'whiteout',
      'etc/motd': Buffer.from('an uncompressed layer, read by ranges\n'),
      'etc/motd.link': { link: 'motd' },
      'etc/motd.hard': { hardlink: 'etc/motd' },
    };
    await image(store, 'lazy:plain', [
      { files: lower, compression: 'none' },
      { files: upper, compression: 'none' },
    ]);
    const ref = `${proxy.host}/lazy/plain:1`;
    await pushImage({ store, image: 'lazy:plain', ref, env, insecure: true });
    proxy.log.length = 0;
    const other = await openStore({ memory: true });
    const fs = (await mountImage({ store: other, image: ref, lazy: true, insecure: true, env })) as LazyImageFS;
    try {
      expect(fs.lazyLayers).toBe(2);
      expect(fs.unverifiedLayers).toBe(2);
      expect(await fs.readFile('/etc/motd', 'utf8')).toBe('an uncompressed layer, read by ranges\n');
      expect(await fs.readFile('/etc/hostname', 'utf8')).toBe('upper wins\n');
      expect(await fs.exists('/data/gone')).toBe(false);
      // Headers of 24 MiB of files in a few windows of 32 KiB, and three small files.
      const served = proxy.log.reduce((n, e) => n + e.bytesOut, 0);
      expect(served).toBeLessThan(512 << 10);
      expect(other.blobs.list().length).toBe(2); // manifest and config: no layer
      const pulled = await openStore({ memory: true });
      await pullImage({ store: pulled, ref, env, insecure: true });
      const local = await mountImage({ store: pulled, image: ref, readOnly: true });
      expect(await viewTree(fs)).toEqual(await viewTree(local));
      const before = proxy.log.reduce((n, e) => n + e.bytesOut, 0);
      expect(sha(await fs.readFile('/data/blob4'))).toBe(sha(local.readFileSync('/data/blob4')));
      const moved = proxy.log.reduce((n, e) => n + e.bytesOut, 0) - before;
      expect(moved).toBeGreaterThanOrEqual(4 << 20);
      expect(moved).toBeLessThan((4 << 20) + (16 << 10));
      expect(await fs.readFile('/etc/motd.hard', 'utf8')).toBe('an uncompressed layer, read by ranges\n');
    } finally {
      await fs.close();
    }
  }, 120_000);

  it('pulls a layer that is not eStargz whole into the store, verified, and reads the others lazily', async () => {
    await image(store, 'lazy:mixed', [
      { files: { 'base/file': Buffer.from('from a gzip layer\n') }, compression: 'gzip' },
      { files: { 'top/file': Buffer.from('from an estargz layer\n') }, compression: 'estargz' },
    ]);
    const ref = `${proxy.host}/lazy/mixed:1`;
    const pushed = await pushImage({ store, image: 'lazy:mixed', ref, env, insecure: true });
    expect(pushed.blobs.length).toBe(3);
    const other = await openStore({ memory: true });
    const fs = (await mountImage({ store: other, image: ref, lazy: true, insecure: true, env })) as LazyImageFS;
    try {
      expect(fs.lazyLayers).toBe(1);
      const [gzipLayer, esgzLayer] = fs.image!.layers;
      expect(other.blobs.stat(gzipLayer!.digest)?.size).toBe(gzipLayer!.size);
      expect(other.blobs.stat(esgzLayer!.digest)).toBeUndefined();
      expect(await fs.readFile('/base/file', 'utf8')).toBe('from a gzip layer\n');
      expect(await fs.readFile('/top/file', 'utf8')).toBe('from an estargz layer\n');
    } finally {
      await fs.close();
    }
  });

  it('push --compression estargz converts every platform of an index; a lazy mount picks one', async () => {
    const amd = await image(store, 'lazy:amd64', [
      { files: { 'etc/arch': Buffer.from('amd64\n') }, compression: 'gzip' },
    ]);
    const arm0 = await image(store, 'lazy:arm64-0', [
      { files: { 'etc/arch': Buffer.from('arm64\n') }, compression: 'gzip' },
    ]);
    const arm = await writeImage({
      store,
      config: { ...arm0.config, architecture: 'arm64' },
      layers: arm0.layers,
      tags: ['lazy:arm64'],
    });
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...amd.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
          { ...arm.descriptor, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      }),
    );
    const put = await store.blobs.put(bytes);
    await store.tag('lazy:multi', {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: put.digest,
      size: put.size,
    });
    const ref = `${proxy.host}/lazy/multi:1`;
    const pushed = await pushImage({ store, image: 'lazy:multi', ref, env, insecure: true, compression: 'estargz' });
    expect(pushed.descriptor.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(pushed.descriptor.digest).not.toBe(put.digest);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const fs = (await mountImage({
        store: await openStore({ memory: true }),
        image: ref,
        lazy: true,
        platform,
        insecure: true,
        env,
      })) as LazyImageFS;
      try {
        expect(fs.lazyLayers).toBe(1);
        expect(fs.image!.config.architecture).toBe(platform.slice(6));
        expect(await fs.readFile('/etc/arch', 'utf8')).toBe(`${platform.slice(6)}\n`);
      } finally {
        await fs.close();
      }
    }
  });

  it('layerkit cat --lazy prints one file of a remote image, moving a few KiB', async () => {
    await image(store, 'lazy:cli', [
      {
        files: { 'opt/big': randomBytes(4 << 20), 'etc/greeting': Buffer.from('hi from cat --lazy\n') },
        compression: 'estargz',
      },
    ]);
    const ref = `${proxy.host}/lazy/cli:1`;
    await pushImage({ store, image: 'lazy:cli', ref, env, insecure: true });
    const dir = mkdtempSync(join(tmpdir(), 'layerkit-lazy-cli-'));
    try {
      proxy.log.length = 0;
      const cli = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
      // The proxy runs in this process: the CLI must run without blocking it.
      const r = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', cli, '--store', join(dir, 'store'), 'cat', '--lazy', '--insecure', ref, '/etc/greeting'],
          { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir }, timeout: 60_000 },
          (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })),
        ),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hi from cat --lazy\n');
      expect(proxy.log.reduce((n, e) => n + e.bytesOut, 0)).toBeLessThan(8 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two mounts share a layer; closing one leaves the other reading', async () => {
    await image(store, 'lazy:shared', [
      { files: { 'x/one': Buffer.from('one\n'), 'x/two': Buffer.from('two\n') }, compression: 'estargz' },
    ]);
    const ref = `${proxy.host}/lazy/shared:1`;
    await pushImage({ store, image: 'lazy:shared', ref, env, insecure: true });
    const first = await mountImage({
      store: await openStore({ memory: true }),
      image: ref,
      lazy: true,
      insecure: true,
      env,
    });
    const second = await mountImage({
      store: await openStore({ memory: true }),
      image: ref,
      lazy: true,
      insecure: true,
      env,
    });
    expect(await second.readFile('/x/one', 'utf8')).toBe('one\n');
    await second.close();
    expect(await first.readFile('/x/two', 'utf8')).toBe('two\n');
    await first.close();
    // Fetched chunks stay cached for the process; unfetched ones need an open mount.
    expect(first.readFileSync('/x/two', 'utf8')).toBe('two\n');
  });

  it('refuses an uncompressed layer whose diffID in the config is not its digest', async () => {
    const good = await image(store, 'lazy:plain-good', [
      { files: { 'etc/x': Buffer.from('x\n') }, compression: 'none' },
    ]);
    const wrong = `sha256:${sha('not this layer')}` as Digest;
    await writeImage({
      store,
      config: { ...good.config, rootfs: { type: 'layers', diff_ids: [wrong] } },
      layers: good.layers,
      tags: ['lazy:plain-bad'],
    });
    const ref = `${proxy.host}/lazy/plain-bad:1`;
    await pushImage({ store, image: 'lazy:plain-bad', ref, env, insecure: true });
    const other = await openStore({ memory: true });
    await expect(mountImage({ store: other, image: ref, lazy: true, insecure: true, env })).rejects.toMatchObject({
      code: 'ERR_INVALID_MANIFEST',
      data: { digest: good.layers[0]!.digest, expected: wrong },
    });
  });

  it('a tampered chunk is EINTEGRITY naming the blob; the TOC and other files still read', async () => {
    await image(store, 'lazy:tamper', [
      {
        files: { 'a/first': Buffer.from(`first ${Date.now()}\n`), 'a/second': randomBytes(3000) },
        compression: 'estargz',
      },
    ]);
    const ref = `${proxy.host}/lazy/tamper:1`;
    await pushImage({ store, image: 'lazy:tamper', ref, env, insecure: true });
    const other = await openStore({ memory: true });
    const fs = (await mountImage({ store: other, image: ref, lazy: true, insecure: true, env })) as LazyImageFS;
    try {
      const layer = fs.image!.layers[0]!;
      expect(await fs.readFile('/a/first', 'utf8')).toMatch(/^first /);
      proxy.rules.push({
        method: 'GET',
        path: new RegExp(`/blobs/${layer.digest}$`),
        times: 1,
        action: { kind: 'corrupt' },
      });
      await expect(fs.readFile('/a/second')).rejects.toMatchObject({
        code: 'EINTEGRITY',
        data: { digest: layer.digest, path: 'a/second' },
      });
      // Nothing bad was kept: the next read fetches again and verifies.
      expect((await fs.readFile('/a/second')).length).toBe(3000);
    } finally {
      await fs.close();
    }
  });
});

/** The length of a `bytes=a-b` range. */
function footerRange(range: string): number {
  const [a, b] = range.slice(6).split('-').map(Number);
  return b! - a! + 1;
}
