/**
 * A second process for the cache tests: builds a context into a disk store and prints one JSON
 * line `{ digest, statuses }` (the filesystem steps' statuses). Run with `node --import tsx`.
 * Argument: JSON `{ root, context, tags? }`.
 */
import { build } from '../../src/builder/build.js';
import { openStore } from '../../src/store/store.js';

const { root, context, tags } = JSON.parse(process.argv[2] ?? '{}') as {
  root: string;
  context: string;
  tags?: string[];
};
const store = await openStore({ root, durable: false });
const result = await build({ store, context, tags: tags ?? [] });
process.stdout.write(
  `${JSON.stringify({ digest: result.image.descriptor.digest, statuses: result.steps.filter((s) => !s.metadata).map((s) => s.status) })}\n`,
);
