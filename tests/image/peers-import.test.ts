/**
 * Images made by real peers import and flatten to the tree `umoci unpack` makes of them: an
 * umoci-built layout (per-file whiteouts, `./` root entry, no manifest mediaType), skopeo's
 * docker-archive, oci-archive, an uncompressed-layer layout and a zstd layout (refused on a
 * runtime without zstd, leaving the store as it was), and a buildah-built image (overlay
 * driver: `.wh..wh..opq`). Trees are compared as normalised listings, never mtimes.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { mkdtempSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  flattenImage,
  importImage,
  isLayerkitError,
  listFlat,
  openStore,
  unpackRootfs,
  type ArchiveFormat,
  type Store,
} from '../../src/index.js';
import {
  hardlinkGroups,
  listTree,
  LONG_NAME,
  makeBuildahImage,
  makeUmociImage,
  missingPeer,
  skopeoCopy,
  treeFromListing,
  umociUnpack,
  UNICODE_NAME,
  type PeerImage,
  type TreeEntry,
} from '../helpers/peers.js';
import { snapshotStore } from './store-snapshot.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const skip = missingPeer('umoci', 'skopeo');
const HAS_ZSTD = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

async function freshStore(dir: string, name: string): Promise<Store> {
  return openStore({ root: join(dir, name), durable: false });
}

describe.skipIf(skip !== undefined)(`images made by umoci and skopeo${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tmp: string;
  let image: PeerImage;
  let reference: TreeEntry[];
  let referenceLinks: string[][];

  test.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
    image = makeUmociImage(tmp);
    const rootfs = umociUnpack(image.ref, join(tmp, 'reference-bundle'));
    reference = listTree(rootfs);
    referenceLinks = hardlinkGroups(rootfs);
    skopeoCopy(`oci:${image.ref}`, `docker-archive:${tmp}/docker.tar:localhost/peer:img`);
    skopeoCopy(`oci:${image.ref}`, `oci-archive:${tmp}/oci.tar:img`);
    skopeoCopy(`oci:${image.ref}`, `dir:${tmp}/decompressed`, ['--dest-decompress']);
    skopeoCopy(`dir:${tmp}/decompressed`, `oci:${tmp}/uncompressed:img`, ['--dest-oci-accept-uncompressed-layers']);
  });

  it('made the features the comparison must cover', () => {
    const byPath = new Map(reference.map((e) => [e.path, e]));
    expect(byPath.get('/bin/suid')?.mode).toBe(0o4755);
    expect(byPath.get('/home/user/file')).toMatchObject({ uid: 1000, gid: 1000, mode: 0o640 });
    expect(byPath.get('/bin/sh')).toMatchObject({ type: 'symlink', linkTarget: 'tool' });
    expect(byPath.get(`/opt/deep/er/${LONG_NAME}`)?.type).toBe('file');
    expect(byPath.get(`/etc/${UNICODE_NAME}`)?.type).toBe('file');
    expect(byPath.has('/etc/delete-me')).toBe(false);
    expect(byPath.has('/data/old/a')).toBe(false);
    expect(byPath.get('/data/old/new')?.type).toBe('file');
    expect(byPath.has('/usr/share/doc/gone')).toBe(false);
    expect(byPath.get('/data')?.mode).toBe(0o700);
    expect(referenceLinks).toEqual([['/bin/tool', '/bin/tool-hardlink']]);
  });

  const sources: Array<{ name: string; source: () => string; format: ArchiveFormat; names: string[] }> = [
    { name: 'umoci layout', source: () => image.layout, format: 'oci-layout', names: ['img:latest'] },
    {
      name: 'skopeo docker-archive',
      source: () => `${tmp}/docker.tar`,
      format: 'docker-archive',
      names: ['localhost/peer:img'],
    },
    { name: 'skopeo oci-archive', source: () => `${tmp}/oci.tar`, format: 'oci-archive', names: ['img:latest'] },
    {
      name: 'skopeo layout with uncompressed layers',
      source: () => `${tmp}/uncompressed`,
      format: 'oci-layout',
      names: ['img:latest'],
    },
  ];

  describe.each(sources)('$name', ({ source, format, names }) => {
    it('imports and flattens to the tree umoci unpacks', async () => {
      const store = await freshStore(tmp, `store-${Math.random().toString(36).slice(2)}`);
      const result = await importImage({ store, source: source() });
      expect(result.format).toBe(format);
      expect(result.images).toHaveLength(1);
      expect(result.images[0]!.names).toEqual(names);
      const flat = await flattenImage({ store, image: result.images[0]!.image });
      expect(treeFromListing(listFlat(flat, { recursive: true }))).toEqual(reference);
      const target = join(tmp, `unpacked-${Math.random().toString(36).slice(2)}`);
      const report = unpackRootfs({ flat, dir: target });
      expect(report.warnings).toEqual([]);
      expect(listTree(target)).toEqual(reference);
      expect(hardlinkGroups(target)).toEqual(referenceLinks);
    });
  });

  it(
    HAS_ZSTD
      ? 'imports a zstd layout (this runtime has zstd)'
      : 'refuses a zstd layout with ERR_UNSUPPORTED_COMPRESSION and leaves the store as it was',
    async () => {
      skopeoCopy(`oci:${image.ref}`, `oci:${tmp}/zstd:img`, ['--dest-compress-format', 'zstd']);
      const store = await freshStore(tmp, 'store-zstd');
      await importImage({ store, source: HELLO });
      const before = snapshotStore(store);
      const attempt = importImage({ store, source: `${tmp}/zstd` });
      if (HAS_ZSTD) {
        const flat = await flattenImage({ store, image: (await attempt).images[0]!.image });
        expect(treeFromListing(listFlat(flat, { recursive: true }))).toEqual(reference);
        return;
      }
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLayerkitError(err) && err.code).toBe('ERR_UNSUPPORTED_COMPRESSION');
      expect((err as Error).message).toMatch(/sha256:[0-9a-f]{64}/);
      expect(snapshotStore(store)).toEqual(before);
    },
  );
});

const buildahSkip =
  missingPeer('buildah', 'umoci', 'skopeo') ??
  (process.getuid?.() !== 0 ? 'buildah with the overlay driver needs root' : undefined);

describe.skipIf(buildahSkip !== undefined)(
  `an image built by buildah${buildahSkip ? ` (skipped: ${buildahSkip})` : ''}`,
  () => {
    let tmp: string;
    test.beforeAll(({ fileTmp }) => {
      tmp = mkdtempSync(join(fileTmp, 'buildah-'));
    });

    it('imports (opaque markers, re-gzipped base) and flattens to the tree umoci unpacks', async () => {
      const image = makeBuildahImage(tmp);
      const rootfs = umociUnpack(image.ref, join(tmp, 'reference-bundle'));
      const reference = listTree(rootfs);
      const byPath = new Map(reference.map((e) => [e.path, e]));
      expect(byPath.has('/data/old/a')).toBe(false);
      expect(byPath.has('/data/drop')).toBe(false);
      expect(byPath.get('/data/old')?.mode).toBe(0o700);
      expect(byPath.get('/data/old/new')?.type).toBe('file');
      expect(byPath.get('/etc/copied')?.type).toBe('file');

      const store = await freshStore(tmp, 'store');
      const result = await importImage({ store, source: image.layout });
      const flat = await flattenImage({ store, image: result.images[0]!.image });
      expect(flat.layers.some((l) => [...l.opaqueDirs()].includes('data/old'))).toBe(true);
      expect(treeFromListing(listFlat(flat, { recursive: true }))).toEqual(reference);
      const target = join(tmp, 'unpacked');
      unpackRootfs({ flat, dir: target });
      expect(listTree(target)).toEqual(reference);
    });
  },
);
