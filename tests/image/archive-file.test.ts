/**
 * Archives on disk are read by seeking: one pass over the member headers, then only the blobs
 * the imported images need, each read once from its place in the archive. The same archive read
 * as a stream (stdin), or gzip-compressed, imports to the same image; bytes the import skipped
 * are never read (measured with onProgress), and hostile or broken archives fail with a code.
 */
import { describe, expect } from 'vitest';
import { fc } from '@fast-check/vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Digest } from '../../src/digest/digest.js';
import { importImage } from '../../src/image/import.js';
import { flattenImage, listFlat } from '../../src/image/listing.js';
import { blobOf, packArchive, tarBytes, writeLayout, type ArchiveMember } from './layouts.js';
import { snapshotStore } from './store-snapshot.js';
import { it } from '../helpers/fixtures.js';

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 };
const file = (path: string, data: Buffer | string) => ({
  header: { path, type: 'file' as const, ...base },
  data: Buffer.from(data),
});

/** The members of a layout folder, for packing into an archive. */
function layoutMembers(dir: string): ArchiveMember[] {
  const names = [
    'oci-layout',
    'index.json',
    ...fs.readdirSync(join(dir, 'blobs', 'sha256')).map((n) => `blobs/sha256/${n}`),
  ].sort();
  return names.map((name) => ({ name, bytes: fs.readFileSync(join(dir, name)) }));
}

describe('importing an archive file', () => {
  async function archiveOf(
    tmp: string,
    layers: Buffer[],
    extra: ArchiveMember[] = [],
  ): Promise<{ path: string; members: ArchiveMember[] }> {
    const layout = join(tmp, `layout-${Math.random().toString(36).slice(2)}`);
    writeLayout(layout, [{ tag: 'a:1', layers }]);
    const members = [...extra, ...layoutMembers(layout)];
    const path = join(tmp, `image-${Math.random().toString(36).slice(2)}.tar`);
    fs.writeFileSync(path, await packArchive(members));
    return { path, members };
  }

  it('reads a big layer once and never reads the data of members no image uses', async ({ tmp, diskStore: store }) => {
    const big = Buffer.alloc(3_000_000, 3);
    const layer = await tarBytes([file('big', big)]);
    const unused = Buffer.alloc(2_000_000, 9);
    const { path } = await archiveOf(
      tmp,
      [layer],
      [{ name: `blobs/sha256/${blobOf(unused).digest.slice(7)}`, bytes: unused }],
    );
    let read = 0;
    const { images } = await importImage({ store, source: path, onProgress: (n) => (read = n) });
    const size = fs.statSync(path).size;
    // Every byte of the layer once, plus header reads (64 KiB each); none of the unused member.
    expect(read).toBeGreaterThanOrEqual(layer.length);
    expect(read).toBeLessThan(size - unused.length + 4 * 64 * 1024);
    expect(store.blobs.has(blobOf(unused).digest as Digest)).toBe(false);
    expect(images[0]!.image.diffIds[0]).toBe(blobOf(layer).digest);
  });

  it('the file, the same bytes as a stream, and a gzip-compressed copy (file or stream) import to the same image', async ({
    tmp,
    diskStore: store,
  }) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b/c', 'd/e/f'), fc.uint8Array({ maxLength: 3000 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (files) => {
          const layers = await Promise.all(files.map(([p, d]) => tarBytes([file(p, Buffer.from(d))])));
          const { path } = await archiveOf(tmp, layers);
          const gz = `${path}.gz`;
          fs.writeFileSync(gz, gzipSync(fs.readFileSync(path)));
          const fromFile = await importImage({ store, source: path });
          const fromStream = await importImage({ store, source: Readable.from([fs.readFileSync(path)]) });
          const fromGzip = await importImage({ store, source: gz });
          const fromGzipStream = await importImage({ store, source: Readable.from([fs.readFileSync(gz)]) });
          const digest = fromFile.images[0]!.image.descriptor.digest;
          expect(fromStream.images[0]!.image.descriptor.digest).toBe(digest);
          expect(fromGzipStream.images[0]!.image.descriptor.digest).toBe(digest);
          expect(fromGzip.images[0]!.image.descriptor.digest).toBe(digest);
          expect(fromGzip.format).toBe('oci-archive');
          const listing = listFlat(await flattenImage({ store, image: fromFile.images[0]!.image }), {
            recursive: true,
          });
          const last = new Map(files.map(([p, d]) => [p, d.length]));
          for (const [p, n] of last) expect(listing.find((e) => e.path === `/${p}`)?.size).toBe(n);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('follows symlinked and hardlinked members (docker save shares layer.tar files that way)', async ({
    tmp,
    diskStore: store,
  }) => {
    const layer = await tarBytes([file('x', 'linked')]);
    const { members } = await archiveOf(tmp, [layer]);
    const hex = blobOf(layer).digest.slice(7);
    const moved = members.map((m) => (m.name === `blobs/sha256/${hex}` ? { ...m, name: 'real/layer.tar' } : m));
    const path = join(tmp, 'linked.tar');
    fs.writeFileSync(
      path,
      await packArchive([...moved, { name: `blobs/sha256/${hex}`, type: 'symlink', linkname: '../../real/layer.tar' }]),
    );
    const { images } = await importImage({ store, source: path });
    expect(images[0]!.image.diffIds[0]).toBe(`sha256:${hex}`);
  });

  it.for([
    [
      'a member whose name climbs out of the archive',
      'ERR_UNSAFE_PATH',
      (m: ArchiveMember[]) => [{ name: '../escape', bytes: Buffer.from('x') }, ...m],
    ],
    ['an archive cut inside its last member', 'ERR_ARCHIVE_FORMAT', (m: ArchiveMember[]) => m],
  ] as const)(
    '%s fails with %s naming the archive, and the store is unchanged',
    async ([_name, code, edit], { tmp, diskStore: store }) => {
      const layer = await tarBytes([file('x', Buffer.alloc(20_000, 1))]);
      const { members } = await archiveOf(tmp, [layer]);
      let bytes = await packArchive(edit(members));
      if (code === 'ERR_ARCHIVE_FORMAT') {
        // the layer's member is last (sorted names put blobs/ before index.json: move it to the end)
        const hex = blobOf(layer).digest.slice(7);
        const reordered = [...members.filter((m) => !m.name.endsWith(hex)), members.find((m) => m.name.endsWith(hex))!];
        const whole = await packArchive(reordered);
        // tar-stream ends an archive with two zero blocks (no record padding): 12,000 bytes from the
        // end is inside the layer's 21 KiB of data
        bytes = whole.subarray(0, whole.length - 12_000);
      }
      const path = join(tmp, 'bad.tar');
      fs.writeFileSync(path, bytes);
      const before = snapshotStore(store);
      const err = await importImage({ store, source: path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code });
      expect((err as Error).message).toContain(path);
      expect(snapshotStore(store)).toEqual(before);
    },
  );

  it('a bzip2-compressed archive is refused with ERR_UNSUPPORTED_COMPRESSION naming it', async ({
    tmp,
    diskStore: store,
  }) => {
    const path = join(tmp, 'image.tar.bz2');
    fs.writeFileSync(path, Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(100)]));
    await expect(importImage({ store, source: path })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_COMPRESSION',
      message: expect.stringContaining(path) as unknown,
    });
  });

  it('gzip garbage is ERR_ARCHIVE_FORMAT naming the archive', async ({ tmp, diskStore: store }) => {
    const path = join(tmp, 'image.tar.gz');
    fs.writeFileSync(
      path,
      Buffer.concat([
        Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
        Buffer.from('garbage, not deflate'.repeat(10)),
      ]),
    );
    const before = snapshotStore(store);
    await expect(importImage({ store, source: path })).rejects.toMatchObject({
      code: 'ERR_ARCHIVE_FORMAT',
      message: expect.stringContaining(path) as unknown,
    });
    expect(snapshotStore(store)).toEqual(before);
  });
});
