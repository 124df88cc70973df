/**
 * One pull or push of the registry benchmark, in its own process so its peak RSS is its own:
 *
 *   node --import tsx bench/registry-child.ts pull STORE REF
 *   node --import tsx bench/registry-child.ts push STORE IMAGE REF
 *
 * Prints one JSON line: `{ "op", "seconds", "bytes", "maxRssKiB" }`.
 */
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/store.js';
import { pullImage } from '../src/registry/pull.js';
import { pushImage } from '../src/registry/push.js';

async function main(argv: string[]): Promise<void> {
  const [op, a, b, c] = argv;
  const t0 = performance.now();
  let bytes = 0;
  if (op === 'pull' && a && b) {
    bytes = (await pullImage({ store: await openStore({ root: a }), ref: b })).bytesDownloaded;
  } else if (op === 'push' && a && b && c) {
    bytes = (await pushImage({ store: await openStore({ root: a, create: false }), image: b, ref: c })).bytesUploaded;
  } else throw new Error(`usage: registry-child.ts pull STORE REF | push STORE IMAGE REF (got ${argv.join(' ')})`);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ op, seconds, bytes, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
