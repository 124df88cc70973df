// Lesson 3: copy-on-write and whiteouts. Mount an image, change it, commit, and read the new layer's tar.
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
// The tar reader is one of the codecs under the main API, in the low-level entry.
import { readTarEntries } from 'layerkit/low-level';
import { bytes, heading, layerkit, say, scratch, storeWithHello } from '../_lib.mjs';

const work = scratch('cow');
const store = await storeWithHello(work);
const before = await layerkit.loadImage({ store, image: 'hello' });

heading('Lesson 3: copy-on-write and whiteouts');
say("An image's layers are read-only. A mounted image gets one writable layer on top (the upper);");
say('reads fall through to the layers below, writes land in the upper, deletions leave whiteouts.');

heading('1. Mount hello and look around');
const fs = await layerkit.mountImage({ store, image: 'hello' });
say(`  /etc/motd says: ${JSON.stringify(await fs.readFile('/etc/motd', 'utf8'))}`);
say(
  `  /usr/share/doc holds: ${(await fs.readdir('/usr/share/doc')).join(', ')}   (doc a was deleted by the image's own top layer)`,
);

heading('2. Change it like a container would');
await fs.appendFile('/etc/motd', 'edited in a container\n');
say('  append to /etc/motd            -> copy-up: the whole file is copied into the upper, then changed');
await fs.chmod('/etc/os-release', 0o600);
say('  chmod 600 /etc/os-release      -> metadata-only copy-up: the bytes stay in the lower layer');
await fs.unlink('/bin/hello');
say('  rm /bin/hello                  -> a whiteout hides the lower file');
await fs.rm('/usr', { recursive: true });
say('  rm -r /usr                     -> ONE whiteout for the whole directory, not one per file');
await fs.rm('/var/cache', { recursive: true });
await fs.mkdir('/var/cache');
await fs.writeFile('/var/cache/rebuilt', 'new\n');
say('  rm -r /var/cache; mkdir again  -> the new directory is opaque: nothing below shows through');
say('\n  docker diff of the view:');
for (const c of fs.changes()) say(`    ${c.kind === 'added' ? 'A' : c.kind === 'deleted' ? 'D' : 'C'} ${c.path}`);

heading('3. Commit, and read the new layer as a tar');
const { image, diffId } = await fs.commit({ tags: ['hello:edited'], message: 'lesson 3', sourceDateEpoch: 0 });
const layer = image.layers[image.layers.length - 1];
say(`  new layer ${layer.digest.slice(0, 19)}… (${bytes(layer.size)} gzip), diffID ${diffId.slice(0, 19)}…`);
const tar = Buffer.concat(await Readable.from(store.blobs.open(layer.digest).pipe(createGunzip())).toArray());
for await (const { header } of readTarEntries([tar])) {
  const note = header.path.endsWith('.wh..wh..opq')
    ? '  <- opaque marker'
    : header.path.split('/').pop().startsWith('.wh.')
      ? '  <- whiteout'
      : '';
  say(
    `    ${header.type.padEnd(9)} ${(header.mode & 0o7777).toString(8).padStart(4, '0')} ${String(header.size).padStart(4)}  ${header.path}${note}`,
  );
}

heading('4. The lower layers did not change');
const still = await layerkit.loadImage({ store, image: 'hello' });
say(
  `  hello is still ${still.descriptor.digest.slice(0, 19)}… (was ${before.descriptor.digest.slice(0, 19)}…), its layers untouched`,
);
const original = await layerkit.flattenImage({ store, image: still });
say(`  and still says: ${JSON.stringify(layerkit.readFlatFile(original, '/etc/motd').toString())}`);
const edited = await layerkit.flattenImage({ store, image });
say(`  hello:edited says: ${JSON.stringify(layerkit.readFlatFile(edited, '/etc/motd').toString())}`);
say(
  `  hello:edited shares ${image.layers.filter((l) => still.layers.some((b) => b.digest === l.digest)).length} of its ${image.layers.length} layers with hello (stored once)`,
);
