// Lesson 6: image vs container. Several containers from one image, each with its own writable layer.
import { containersUnavailable, makeBusyboxImage } from '../_busybox.mjs';
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

heading('5. A running container, committed');
const missing = containersUnavailable();
if (missing) say(`  skipped: a running container needs what is missing here: ${missing}`);
else {
  // A real process (runc, namespaces, a kernel overlay): its writable layer is the overlay's upper.
  await makeBusyboxImage(store, 'busybox');
  const script = 'mkdir -p /srv && echo "made while running" > /srv/note && rm /etc/group && exec sleep 60';
  await layerkit.runContainer({ store, image: 'busybox', name: 'live', cmd: ['sh', '-c', script], detach: true });
  try {
    let changes = [];
    for (let i = 0; i < 500 && changes.length < 4; i++) {
      changes = await layerkit.diffContainer({ store, name: 'live' });
      if (changes.length < 4) await new Promise((r) => setTimeout(r, 10));
    }
    const running = await layerkit.inspectContainer({ store, name: 'live' });
    say(
      `  live is ${running.status} (pid ${running.pid} on the host) and has changed: ${changes.map((c) => `${c.kind === 'added' ? 'A' : c.kind === 'deleted' ? 'D' : 'C'} ${c.path}`).join(', ')}`,
    );
    await layerkit.stopContainer({ store, name: 'live', timeout: 0 });
    const stopped = await layerkit.inspectContainer({ store, name: 'live' });
    say(
      `  stopped with a 0 s timeout: ${stopped.status}, exit code ${stopped.exitCode} (SIGKILL); its writable layer stays`,
    );
    const committed = await layerkit.commitContainer({ store, name: 'live', tags: ['busybox:live'] });
    say(
      `  committed as busybox:live: ${committed.image.layers.length} layers, the new one ${committed.image.layers.at(-1).size} bytes`,
    );
    const check = await layerkit.runContainer({
      store,
      image: 'busybox:live',
      cmd: ['sh', '-c', 'cat /srv/note; [ -e /etc/group ] || echo no /etc/group'],
      autoRemove: true,
    });
    let out = '';
    check.stdout.on('data', (c) => (out += c));
    await Promise.all([check.wait(), new Promise((r) => check.stdout.once('end', r))]);
    say(`  a new container of busybox:live says: ${JSON.stringify(out)}`);
  } finally {
    await layerkit.removeRuntime({ store, name: 'live', force: true });
  }
}
