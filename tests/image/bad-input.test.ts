/**
 * Broken archives and layouts, made by mutating a good one (fixtures/images/hello.oci.tar):
 * each import fails with the expected code and a message naming the file, member or digest,
 * and the store is byte-for-byte what it was before (blobs, index.json, layer state, temp files,
 * leases). Unknown media types in index.json are skipped, as the image-spec asks.
 */
import { describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { importImage, isLayerkitError, listImages, openStore, type Store } from '../../src/index.js';
import {
  blobOf,
  packArchive,
  tarBytes,
  unpackArchive,
  writeLayout,
  type ArchiveMember,
  type LayoutBlob,
} from './layouts.js';
import { snapshotStore } from './store-snapshot.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

type Json = Record<string, unknown> & {
  layers?: Array<Record<string, unknown>>;
  manifests?: Array<Record<string, unknown>>;
  config?: Record<string, unknown>;
};

/** An image archive taken apart: every JSON parsed, every blob by digest; `members()` puts it back with fresh digests. */
class Parts {
  index: Json;
  manifest: Json;
  config: Json;
  layers: Buffer[];
  extra: ArchiveMember[] = [];
  layout = '{"imageLayoutVersion":"1.0.0"}';

  constructor(members: ArchiveMember[]) {
    const byName = new Map(members.map((m) => [m.name, m.bytes!]));
    const blob = (d: string) => byName.get(`blobs/sha256/${d.slice(7)}`)!;
    this.index = JSON.parse(byName.get('index.json')!.toString()) as Json;
    const m = this.index.manifests![0]!;
    this.manifest = JSON.parse(blob(m['digest'] as string).toString()) as Json;
    this.config = JSON.parse(blob(this.manifest.config!['digest'] as string).toString()) as Json;
    this.layers = this.manifest.layers!.map((l) => blob(l['digest'] as string));
  }

  /** The members, with manifest, config and index rewritten to the current layer and JSON bytes. */
  members(
    edit: {
      manifestBytes?: (b: Buffer) => Buffer;
      configBytes?: (b: Buffer) => Buffer;
      indexBytes?: (b: Buffer) => Buffer;
      drop?: (name: string) => boolean;
    } = {},
  ): ArchiveMember[] {
    const layers = this.layers.map((l) => blobOf(l));
    const config = blobOf((edit.configBytes ?? ((b) => b))(Buffer.from(JSON.stringify(this.config))));
    this.manifest.layers = this.manifest.layers!.map((l, i) => ({
      ...l,
      digest: layers[i]!.digest,
      size: layers[i]!.size,
    }));
    this.manifest.config = { ...this.manifest.config, digest: config.digest, size: config.size };
    const manifest = blobOf((edit.manifestBytes ?? ((b) => b))(Buffer.from(JSON.stringify(this.manifest))));
    this.index.manifests = [
      { ...this.index.manifests![0], digest: manifest.digest, size: manifest.size },
      ...this.index.manifests!.slice(1),
    ];
    const index = (edit.indexBytes ?? ((b) => b))(Buffer.from(JSON.stringify(this.index)));
    this.written = { manifest: manifest.digest, config: config.digest, layers: layers.map((l) => l.digest) };
    const blobs = new Map<string, LayoutBlob>([...layers, config, manifest].map((b) => [b.digest, b]));
    const out: ArchiveMember[] = [...blobs.values()].map((b) => ({
      name: `blobs/sha256/${b.digest.slice(7)}`,
      bytes: b.bytes,
    }));
    out.push(
      ...this.extra,
      { name: 'index.json', bytes: index },
      { name: 'oci-layout', bytes: Buffer.from(this.layout) },
    );
    return out.filter((m) => !edit.drop?.(m.name));
  }

  written: { manifest: string; config: string; layers: string[] } | undefined;

  /** The digest of a part as last written by `members()` (after any edits). */
  digestOf(what: 'manifest' | 'config' | number): string {
    const w = this.written ?? (this.members(), this.written!);
    return what === 'manifest' ? w.manifest : what === 'config' ? w.config : w.layers[what]!;
  }
}

interface BadCase {
  name: string;
  /** The archive bytes, or the members of a layout folder (`dir`). */
  make: (
    good: () => Promise<Parts>,
    hello: Buffer,
  ) => Promise<{ archive?: Buffer; dir?: ArchiveMember[]; parts?: Parts }>;
  code: string;
  /** Substrings the message must contain (`$SOURCE` is the path imported), given the mutated parts. */
  mentions: (parts: Parts) => string[];
}

async function withParts(p: Parts, members: (p: Parts) => ArchiveMember[]): Promise<{ archive: Buffer; parts: Parts }> {
  return { archive: await packArchive(members(p)), parts: p };
}

/** The layer of the unrelated image the store holds before each case. */
const otherLayer = () =>
  tarBytes([
    {
      header: { path: 'other', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 5 },
      data: Buffer.from('other'),
    },
  ]);

const corruptGzip = (good: Buffer) =>
  Buffer.concat([good.subarray(0, 10), Buffer.from('this is not deflate data at all, just garbage bytes'.repeat(4))]);

const CASES: BadCase[] = [
  {
    name: 'an empty file',
    make: async () => ({ archive: Buffer.alloc(0) }),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE'],
  },
  {
    name: 'random bytes, not a tar',
    make: async () => ({ archive: Buffer.from('not an archive '.repeat(100)) }),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE'],
  },
  {
    name: 'an archive truncated inside a blob member',
    make: async (_g, hello) => ({ archive: hello.subarray(0, 1024 + 512 * 3 + 100) }),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE'],
  },
  {
    name: 'an archive truncated between members (no index.json, no oci-layout)',
    make: async (good) =>
      withParts(await good(), (p) => p.members({ drop: (n) => n === 'index.json' || n === 'oci-layout' })),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'oci-layout', 'manifest.json'],
  },
  {
    name: 'index.json that is not JSON',
    make: async (good) =>
      withParts(await good(), (p) =>
        p.members({ indexBytes: () => Buffer.from('{"schemaVersion": 2, "manifests": [') }),
      ),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'index.json'],
  },
  {
    name: 'oci-layout of an unknown version',
    make: async (good) => {
      const p = await good();
      p.layout = '{"imageLayoutVersion":"2.0.0"}';
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'oci-layout', '2.0.0'],
  },
  {
    name: 'a manifest that is not JSON',
    make: async (good) => withParts(await good(), (p) => p.members({ manifestBytes: (b) => b.subarray(0, 40) })),
    code: 'ERR_INVALID_MANIFEST',
    mentions: (p) => [p.digestOf('manifest')],
  },
  {
    name: 'a config that is not JSON',
    make: async (good) => withParts(await good(), (p) => p.members({ configBytes: (b) => b.subarray(0, 40) })),
    code: 'ERR_INVALID_MANIFEST',
    mentions: (p) => [p.digestOf('config')],
  },
  {
    name: 'a missing layer blob',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf(1);
      return { archive: await packArchive(p.members({ drop: (n) => n.endsWith(d.slice(7)) })), parts: p };
    },
    code: 'ERR_NOT_FOUND',
    mentions: (p) => [p.digestOf(1)],
  },
  {
    name: 'a missing config blob',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf('config');
      return { archive: await packArchive(p.members({ drop: (n) => n.endsWith(d.slice(7)) })), parts: p };
    },
    code: 'ERR_NOT_FOUND',
    mentions: (p) => [p.digestOf('config')],
  },
  {
    name: 'a missing manifest blob',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf('manifest');
      return { archive: await packArchive(p.members({ drop: (n) => n.endsWith(d.slice(7)) })), parts: p };
    },
    code: 'ERR_NOT_FOUND',
    mentions: (p) => [p.digestOf('manifest')],
  },
  {
    name: 'a layer member whose bytes do not match its name',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf(0);
      const members = p.members().map((m) =>
        m.name.endsWith(d.slice(7))
          ? {
              ...m,
              bytes: Buffer.concat([m.bytes!.subarray(0, 20), Buffer.from([m.bytes![20]! ^ 1]), m.bytes!.subarray(21)]),
            }
          : m,
      );
      return { archive: await packArchive(members), parts: p };
    },
    code: 'EINTEGRITY',
    mentions: (p) => [p.digestOf(0), `blobs/sha256/${p.digestOf(0).slice(7)}`],
  },
  {
    name: 'a manifest descriptor with the wrong size',
    make: async (good) =>
      withParts(await good(), (p) =>
        p.members({
          indexBytes: (b) =>
            Buffer.from(b.toString().replace(/"size":(\d+)/, (_m, n: string) => `"size":${Number(n) + 1}`)),
        }),
      ),
    code: 'EBADSIZE',
    mentions: (p) => [p.digestOf('manifest')],
  },
  {
    name: 'gzip garbage as the second layer (the first is valid and must not stay indexed)',
    make: async (good) => {
      const p = await good();
      p.layers[1] = corruptGzip(p.layers[1]!);
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_LAYER_FORMAT',
    mentions: (p) => [p.digestOf(1)],
  },
  {
    name: 'a truncated gzip layer',
    make: async (good) => {
      const p = await good();
      p.layers[0] = p.layers[0]!.subarray(0, Math.floor(p.layers[0]!.length / 2));
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_LAYER_FORMAT',
    mentions: (p) => [p.digestOf(0)],
  },
  {
    name: 'a truncated uncompressed layer',
    make: async (good) => {
      const p = await good();
      const tar = await tarBytes([
        {
          header: { path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 4000 },
          data: Buffer.alloc(4000, 7),
        },
      ]);
      p.layers[1] = tar.subarray(0, 2048);
      p.manifest.layers![1]!['mediaType'] = 'application/vnd.oci.image.layer.v1.tar';
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_LAYER_FORMAT',
    mentions: (p) => [p.digestOf(1), 'big'],
  },
  {
    name: 'a bzip2 layer',
    make: async (good) => {
      const p = await good();
      p.layers[1] = Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(50, 1)]);
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_UNSUPPORTED_COMPRESSION',
    mentions: (p) => [p.digestOf(1), 'bzip2'],
  },
  {
    name: 'config diff_ids that do not match the layers',
    make: async (good) => {
      const p = await good();
      (p.config['rootfs'] as { diff_ids: string[] }).diff_ids[1] = `sha256:${'1'.repeat(64)}`;
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_INVALID_MANIFEST',
    mentions: (p) => [p.digestOf(1), `sha256:${'1'.repeat(64)}`],
  },
  {
    name: 'a layer claiming the diffID of a layer the store already holds (made from another blob)',
    make: async (good) => {
      const p = await good();
      (p.config['rootfs'] as { diff_ids: string[] }).diff_ids[1] = blobOf(await otherLayer()).digest;
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_INVALID_MANIFEST',
    mentions: (p) => [p.digestOf(1), 'diffID mismatch'],
  },
  {
    name: 'a layer with a media type that is not a layer',
    make: async (good) => {
      const p = await good();
      p.manifest.layers![0]!['mediaType'] = 'application/vnd.example.not-a-layer';
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    mentions: (p) => [p.digestOf(0), 'application/vnd.example.not-a-layer'],
  },
  {
    name: 'an artifact config media type',
    make: async (good) => {
      const p = await good();
      p.manifest.config!['mediaType'] = 'application/vnd.example.artifact.config+json';
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    mentions: (p) => [p.digestOf('config'), 'application/vnd.example.artifact.config+json'],
  },
  {
    name: 'a manifest the index calls an index (media type confusion, CVE-2021-41190)',
    make: async (good) =>
      withParts(await good(), (p) =>
        p.members({
          indexBytes: (b) => Buffer.from(b.toString().replace('image.manifest.v1+json', 'image.index.v1+json')),
        }),
      ),
    code: 'ERR_INVALID_MANIFEST',
    mentions: (p) => [p.digestOf('manifest')],
  },
  {
    name: 'an index whose only entry has an unknown media type',
    make: async (good) =>
      withParts(await good(), (p) =>
        p.members({
          indexBytes: (b) =>
            Buffer.from(
              b
                .toString()
                .replace('application/vnd.oci.image.manifest.v1+json', 'application/vnd.example.unknown+json'),
            ),
        }),
      ),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'no images'],
  },
  {
    name: 'a member whose name climbs out of the archive',
    make: async (good) => {
      const p = await good();
      p.extra.push({ name: '../../evil', bytes: Buffer.from('x') });
      return { archive: await packArchive(p.members()), parts: p };
    },
    code: 'ERR_UNSAFE_PATH',
    mentions: () => ['$SOURCE', '../../evil'],
  },
  {
    name: 'a docker-archive whose manifest.json is not JSON',
    make: async () => ({ archive: await packArchive([{ name: 'manifest.json', bytes: Buffer.from('[{"Config": ') }]) }),
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'manifest.json'],
  },
  {
    name: 'a docker-archive naming a layer it does not hold',
    make: async () => {
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [`sha256:${'2'.repeat(64)}`] },
        }),
      );
      return {
        archive: await packArchive([
          { name: 'cfg.json', bytes: config },
          {
            name: 'manifest.json',
            bytes: Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: ['x:1'], Layers: ['abc/layer.tar'] }])),
          },
        ]),
      };
    },
    code: 'ERR_NOT_FOUND',
    mentions: () => ['$SOURCE', 'abc/layer.tar'],
  },
  {
    name: 'a docker-archive whose config lists fewer diff_ids than layers',
    make: async () => {
      const layer = await tarBytes([
        { header: { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 1 }, data: Buffer.from('f') },
      ]);
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      );
      return {
        archive: await packArchive([
          { name: 'abc/layer.tar', bytes: layer },
          { name: 'cfg.json', bytes: config },
          {
            name: 'manifest.json',
            bytes: Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: ['x:1'], Layers: ['abc/layer.tar'] }])),
          },
        ]),
      };
    },
    code: 'ERR_ARCHIVE_FORMAT',
    mentions: () => ['$SOURCE', 'cfg.json'],
  },
  {
    name: 'a layout folder with a missing layer blob',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf(0);
      return { dir: p.members({ drop: (n) => n.endsWith(d.slice(7)) }), parts: p };
    },
    code: 'ERR_NOT_FOUND',
    mentions: (p) => [p.digestOf(0)],
  },
  {
    name: 'a layout folder whose blob does not match its name',
    make: async (good) => {
      const p = await good();
      const d = p.digestOf('config');
      return {
        parts: p,
        dir: p
          .members()
          .map((m) =>
            m.name.endsWith(d.slice(7))
              ? { ...m, bytes: Buffer.from(m.bytes!.toString().replace('amd64', 'arm64')) }
              : m,
          ),
      };
    },
    code: 'EINTEGRITY',
    mentions: (p) => [p.digestOf('config')],
  },
  {
    name: 'a layout folder with gzip garbage as a layer',
    make: async (good) => {
      const p = await good();
      p.layers[0] = gzipSync(Buffer.from('not a tar, but valid gzip of text that is not a tar archive'));
      return { dir: p.members(), parts: p };
    },
    code: 'ERR_LAYER_FORMAT',
    mentions: (p) => [p.digestOf(0)],
  },
];

describe('broken archives and layouts', () => {
  let tmp: string;
  let store: Store;
  let hello: Buffer;
  let helloMembers: ArchiveMember[];

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    hello = fs.readFileSync(HELLO);
    helloMembers = await unpackArchive(hello);
    // A store that already holds an unrelated image, so every state hello's import would add is new.
    store = await openStore({ root: join(tmp, 'store'), durable: false });
    writeLayout(join(tmp, 'other'), [{ tag: 'other:1', layers: [await otherLayer()], gzip: true }]);
    await importImage({ store, source: join(tmp, 'other') });
  });

  const good = async () => new Parts(helloMembers.filter((m) => m.type === 'file'));

  it('the unmutated archive rebuilt by the test imports (the mutations start from a good image)', async ({
    tmp: own,
    diskStore: s,
  }) => {
    const source = join(own, 'rebuilt.tar');
    fs.writeFileSync(source, await packArchive((await good()).members()));
    const result = await importImage({ store: s, source });
    expect(result.images[0]!.names).toEqual(['hello:latest']);
  });

  describe.each(CASES.map((c, i) => ({ ...c, i })))('$name', (c) => {
    it(`fails with ${c.code}, names what is wrong, and leaves the store as it was`, async () => {
      const made = await c.make(good, hello);
      let source: string;
      if (made.dir) {
        source = join(tmp, `case-${c.i}`);
        for (const m of made.dir) {
          fs.mkdirSync(join(source, m.name, '..'), { recursive: true });
          fs.writeFileSync(join(source, m.name), m.bytes!);
        }
      } else {
        source = join(tmp, `case-${c.i}.tar`);
        fs.writeFileSync(source, made.archive!);
      }
      const before = snapshotStore(store);
      const err = await importImage({ store, source }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLayerkitError(err), String(err)).toBe(true);
      expect((err as { code: string }).code).toBe(c.code);
      for (const m of c.mentions(made.parts ?? (await good())))
        expect((err as Error).message).toContain(m === '$SOURCE' ? source : m);
      expect(snapshotStore(store)).toEqual(before);
    });
  });

  it('skips index entries with unknown media types and imports the rest', async ({ tmp: own, diskStore: s }) => {
    const p = await good();
    const unknown = blobOf('{"whatever":true}');
    p.extra.push({ name: `blobs/sha256/${unknown.digest.slice(7)}`, bytes: unknown.bytes });
    p.members();
    p.index.manifests!.push({
      mediaType: 'application/vnd.example.unknown+json',
      digest: unknown.digest,
      size: unknown.size,
      annotations: { 'org.opencontainers.image.ref.name': 'unknown:1' },
    });
    const source = join(own, 'with-unknown.tar');
    fs.writeFileSync(source, await packArchive(p.members()));
    const result = await importImage({ store: s, source });
    expect(result.images.map((i) => i.names)).toEqual([['hello:latest']]);
    expect((await listImages({ store: s })).map((i) => i.names)).toEqual([['hello:latest']]);
    // The unknown blob is not kept: nothing references it.
    expect(s.blobs.list()).not.toContain(unknown.digest);
  });
});
