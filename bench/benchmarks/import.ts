/**
 * Target 1: importing a layer. The same uncompressed layer tar (made by GNU tar from a generated
 * tree) is extracted by `tar -xf` into a fresh tmpfs folder (the peer, timed as a child process)
 * and imported by `importImage` into a fresh store on tmpfs (layerkit, timed in-process): once
 * from an OCI layout folder, once from an oci-archive. The import includes everything it does:
 * copying the blob into the store, hashing it, verifying the diffID and building and storing the
 * LayerIndex (one sha256 per file, every entry's data offset).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/store.js';
import { importImage } from '../../src/image/import.js';
import { judge, measureInterleaved, MiB, timeChild, type Benchmark, type BenchContext, type Contender, type Row, type Timing } from '../harness.js';
import { tarFolder, writeOciLayout } from '../data/oci-layout.js';
import { writeBigFileTree, writeSmallFilesTree, type TreeStats } from '../data/trees.js';

interface Prepared {
  tar: string;
  layout: string;
  archive: string;
  stats: TreeStats;
}

async function prepare(dir: string, write: (tree: string) => TreeStats, refName: string): Promise<Prepared> {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  const stats = write(tree);
  const tar = join(dir, 'layer.tar');
  await tarFolder({ dir: tree, archive: tar });
  rmSync(tree, { recursive: true, force: true });
  const layout = join(dir, 'layout');
  await writeOciLayout({ dir: layout, layers: [tar], refName });
  const archive = join(dir, 'image.oci.tar');
  await tarFolder({ dir: layout, archive });
  return { tar, layout, archive, stats };
}

/** Times `tar -xf` of the layer and the two imports, interleaved. */
async function timeAll(ctx: BenchContext, dir: string, p: Prepared): Promise<{ peer: Timing; layout: Timing; archive: Timing }> {
  const out = join(dir, 'out');
  const storeDir = join(dir, 'store');
  let store: Store | undefined;
  const ours = (source: string): Contender => ({
    setup: async () => {
      store = await openStore({ root: storeDir });
    },
    fn: async () => {
      await importImage({ store: store!, source });
    },
    teardown: () => rmSync(storeDir, { recursive: true, force: true }),
  });
  return measureInterleaved(ctx.runs, {
    peer: {
      setup: () => mkdirSync(out),
      fn: () => timeChild({ argv: ['tar', '-xf', p.tar, '-C', out] }),
      teardown: () => rmSync(out, { recursive: true, force: true }),
    },
    layout: ours(p.layout),
    archive: ours(p.archive),
  });
}

function rows(kind: 'files' | 'bytes', what: string, p: Prepared, t: { peer: Timing; layout: Timing; archive: Timing }, target: number): Row[] {
  const amount = kind === 'files' ? p.stats.files : p.stats.bytes / MiB;
  const unit = kind === 'files' ? 'files/s' : 'MiB/s';
  const tarBytes = statSync(p.tar).size;
  return (['layout', 'archive'] as const).map((form) =>
    judge({
      label: `import ${what} (${form === 'layout' ? 'OCI layout' : 'oci-archive'})`,
      ours: { value: amount / t[form].median, unit },
      peer: { value: amount / t.peer.median, unit },
      peerName: 'tar -xf',
      ratio: t.peer.median / t[form].median,
      target: { kind: 'min-ratio', value: target, text: `≥ ${target}× tar` },
      details: { files: p.stats.files, payloadBytes: p.stats.bytes, tarBytes, oursSeconds: t[form].runs, peerSeconds: t.peer.runs },
    }),
  );
}

/** The import benchmark. */
export const importBenchmark: Benchmark = {
  name: 'import',
  title: 'importing a layer vs GNU tar -xf of the same tar (tmpfs)',
  async run(ctx) {
    const files = Math.max(100, Math.round(10_000 * ctx.scale));
    const bigBytes = Math.max(8 * MiB, Math.round((500 * MiB * ctx.scale) / MiB) * MiB);
    const smallDir = join(ctx.workDir, 'small');
    ctx.log(`import: generating ${files} small files`);
    const small = await prepare(smallDir, (tree) => writeSmallFilesTree({ dir: tree, files }), 'bench-import:small');
    ctx.log('import: timing the small-files layer');
    const smallRows = rows('files', `${files.toLocaleString('en-US')} small files`, small, await timeAll(ctx, smallDir, small), 0.5);
    rmSync(smallDir, { recursive: true, force: true });

    const bigDir = join(ctx.workDir, 'big');
    ctx.log(`import: generating a ${bigBytes / MiB} MiB file`);
    const big = await prepare(bigDir, (tree) => writeBigFileTree({ dir: tree, bytes: bigBytes }), 'bench-import:big');
    ctx.log('import: timing the single-file layer');
    const bigRows = rows('bytes', `one ${bigBytes / MiB} MiB file`, big, await timeAll(ctx, bigDir, big), 0.9);
    rmSync(bigDir, { recursive: true, force: true });

    return {
      name: 'import',
      title: this.title,
      rows: [...smallRows, ...bigRows],
      notes: [
        'peer: `tar -xf layer.tar -C <fresh tmpfs dir>` as a child process (as root, so it also restores owners); wall clock around spawn',
        'layerkit: `importImage` into a fresh store on tmpfs, in-process (store creation not timed); the layer is uncompressed, so the stored blob is the data file (no second copy)',
        `median of ${ctx.runs} runs after one warm-up each, peer and layerkit runs interleaved; files/s counts regular files, MiB/s counts file bytes`,
      ],
    };
  },
};
