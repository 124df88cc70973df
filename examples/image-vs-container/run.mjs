// Lesson 6: image vs container. Several containers from one image, each with its own writable layer.
import { heading, layerkit, say, scratch, storeWithHello } from '../_lib.mjs';

const work = scratch('containers');
const store = await storeWithHello(work);
const shell = layerkit.createVirtualShell();
const exec = async (name, script) => {
  const fs = await layerkit.openContainer({ store, name });
  let out = '';
  const { exitCode } = await shell.run({
    argv: ['sh', '-c', script],
    env: { PATH: '/bin' },
    cwd: '/',
    user: '',
    fs,
    stdout: (c) => (out += Buffer.from(c).toString()),
    stderr: (c) => (out += Buffer.from(c).toString()),
  });
  await fs.save();
  return { exitCode, out };
};

heading('Lesson 6: image vs container');
say('An image is read-only. A container is a named writable layer on top of an image; many');
say('containers share the image, each keeps its own changes until it is committed or removed.');

heading('1. Three containers from hello');
for (const name of ['web', 'worker', 'scratchpad']) await layerkit.createContainer({ store, image: 'hello', name });
for (const c of layerkit.listContainers({ store }))
  say(`  ${c.name.padEnd(11)} on ${c.imageRef} (${c.image.slice(0, 19)}…)`);

heading('2. Change each one differently');
await exec('web', 'mkdir -p /srv/www && echo "<h1>hi</h1>" > /srv/www/index.html');
await exec('worker', 'echo "jobs=4" > /etc/worker.conf && rm /etc/motd');
await exec('scratchpad', 'rm -rf /usr');
for (const name of ['web', 'worker', 'scratchpad']) {
  const changes = await layerkit.diffContainer({ store, name });
  say(
    `  ${name}: ${changes.map((c) => `${c.kind === 'added' ? 'A' : c.kind === 'deleted' ? 'D' : 'C'} ${c.path}`).join(', ')}`,
  );
}
const { out } = await exec('web', 'cat /etc/motd; ls /usr/share/doc');
say(`  web still sees the image's files: ${JSON.stringify(out)}`);

heading('3. Commit one container into a new image');
const { image } = await layerkit.commitContainer({ store, name: 'web', tags: ['hello:web'], message: 'add the site' });
say(
  `  hello:web = hello's ${image.layers.length - 1} layers + 1 new layer (${image.layers[image.layers.length - 1].size} bytes)`,
);
say(
  `  last history entry: ${JSON.stringify(image.config.history.at(-1).created_by)} / ${JSON.stringify(image.config.history.at(-1).comment)}`,
);

heading('4. Remove the others');
for (const name of ['worker', 'scratchpad']) await layerkit.removeContainer({ store, name });
const report = await layerkit.gcStore({ store });
say(
  `  removed worker and scratchpad: their writable layers went with them; gc found ${report.removedBlobs.length} blobs to collect`,
);
say(
  `  containers left: ${layerkit
    .listContainers({ store })
    .map((c) => c.name)
    .join(', ')}`,
);
