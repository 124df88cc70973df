// Lesson 2: multi-stage builds. A heavy builder, a slim release, an unused stage skipped, --target.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytes, copyContext, heading, layerkit, printSteps, say, scratch, storeWithHello } from '../_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const work = scratch('multistage');
const store = await storeWithHello(work);
const app = copyContext(here, 'app', work);
const imageSize = (image) => image.layers.reduce((n, l) => n + l.size, 0);

heading('Lesson 2: multi-stage builds');
say('Only the stages the target needs are built. The final image holds only what it copies.');

heading('1. Build the default target (the last stage, "release")');
const release = await layerkit.build({ store, context: app, tags: ['app:release'] });
printSteps(release);
for (const s of release.stages) say(`  stage ${s.stage.padEnd(8)} ${s.status}`);

heading('2. Build --target builder to compare sizes');
const builder = await layerkit.build({ store, context: app, target: 'builder', tags: ['app:builder'] });
const cachedSteps = builder.steps.filter((s) => s.status === 'cached').length;
say(`  (${cachedSteps} builder steps were CACHED from the first build: same keys, same layers)`);
say(`  builder image: ${builder.image.layers.length} layers, ${bytes(imageSize(builder.image))} compressed`);
say(`  release image: ${release.image.layers.length} layer,  ${bytes(imageSize(release.image))} compressed`);
say(
  `  -> the release is ${(imageSize(builder.image) / imageSize(release.image)).toFixed(0)}x smaller: the toolchain stayed in the builder`,
);

heading('3. Build --target test');
const test = await layerkit.build({ store, context: app, target: 'test', tags: ['app:test'] });
printSteps(test, { onlyStage: 'test' });
for (const s of test.stages) say(`  stage ${s.stage.padEnd(8)} ${s.status}`);
say('-> "test" depends on "builder" (FROM builder) but not on "release", so release is skipped');
