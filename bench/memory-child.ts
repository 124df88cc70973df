/**
 * One operation of the memory benchmark, run in its own process so its peak RSS is its own:
 *
 *   node --import tsx bench/memory-child.ts idle
 *   node --import tsx bench/memory-child.ts import STORE ARCHIVE
 *   node --import tsx bench/memory-child.ts export STORE REF OUT
 *   node --import tsx bench/memory-child.ts add-layer STORE TREE
 *
 * Prints one JSON line: `{ "op", "seconds", "maxRssKiB" }` (maxRSS from process.resourceUsage()).
 */
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/store.js';
import { importImage } from '../src/image/import.js';
import { exportImage } from '../src/image/export.js';
import { loadImage } from '../src/image/image.js';
import { addLayer } from '../src/image/add-layer.js';
import { treeEntries } from './tree-entries.js';

async function main(argv: string[]): Promise<void> {
  const [op, a, b, c] = argv;
  const t0 = performance.now();
  if (op === 'import' && a && b) {
    await importImage({ store: await openStore({ root: a }), source: b, tags: ['bench-memory:latest'] });
  } else if (op === 'export' && a && b && c) {
    const store = await openStore({ root: a, create: false });
    await exportImage({ store, image: await loadImage({ store, image: b }), format: 'oci-archive', output: c });
  } else if (op === 'add-layer' && a && b) {
    await addLayer({ store: await openStore({ root: a }), entries: treeEntries({ dir: b }), gzipLevel: 1 });
  } else if (op !== 'idle') {
    throw new Error(
      `usage: memory-child.ts idle | import STORE ARCHIVE | export STORE REF OUT | add-layer STORE TREE (got ${argv.join(' ')})`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ op, seconds, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
