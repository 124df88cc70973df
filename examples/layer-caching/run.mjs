// Lesson 1: layer caching. Build, change one source file, rebuild; then reorder the Dockerfile.
import { appendFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyContext, heading, layerkit, printSteps, say, scratch, storeWithHello, tally } from '../_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const work = scratch('caching');
const store = await storeWithHello(work);
const app = copyContext(here, 'app', work);
const build = (dockerfile) => layerkit.build({ store, context: app, dockerfile, tags: ['demo'] });

heading('Lesson 1: layer caching');
say('Every filesystem step (WORKDIR, COPY, RUN) has a cache key: its parent step, the instruction,');
say('and a digest of the files it reads. Same key, same layer: the step is skipped.');

heading('1. Dockerfile.naive, cold cache');
let r = await build('Dockerfile.naive');
printSteps(r);
say(`-> ${tally(r).built} steps built, ${tally(r).cached} cached`);

heading('2. The same build again');
r = await build('Dockerfile.naive');
printSteps(r);
say(`-> ${tally(r).cached} steps cached: nothing changed, nothing ran`);

heading('3. Edit src/index.js and build again');
appendFileSync(join(app, 'src/index.js'), 'console.log("a new line");\n');
r = await build('Dockerfile.naive');
printSteps(r);
const install = r.steps.find((s) => s.instruction.startsWith('RUN'));
say(`-> the install ran again (${install.status}) because COPY . . changed its parent layer`);

heading('4. Dockerfile.ordered: copy package.json first');
r = await build('Dockerfile.ordered');
printSteps(r);
writeFileSync(join(app, 'src/index.js'), 'console.log("hello from v3");\n');
say('\nEdit src/index.js again and rebuild:');
r = await build('Dockerfile.ordered');
printSteps(r);
const ordered = r.steps.find((s) => s.instruction.startsWith('RUN'));
say(`-> the install step is ${ordered.status.toUpperCase()}: only COPY src/ saw the change`);

heading('5. Touching a file without changing it');
const now = new Date();
(await import('node:fs')).utimesSync(join(app, 'src/index.js'), now, now);
r = await build('Dockerfile.ordered');
say(
  `-> ${tally(r).cached} of ${tally(r).cached + tally(r).built} steps cached: mtimes are not part of the key (content, mode and type are)`,
);
