// Lesson 5: the content-addressed store. Shared layers stored once, retagging as rollback, gc.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bytes, heading, layerkit, say, scratch, storeWithHello } from '../_lib.mjs';

const work = scratch('store');
const store = await storeWithHello(work);
const blobDir = join(store.root, 'blobs', 'sha256');
const storeBytes = () => readdirSync(blobDir).reduce((n, f) => n + statSync(join(blobDir, f)).size, 0);
const short = (d) => d.slice(7, 19);

heading('Lesson 5: the content-addressed store');
say(`The store is an OCI image layout: ${store.root}`);
say('Every blob (layer, config, manifest) is a file named by the sha256 of its bytes.');
say(`  blobs now: ${readdirSync(blobDir).length} files, ${bytes(storeBytes())}`);

heading('1. Two images on the same base');
const make = async (tag, text) => {
  const fs = await layerkit.mountImage({ store, image: 'hello' });
  await fs.writeFile('/srv/version', text).catch(async () => {
    await fs.mkdir('/srv');
    await fs.writeFile('/srv/version', text);
  });
  return (await fs.commit({ tags: [tag], sourceDateEpoch: 0 })).image;
};
const v1 = await make('app:1', 'v1\n');
const v2 = await make('app:2', 'v2\n');
const shared = v1.layers.filter((l) => v2.layers.some((m) => m.digest === l.digest));
say(`  app:1 layers: ${v1.layers.map((l) => short(l.digest)).join(' ')}`);
say(`  app:2 layers: ${v2.layers.map((l) => short(l.digest)).join(' ')}`);
say(
  `  -> ${shared.length} base layers are the same blobs: stored once, ${readdirSync(blobDir).length} blob files in all`,
);

heading('2. Tags are names for manifests: retagging is a rollback');
await store.tag('app:current', v2.descriptor);
say(`  app:current -> ${short(store.resolveRef('app:current').descriptor.digest)} (app:2)`);
await store.tag('app:current', v1.descriptor);
say(
  `  oops, roll back: tag app:1 as app:current -> ${short(store.resolveRef('app:current').descriptor.digest)} (app:1), instantly, nothing copied`,
);
say('  index.json now names:');
for (const r of store.listRefs()) say(`    ${r.name.padEnd(12)} ${short(r.descriptor.digest)}`);

heading('3. Remove a name, then collect garbage');
const before = storeBytes();
await layerkit.removeImage({ store, ref: 'app:2' });
say('  rmi app:2 removes the name; its blobs stay until gc:');
const report = await layerkit.gcStore({ store });
say(
  `  gc removed ${report.removedBlobs.length} blobs: app:2's manifest, config and top layer (${bytes(report.freedBytes)} with their layer index)`,
);
say(
  `  the shared base layers stayed: app:1 and hello still use them (blobs: ${bytes(before)} -> ${bytes(storeBytes())})`,
);

heading('4. Every read is verified');
const { problems } = await layerkit.verifyStore({ store });
say(`  verify: ${problems.length === 0 ? 'all blobs hash to their names' : problems.map((p) => p.message).join('; ')}`);
