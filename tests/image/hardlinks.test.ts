/**
 * Hardlinks and replaced directories across layers, where a flattened view is easy to get
 * wrong: a link keeps the inode it was made on when a later layer replaces or deletes its
 * target; a link may sort before the file it links; a non-directory between two directories
 * cuts the lower subtree. Each case is checked through `listFlat`, `unpackRootfs` (tree and
 * hardlink groups), the flattened tar export extracted by GNU tar, and `umoci unpack` where
 * umoci accepts the image.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { flattenImage, importImage, listFlat, openStore, unpackRootfs } from '../../src/index.js';
import { flatTarStream } from '../../src/low-level.js';
import type { TarEntryInput } from '../../src/tar/types.js';
import { hardlinkGroups, listTree, missingPeer, run, umociUnpack, type TreeEntry } from '../helpers/peers.js';
import { hasTool } from '../helpers/tools.js';
import { tarBytes, writeLayout } from './layouts.js';

type Entry = { header: TarEntryInput; data?: Buffer };
const f = (path: string, text: string, mode = 0o644): Entry => ({
  header: { path, type: 'file', mode, uid: 0, gid: 0, mtime: 0, size: text.length },
  data: Buffer.from(text),
});
const d = (path: string, mode = 0o755): Entry => ({
  header: { path, type: 'directory', mode, uid: 0, gid: 0, mtime: 0 },
});
const h = (path: string, to: string, mode = 0o644): Entry => ({
  header: { path, type: 'hardlink', mode, uid: 0, gid: 0, mtime: 0, linkTarget: to },
});
const wh = (path: string): Entry => ({
  header: { path, type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 },
  data: Buffer.alloc(0),
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const file = (path: string, text: string, mode = 0o644): TreeEntry => ({
  path,
  type: 'file',
  mode,
  uid: 0,
  gid: 0,
  size: text.length,
  sha256: sha(text),
});
const dir = (path: string, mode = 0o755): TreeEntry => ({ path, type: 'directory', mode, uid: 0, gid: 0, size: 0 });

interface Case {
  name: string;
  layers: Entry[][];
  tree: TreeEntry[];
  links: string[][];
  /** False when umoci refuses the image (it cannot make a parent over a file). */
  umoci?: boolean;
}

const CASES: Case[] = [
  {
    name: 'a link keeps the inode (bytes and mode) a later layer replaced',
    layers: [[f('t', 'AAAA', 0o600), h('u', 't', 0o600)], [f('t', 'BBBBBB')]],
    tree: [file('/t', 'BBBBBB'), file('/u', 'AAAA', 0o600)],
    links: [],
  },
  {
    name: 'a link to a file of a lower layer shares its inode',
    layers: [[f('z', 'ZZ', 0o640)], [h('a', 'z', 0o640)]],
    tree: [file('/a', 'ZZ', 0o640), file('/z', 'ZZ', 0o640)],
    links: [['/a', '/z']],
  },
  {
    name: 'a link that sorts before the file it links',
    layers: [[d('b'), f('b/file', 'data', 0o755), h('a', 'b/file', 0o755)]],
    tree: [file('/a', 'data', 0o755), dir('/b'), file('/b/file', 'data', 0o755)],
    links: [['/a', '/b/file']],
  },
  {
    name: 'two links to a file deleted above still share one inode',
    layers: [[f('t', 'shared'), h('x', 't'), h('y', 't')], [wh('.wh.t')]],
    tree: [file('/x', 'shared'), file('/y', 'shared')],
    links: [['/x', '/y']],
  },
  {
    name: 'a file between two directories cuts the lower subtree',
    layers: [[d('c', 0o700), f('c/x', 'x')], [f('c', 'file')], [d('c'), f('c/y', 'y')]],
    tree: [dir('/c'), file('/c/y', 'y')],
    links: [],
  },
  {
    name: 'a file between a directory and an implied one cuts the lower subtree',
    layers: [[d('c', 0o700), f('c/x', 'x')], [f('c', 'file')], [f('c/y', 'y')]],
    tree: [dir('/c'), file('/c/y', 'y')],
    links: [],
    umoci: false,
  },
];

describe('hardlinks and replaced directories across layers', () => {
  let tmp: string;
  test.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
  });

  describe.each(CASES.map((c, i) => ({ ...c, i })))('$name', (c) => {
    it('lists, unpacks and exports as expected', async () => {
      const root = join(tmp, `case-${c.i}`);
      writeLayout(join(root, 'layout'), [
        { tag: 'x', layers: await Promise.all(c.layers.map((l) => tarBytes(l))), gzip: true },
      ]);
      const store = await openStore({ root: join(root, 'store'), durable: false });
      const { images } = await importImage({ store, source: join(root, 'layout') });
      const flat = await flattenImage({ store, image: images[0]!.image });
      const listed = listFlat(flat, { recursive: true }).map((e) => {
        const { mtime: _m, linkTarget: _l, ...rest } = e;
        return { ...rest, type: e.type === 'hardlink' ? 'file' : e.type };
      });
      expect(listed).toEqual(c.tree);

      unpackRootfs({ flat, dir: join(root, 'rootfs') });
      expect(listTree(join(root, 'rootfs'))).toEqual(c.tree);
      expect(hardlinkGroups(join(root, 'rootfs'))).toEqual(c.links);

      if (hasTool('tar')) {
        await pipeline(flatTarStream({ flat }), fs.createWriteStream(join(root, 'flat.tar')));
        fs.mkdirSync(join(root, 'extracted'));
        run('tar', ['-xpf', join(root, 'flat.tar'), '--numeric-owner', '-C', join(root, 'extracted')]);
        expect(listTree(join(root, 'extracted'))).toEqual(c.tree);
        expect(hardlinkGroups(join(root, 'extracted'))).toEqual(c.links);
      }
      if (c.umoci !== false && missingPeer('umoci') === undefined) {
        const rootfs = umociUnpack(`${join(root, 'layout')}:x`, join(root, 'umoci-bundle'));
        expect(listTree(rootfs)).toEqual(c.tree);
        expect(hardlinkGroups(rootfs)).toEqual(c.links);
      }
    });
  });
});
