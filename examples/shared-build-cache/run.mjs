// Lesson 9: a build cache shared through a registry. Machine A builds and exports its cache;
// machine B, with an empty store, reuses every step; an edit on B misses only what depends on it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { bytes, heading, keptFolder, layerkit, say, scratch, suggest } from '../_lib.mjs';

const hasRegistry = spawnSync('sh', ['-c', 'command -v docker-registry'], { stdio: 'ignore' }).status === 0;
if (!hasRegistry) {
  say(
    'Lesson 9 needs a registry and cannot run here: docker-registry is not installed (Debian package: docker-registry)',
  );
  process.exit(0);
}

const DOCKERFILE = `FROM scratch AS build
COPY deps.txt /deps.txt
RUN i=0; while [ $i -lt 300 ]; do echo "dependency $i from $(cat /deps.txt)"; i=$((i+1)); done > /installed
COPY src/ /src/
RUN cat /src/main.txt /installed > /app
FROM scratch
COPY --from=build /app /app
`;

/** A free loopback port. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** Starts docker-registry (CNCF distribution) on loopback; it is stopped by pid when the lesson ends. */
async function startRegistry(dir) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  process.on('exit', () => child.exitCode === null && child.kill('SIGTERM'));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) return { host: `127.0.0.1:${port}`, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('docker-registry did not start');
}

/** A machine: a checkout of the same sources in its own folder, and its own store. */
async function machine(name, root, kept) {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'deps.txt'), 'left-pad@1.3.0\n');
  writeFileSync(join(dir, 'src', 'main.txt'), 'main v1\n');
  const store = await layerkit.openStore({ root: join(kept ?? root, `${name}-store`), durable: false });
  let runs = 0;
  const shell = layerkit.createVirtualShell();
  const executor = { name: shell.name, run: (req) => (runs++, shell.run(req)) };
  const build = async (options) => {
    const started = performance.now();
    const events = [];
    const result = await layerkit.build({
      store,
      context: dir,
      dockerfileText: DOCKERFILE,
      executor,
      onEvent: (e) => events.push(e),
      tags: ['app:1'],
      // Fixed times, so the images of A and B can be compared byte for byte.
      sourceDateEpoch: 1_700_000_000,
      ...options,
    });
    return { result, events, ms: performance.now() - started };
  };
  return { dir, store, build, runs: () => runs };
}

/** One line per filesystem step: where it is, what it is, and where its layer came from. */
function show(result) {
  for (const s of result.steps) {
    if (s.metadata || s.step === undefined) continue;
    const where = layerkit.vertexLabel({ ...s, instruction: '' }, false).trimEnd();
    const text = s.instruction.split('\n')[0];
    const shown = text.length > 34 ? `${text.slice(0, 31)}...` : text.padEnd(34);
    const what =
      s.status === 'cached'
        ? `CACHED ${layerkit.cacheHitText(s.cacheSource) || 'from this store'}`
        : `built  <- ${s.reason}`;
    say(`  ${where.padEnd(14)} ${shown} ${what}`);
  }
}

const root = scratch('shared-build-cache');
const registry = await startRegistry(join(root, 'registry'));
const cache = `${registry.host}/lesson/cache`;
const kept = keptFolder('shared-build-cache');

heading('Lesson 9: a build cache shared through a registry');
say('Two CI machines, one registry. Each machine computes every cache key itself, from its own');
say('files; the registry only answers "do you have a result for this key?". A record is one plain');
say('OCI image per key, so any registry stores it, and its bytes are verified before use.');

heading('1. Machine A builds and exports its cache');
const a = await machine('machine-a', root);
const built = await a.build({ cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }] });
show(built.result);
const exported = built.events.find((e) => e.type === 'cache-export');
say(
  `  RUN executed ${a.runs()} times; exported ${exported.records} records to ${cache}, ${bytes(exported.bytesUploaded)} of layers sent`,
);
say('  (the flags: --cache-to type=registry,ref=REPO,mode=max; mode=min, the default, keeps only');
say('  the final image’s steps, and type=inline writes them into the image config instead)');

heading('2. Machine B: an empty store, the same sources, --cache-from');
const b = await machine('machine-b', root, kept);
const served = await b.build({ cacheFrom: [{ type: 'registry', ref: cache }] });
show(served.result);
const same = served.result.image.descriptor.digest === built.result.image.descriptor.digest;
say(
  `  RUN executed ${b.runs()} times; the image is ${same ? 'the same as A’s, byte for byte' : 'NOT the same as A’s'}`,
);
say(`  (A built in ${Math.round(built.ms)} ms; B, served by the registry, in ${Math.round(served.ms)} ms)`);

heading('3. One edit on B: only what depends on it misses');
writeFileSync(join(b.dir, 'src', 'main.txt'), 'main v2\n');
const before = b.runs();
const edited = await b.build({ cacheFrom: [{ type: 'registry', ref: cache }], tags: ['app:2'] });
show(edited.result);
say(`  RUN executed ${b.runs() - before} time: the slow install stayed cached; the miss names the edited file`);

heading('4. What machine B remembers');
const { rows } = await layerkit.readImageHistory({ store: b.store, image: 'app:1' });
const remote = rows.filter((r) => r.cacheSource !== undefined).length;
say(
  `  app:1 has ${rows.filter((r) => r.layer !== undefined).length} layer(s); the build record says ${remote} came from the registry`,
);
say('  history and explain show the source of every hit:');
suggest(`layerkit --store ${b.store.root} history app:1`);
suggest(`layerkit --store ${b.store.root} explain app:1`);
registry.child.kill('SIGTERM');
