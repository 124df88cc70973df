/**
 * Target 2: exporting a tree as a gzip layer. layerkit reads a generated ~200 MiB source-like
 * tree from tmpfs (bench/tree-entries.ts) and `addLayer`s it with `gzipLevel: 1` into a fresh
 * store on tmpfs (tar + sha256 of the tar + gzip + sha256 of the blob + writing the blob, then
 * its LayerIndex, so the new layer mounts at once). The peer is the shell pipeline
 *
 *   tar -cf - -C TREE . | tee FIFO | gzip -1 | tee OUT.tar.gz | sha256sum     (FIFO → sha256sum)
 *
 * (separate processes, so both cores are used), timed as one child process. Both write the
 * compressed layer to tmpfs and compute both digests.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addLayer } from '../../src/image/add-layer.js';
import { openStore, type Store } from '../../src/store/store.js';
import { writeLayer } from '../../src/tar/layer-writer.js';
import { judge, measureInterleaved, MiB, timeChild, type Benchmark, type Row } from '../harness.js';
import { writeMixedTree } from '../data/trees.js';
import { treeEntries } from '../tree-entries.js';

/** The peer pipeline, exactly as run (bash, for the FIFO and `wait`). */
export function peerPipeline(tree: string, out: string): string {
  const fifo = `${out}.fifo`;
  return [
    `rm -f '${fifo}' && mkfifo '${fifo}'`,
    `sha256sum < '${fifo}' > '${out}.diffid' &`,
    `tar -cf - -C '${tree}' . | tee '${fifo}' | gzip -1 | tee '${out}' | sha256sum > '${out}.digest'`,
    'wait',
    `rm -f '${fifo}'`,
  ].join('\n');
}

/** The export benchmark. */
export const exportBenchmark: Benchmark = {
  name: 'export',
  title: 'writing a tree as a gzip layer vs tar | gzip -1 | sha256sum (tmpfs)',
  async run(ctx) {
    const bytes = Math.max(16 * MiB, Math.round(200 * MiB * ctx.scale));
    const tree = join(ctx.workDir, 'tree');
    mkdirSync(tree, { recursive: true });
    ctx.log(`export: generating a ${Math.round(bytes / MiB)} MiB tree`);
    const stats = writeMixedTree({ dir: tree, bytes, bigFiles: Math.max(1, Math.round(4 * Math.min(1, ctx.scale))) });
    const mib = stats.bytes / MiB;

    const out = join(ctx.workDir, 'peer.tar.gz');
    let store: Store | undefined;
    const storeDir = join(ctx.workDir, 'store');
    ctx.log('export: timing the shell pipeline, addLayer and writeLayer, interleaved');
    const t = await measureInterleaved(ctx.runs, {
      peer: {
        fn: () => timeChild({ argv: ['bash', '-c', peerPipeline(tree, out)] }),
        teardown: () => rmSync(out, { force: true }),
      },
      ours: {
        setup: async () => {
          rmSync(storeDir, { recursive: true, force: true });
          store = await openStore({ root: storeDir });
        },
        fn: async () => {
          await addLayer({ store: store!, entries: treeEntries({ dir: tree }), gzipLevel: 1 });
        },
      },
      writeOnly: {
        fn: async () => {
          const { stream, result } = writeLayer({
            entries: treeEntries({ dir: tree }),
            compression: 'gzip',
            gzipLevel: 1,
          });
          for await (const _ of stream) {
            // drain: the digests are computed in the pass
          }
          await result;
        },
      },
    });
    const { peer, ours, writeOnly } = t;
    rmSync(storeDir, { recursive: true, force: true });

    const details = {
      files: stats.files,
      symlinks: stats.symlinks,
      hardlinks: stats.hardlinks,
      payloadBytes: stats.bytes,
      peerSeconds: peer.runs,
    };
    const rows: Row[] = [
      judge({
        label: `addLayer, gzip -1, ${Math.round(mib)} MiB tree (${stats.files.toLocaleString('en-US')} files)`,
        ours: { value: mib / ours.median, unit: 'MiB/s' },
        peer: { value: mib / peer.median, unit: 'MiB/s' },
        peerName: 'tar|gzip -1|sha256sum',
        ratio: peer.median / ours.median,
        target: { kind: 'min-ratio', value: 1, text: '≥ 1× pipeline' },
        details: { ...details, oursSeconds: ours.runs },
      }),
      judge({
        label: 'writeLayer only (no blob write, no index)',
        ours: { value: mib / writeOnly.median, unit: 'MiB/s' },
        peer: { value: mib / peer.median, unit: 'MiB/s' },
        peerName: 'same pipeline',
        ratio: peer.median / writeOnly.median,
        target: { kind: 'none', text: 'informational' },
        details: { ...details, oursSeconds: writeOnly.runs },
      }),
    ];
    return {
      name: 'export',
      title: this.title,
      rows,
      notes: [
        `tree: ${stats.files.toLocaleString('en-US')} files (70 % text-like, 30 % random; 16 B–256 KiB log-uniform plus big files), ${stats.symlinks} symlinks, ${stats.hardlinks} hardlinks, ${Math.round(mib)} MiB`,
        'peer (child process, bash): tar -cf - -C TREE . | tee FIFO | gzip -1 | tee OUT | sha256sum, with sha256sum < FIFO in parallel',
        'layerkit (in-process): addLayer({ entries: treeEntries(TREE), gzipLevel: 1 }) into a fresh store, one pass: lstat/readFileSync per entry, tar, sha256 (diffID), LayerIndex (parse, sha256 per file, uncompressed copy), gzip in parallel blocks on the threadpool, sha256 (digest), blob write',
        `MiB/s counts file bytes; median of ${ctx.runs} runs after one warm-up each, the three interleaved`,
      ],
    };
  },
};
