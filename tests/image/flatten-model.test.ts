/**
 * Property test for the image level: random small trees (files with random bytes, dirs,
 * symlinks, hardlinks, modes, owners) written as several layers with random whiteouts and
 * opaque markers (at random places in the tar, and with parents left implicit) are stored with
 * `addLayer`, and then
 *
 * - `flattenLayers` of the stored indexes (seen through `listFlat`) equals a reference model that
 *   applies the layers bottom-up the way the image-spec describes (umoci's upperPaths rule: a
 *   layer's whiteouts and opaque markers remove lower content only, never what the same layer
 *   writes; a missing parent is made as 0755 root:root unless a directory is already there);
 * - `unpackRootfs` of it, walked with lstat, is the same tree, with the same hardlink groups
 *   (a link keeps the inode it was made on, even when a later layer replaces its target).
 */
import { describe, expect } from 'vitest';
import { fc } from '@fast-check/vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { addLayer, listFlat, openStore, unpackRootfs } from '../../src/index.js';
import { flattenLayers, type LayerEntryInput } from '../../src/low-level.js';
import { compareTarPaths } from '../../src/tar/path.js';
import { hardlinkGroups, listTree, treeFromListing, type TreeEntry } from '../helpers/peers.js';
import { it } from '../helpers/fixtures.js';

const RUNS = Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? 60);

// ---- the random input: per layer, a list of intentions resolved against the model ----

const NAMES = ['a', 'b', 'c'];
const PATHS: string[] = [];
for (const x of NAMES) {
  PATHS.push(x);
  for (const y of NAMES) {
    PATHS.push(`${x}/${y}`);
    for (const z of NAMES) PATHS.push(`${x}/${y}/${z}`);
  }
}
const LINK_TARGETS = ['a', '../b', '/a/b', 'nowhere', '.', 'a/b/c'];

type OpKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque';
interface Op {
  kind: OpKind;
  path: string;
  mode: number;
  uid: number;
  content: Uint8Array;
  pick: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<OpKind>('file', 'file', 'dir', 'dir', 'symlink', 'hardlink', 'whiteout', 'whiteout', 'opaque'),
  path: fc.constantFrom(...PATHS),
  mode: fc.nat(3),
  uid: fc.constantFrom(0, 1000, 65534),
  content: fc.uint8Array({ maxLength: 40 }),
  pick: fc.nat(1000),
});
const layersArb = fc.array(
  fc.record({ ops: fc.array(opArb, { maxLength: 12 }), markerAt: fc.array(fc.nat(100), { maxLength: 12 }) }),
  { minLength: 1, maxLength: 4 },
);

// ---- the reference model ----

interface Node {
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode: number;
  uid: number;
  gid: number;
  content?: Buffer;
  linkTarget?: string;
  inode?: number;
}
type Tree = Map<string, Node>;

const FILE_MODES = [0o644, 0o755, 0o4755, 0o600];
const DIR_MODES = [0o755, 0o700, 0o2775, 0o1777];

const ancestors = (p: string): string[] => {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
};
const under = (p: string, dir: string) => p.startsWith(`${dir}/`);
const removeTree = (t: Tree, p: string) => {
  for (const k of [...t.keys()]) if (k === p || under(k, p)) t.delete(k);
};

/** One layer as written: its entries (sorted, with explicit and implicit parents), whiteouts and opaque dirs. */
interface LayerSpec {
  entries: Map<string, Node>;
  whiteouts: Set<string>;
  opaques: Set<string>;
  markerAt: number[];
}

let inodes = 0;

/** Resolves random intentions into a valid layer over the model tree `lower`. */
function buildLayer(ops: Op[], markerAt: number[], lower: Tree): LayerSpec {
  const entries = new Map<string, Node>();
  const whiteouts = new Set<string>();
  const opaques = new Set<string>();
  const nonDirAncestor = (p: string) =>
    ancestors(p).some((a) => entries.has(a) && entries.get(a)!.type !== 'directory');
  const somethingBelow = (p: string) => [...entries.keys(), ...whiteouts, ...opaques].some((k) => under(k, p));
  for (const op of ops) {
    const p = op.path;
    if (nonDirAncestor(p)) continue;
    if (op.kind === 'whiteout') {
      whiteouts.add(p);
      continue;
    }
    if (op.kind === 'opaque') {
      opaques.add(p);
      continue;
    }
    if (entries.has(p)) continue;
    if (op.kind === 'dir') {
      entries.set(p, { type: 'directory', mode: DIR_MODES[op.mode]!, uid: op.uid, gid: op.uid });
      continue;
    }
    if (somethingBelow(p)) continue;
    if (op.kind === 'file') {
      entries.set(p, {
        type: 'file',
        mode: FILE_MODES[op.mode]!,
        uid: op.uid,
        gid: op.uid,
        content: Buffer.from(op.content),
      });
    } else if (op.kind === 'symlink') {
      entries.set(p, {
        type: 'symlink',
        mode: 0o777,
        uid: op.uid,
        gid: op.uid,
        linkTarget: LINK_TARGETS[op.pick % LINK_TARGETS.length]!,
      });
    } else {
      entries.set(p, { type: 'hardlink', mode: 0, uid: 0, gid: 0, linkTarget: String(op.pick) }); // target chosen below
    }
  }
  // Opaque markers only on directories this layer writes (as tools do).
  for (const d of opaques) if (entries.get(d)?.type !== 'directory') opaques.delete(d);
  // A lower path this layer leaves alone: no entry, removal or replaced ancestor touches it.
  const untouched = (t: string) =>
    !entries.has(t) &&
    ![...entries.keys(), ...whiteouts].some((k) => under(k, t)) &&
    ![...whiteouts].some((w) => w === t || under(t, w)) &&
    ![...opaques].some((d) => under(t, d)) &&
    !ancestors(t).some(
      (a) =>
        (entries.has(a) && entries.get(a)!.type !== 'directory') ||
        (!entries.has(a) && lower.has(a) && lower.get(a)!.type !== 'directory'),
    );
  for (const [p, e] of [...entries]) {
    if (e.type !== 'hardlink') continue;
    const candidates = [
      ...[...entries].filter(([q, f]) => f.type === 'file' && compareTarPaths(q, p) < 0).map(([q]) => q),
      ...[...lower]
        .filter(([q, f]) => (f.type === 'file' || f.type === 'hardlink') && untouched(q) && q !== p && !under(p, q))
        .map(([q]) => q),
    ];
    if (candidates.length === 0) {
      entries.delete(p);
      continue;
    }
    const t = candidates[Number(e.linkTarget) % candidates.length]!;
    const target = entries.get(t) ?? lower.get(t)!;
    entries.set(p, { type: 'hardlink', mode: target.mode, uid: target.uid, gid: target.gid, linkTarget: t });
  }
  // Removing a hardlink's entry must not orphan another: only files are same-layer targets, so none can.
  return { entries, whiteouts, opaques, markerAt };
}

/** Directories the layer implies (ancestors of its entries and whiteouts that it has no entry for). */
function implicitDirs(layer: LayerSpec): string[] {
  const out = new Set<string>();
  for (const p of [...layer.entries.keys(), ...layer.whiteouts])
    for (const a of ancestors(p)) if (!layer.entries.has(a)) out.add(a);
  return [...out].sort(compareTarPaths);
}

/** Applies a layer to the model tree, bottom-up. */
function applyLayer(tree: Tree, layer: LayerSpec): void {
  for (const w of layer.whiteouts) removeTree(tree, w);
  for (const d of layer.opaques) for (const k of [...tree.keys()]) if (under(k, d)) tree.delete(k);
  const implicit = new Set(implicitDirs(layer));
  for (const p of [...layer.entries.keys(), ...implicit].sort(compareTarPaths)) {
    const have = tree.get(p);
    if (implicit.has(p)) {
      if (have?.type === 'directory') continue;
      removeTree(tree, p);
      tree.set(p, { type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      continue;
    }
    const e = layer.entries.get(p)!;
    if (e.type === 'directory' && have?.type === 'directory') {
      tree.set(p, { ...e });
      continue;
    }
    removeTree(tree, p);
    if (e.type === 'file') tree.set(p, { ...e, inode: ++inodes });
    else if (e.type === 'hardlink') {
      const target = tree.get(e.linkTarget!)!;
      tree.set(p, { ...e, content: target.content!, inode: target.inode! });
    } else tree.set(p, { ...e });
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The model as `listFlat` lists it (hardlinks keep their type and point at `/target`). */
function modelListing(tree: Tree) {
  return [...tree]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, n]) => {
      const e: Record<string, unknown> = {
        path: `/${p}`,
        type: n.type,
        mode: n.mode,
        uid: n.uid,
        gid: n.gid,
        size: n.content?.length ?? 0,
      };
      if (n.content) e['sha256'] = sha(n.content);
      if (n.type === 'hardlink') e['linkTarget'] = `/${n.linkTarget}`;
      if (n.type === 'symlink') e['linkTarget'] = n.linkTarget;
      return e;
    });
}

function modelLinkGroups(tree: Tree): string[][] {
  const byInode = new Map<number, string[]>();
  for (const [p, n] of tree)
    if (n.inode !== undefined) byInode.set(n.inode, [...(byInode.get(n.inode) ?? []), `/${p}`]);
  return [...byInode.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** The layer's tar entries: sorted entries with the whiteout and opaque markers spliced in at random places. */
function layerEntries(layer: LayerSpec): LayerEntryInput[] {
  const out: LayerEntryInput[] = [];
  for (const p of [...layer.entries.keys()].sort(compareTarPaths)) {
    const e = layer.entries.get(p)!;
    const header = { path: p, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: 0 };
    if (e.type === 'file') out.push({ header: { ...header, size: e.content!.length }, data: e.content! });
    else if (e.type === 'symlink' || e.type === 'hardlink')
      out.push({ header: { ...header, linkTarget: e.linkTarget! } });
    else out.push({ header });
  }
  const markers = [
    ...[...layer.whiteouts].map((w) =>
      w.includes('/') ? `${w.slice(0, w.lastIndexOf('/'))}/.wh.${w.slice(w.lastIndexOf('/') + 1)}` : `.wh.${w}`,
    ),
    ...[...layer.opaques].map((d) => `${d}/.wh..wh..opq`),
  ];
  markers.forEach((m, i) => {
    const at = Math.min(out.length, layer.markerAt[i] ?? out.length);
    out.splice(at, 0, {
      header: { path: m, type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 },
      data: Buffer.alloc(0),
    });
  });
  return out;
}

describe('flatten and unpack against a reference model of layer application', () => {
  it('flattenLayers of stored indexes and unpackRootfs both equal the model', async ({ tmp }) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(layersArb, async (layerOps) => {
        const store = await openStore({ memory: true });
        const tree: Tree = new Map();
        const indexes = [];
        for (const { ops, markerAt } of layerOps) {
          const layer = buildLayer(ops, markerAt, tree);
          applyLayer(tree, layer);
          const added = await addLayer({
            store,
            entries: layerEntries(layer),
            compression: run % 2 === 0 ? 'gzip' : 'none',
          });
          indexes.push(added.index);
        }
        const flat = { layers: indexes, entries: flattenLayers(indexes) };
        const listed = listFlat(flat, { recursive: true }).map(({ mtime: _m, ...rest }) => rest);
        expect(listed).toEqual(modelListing(tree));

        const target = join(tmp, `run-${run++}`);
        const report = unpackRootfs({ flat, dir: target });
        expect(report.warnings).toEqual([]);
        const want: TreeEntry[] = treeFromListing(
          modelListing(tree) as unknown as Parameters<typeof treeFromListing>[0],
        );
        expect(listTree(target)).toEqual(want);
        expect(hardlinkGroups(target)).toEqual(modelLinkGroups(tree));
      }),
      { numRuns: RUNS },
    );
  });
});
