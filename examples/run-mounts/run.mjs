// Lesson 7: RUN --mount. A cache directory that outlives rebuilds, and a secret that never lands in the image.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyContext, heading, layerkit, printSteps, say, scratch, storeWithHello } from '../_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const work = scratch('run-mounts');
const store = await storeWithHello(work);
const app = copyContext(here, 'app', work);
const secrets = { 'registry-token': { value: 's3cret-token' } };
const build = (extra = {}) => layerkit.build({ store, context: app, tags: ['demo'], secrets, ...extra });
const logOf = (result, text) => result.steps.find((s) => s.instruction.includes(text))?.output?.trim();

heading('Lesson 7: RUN --mount');
say('A cache mount is a directory that survives between builds but is never part of a layer;');
say('a secret mount gives one command a file it can read, and nothing of it is kept.');

heading('1. Cold build');
let r = await build();
printSteps(r);
say(`-> the install said: ${logOf(r, 'type=cache')}`);

heading('2. package.json changes: the install step misses and runs again');
writeFileSync(
  join(app, 'package.json'),
  '{ "name": "demo", "version": "2", "dependencies": { "left-pad": "1.3.0" } }\n',
);
r = await build();
printSteps(r);
say(`-> the install said: ${logOf(r, 'type=cache')}`);
say('   the step ran again, but the package was already in the cache mount: nothing was downloaded');

heading('3. What the image holds');
const flat = await layerkit.flattenImage({ store, image: 'demo' });
const paths = layerkit.listFlat(flat, { recursive: true }).map((e) => e.path);
say(
  `/var/cache/pkgs in the image: ${paths.some((p) => p === '/var/cache/pkgs' || p.startsWith('/var/cache/pkgs/')) ? 'yes' : 'no'}`,
);
say(`/run/secrets in the image: ${paths.some((p) => p.startsWith('/run')) ? 'yes' : 'no'}`);
say(`/app/install.log: ${layerkit.readFlatFile(flat, '/app/install.log').toString().trim()}`);
const history = JSON.stringify((await layerkit.loadImage({ store, image: 'demo' })).config.history);
say(`the token in the image's history: ${history.includes('s3cret-token') ? 'yes' : 'no'}`);

heading('4. Another token, same Dockerfile');
r = await layerkit.build({
  store,
  context: app,
  tags: ['demo'],
  secrets: { 'registry-token': { value: 'another-token' } },
});
say(
  `-> ${r.steps.filter((s) => !s.metadata && s.status === 'cached').length} of ${r.steps.filter((s) => !s.metadata).length} steps cached: a secret's value is not in the cache key (its id and target are)`,
);
