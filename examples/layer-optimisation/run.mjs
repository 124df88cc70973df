// Lesson 4: layer optimisation. Wasted bytes from separate RUNs, and what .dockerignore keeps out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytes, copyContext, heading, keptFolder, layerkit, say, scratch, storeWithHello, suggest } from '../_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const work = scratch('optimise');
// The store outlives the lesson, so the commands it suggests at the end work when copied.
const kept = keptFolder('layer-optimisation');
const store = await storeWithHello(kept);
const app = copyContext(here, 'app', work);
// A VCS folder with a large object, as a real checkout has (made here: git will not track a .git folder).
mkdirSync(join(app, '.git'));
writeFileSync(join(app, '.git', 'HEAD'), 'ref: refs/heads/main\n');
writeFileSync(join(app, '.git', 'pack'), Buffer.alloc(256 * 1024, 7));
const analyze = async (tag) => layerkit.analyzeImage({ store, image: tag });
const report = (name, a) => {
  say(
    `  ${name.padEnd(22)} stored ${bytes(a.waste.storedBytes).padStart(10)}   final ${bytes(a.waste.finalBytes).padStart(10)}   wasted ${bytes(a.waste.reclaimableBytes).padStart(10)}   efficiency ${(a.waste.efficiency * 100).toFixed(1)}%`,
  );
};

heading('Lesson 4: layer optimisation');
say('A layer is immutable: deleting a file in a later layer hides it but cannot shrink the layer');
say('that added it. Wasted bytes = bytes stored in layers that nothing in the final tree reads.');

heading('1. Create and delete a big file in separate RUN steps, or in one');
await layerkit.build({ store, context: app, dockerfile: 'Dockerfile.separate', tags: ['opt:separate'] });
await layerkit.build({ store, context: app, dockerfile: 'Dockerfile.combined', tags: ['opt:combined'] });
const separate = await analyze('opt:separate');
const combined = await analyze('opt:combined');
report('separate RUN steps', separate);
report('one combined RUN', combined);
const top = separate.waste.paths[0];
say(
  `  biggest waste in "separate": ${top.path} (${bytes(top.reclaimableBytes)}), deleted by a later layer but still stored`,
);
say(
  `  (the ${bytes(combined.waste.reclaimableBytes)} left in "combined" is the base image's own: it rewrites /etc/motd and deletes two files)`,
);

heading('2. .dockerignore: keep the context lean');
const before = combined;
writeFileSync(join(app, '.dockerignore'), '.git\n*.log\n');
await layerkit.build({ store, context: app, dockerfile: 'Dockerfile.combined', tags: ['opt:ignored'] });
const ignored = await analyze('opt:ignored');
const copyLayer = (a) => a.layers[a.layers.length - 1];
say(`  COPY . /src/ without .dockerignore: ${bytes(copyLayer(before).size)} in ${copyLayer(before).entries} entries`);
say(
  `  COPY . /src/ with .git and *.log ignored: ${bytes(copyLayer(ignored).size)} in ${copyLayer(ignored).entries} entries`,
);
say(`  -> final image data ${bytes(before.final.bytes)} -> ${bytes(ignored.final.bytes)}`);

heading('3. The explain report says the same, per layer');
say(layerkit.renderExplainText(separate).split('\n').slice(0, 14).join('\n'));
say('  ... the store is kept, so the whole report, and an HTML page that draws the layers to scale, are:');
suggest(`layerkit --store ${store.root} explain opt:separate`);
suggest(`layerkit --store ${store.root} explain opt:separate --html report.html`);
suggest(`layerkit --store ${store.root} history opt:separate`);
