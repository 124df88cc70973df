import { afterEach, beforeEach, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import {
  commitContainer,
  createContainer,
  diffContainer,
  flattenImage,
  importImage,
  listContainers,
  listFlat,
  loadImage,
  mountImage,
  openContainer,
  readFlatFile,
  removeContainer,
  gcStore,
  exportImage,
  type Store,
} from '../../src/index.js';
import { STORE_KINDS } from '../helpers/stores.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';

const HELLO = new URL('../../fixtures/images/hello.oci.tar', import.meta.url).pathname;

describe.each(STORE_KINDS)('mountImage, commit and containers ($name store)', (kind) => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    ({ store, cleanup } = await kind.make());
    await importImage({ store, source: HELLO });
  });
  afterEach(() => cleanup());

  it('mounts an image, edits it, and commits exactly the changes as a new image', async () => {
    const fs = await mountImage({ store, image: 'hello' });
    expect(await fs.readFile('/etc/motd', 'utf8')).toBe('welcome to the top layer\n');
    await fs.writeFile('/etc/motd', 'edited\n');
    await fs.rm('/usr/share/doc', { recursive: true });
    await fs.mkdir('/srv/app', { recursive: true });
    await fs.writeFile('/srv/app/main.js', 'console.log(1)\n');
    // docker diff semantics as docs/union-semantics.md has them: the parent of an added or
    // deleted path is modified; a copied-up parent whose attributes did not change is not.
    expect(fs.changes()).toEqual([
      { kind: 'modified', path: '/etc/motd' },
      { kind: 'added', path: '/srv' },
      { kind: 'added', path: '/srv/app' },
      { kind: 'added', path: '/srv/app/main.js' },
      { kind: 'modified', path: '/usr/share' },
      { kind: 'deleted', path: '/usr/share/doc' },
    ]);
    const { image } = await fs.commit({ tags: ['hello:edited'], message: 'edit', sourceDateEpoch: 0 });
    expect(image.layers).toHaveLength(3);
    expect(image.config.history?.at(-1)).toMatchObject({ created_by: 'layerkit commit', comment: 'edit' });
    const flat = await flattenImage({ store, image: await loadImage({ store, image: 'hello:edited' }) });
    expect(listFlat(flat, { recursive: true }).map((e) => e.path)).toEqual([
      '/bin',
      '/bin/hello',
      '/etc',
      '/etc/motd',
      '/etc/os-release',
      '/srv',
      '/srv/app',
      '/srv/app/main.js',
      '/usr',
      '/usr/share',
      '/var',
      '/var/cache',
      '/var/cache/new',
    ]);
    expect(readFlatFile(flat, '/etc/motd').toString()).toBe('edited\n');
    // the base image did not change
    const base = await flattenImage({ store, image: await loadImage({ store, image: 'hello' }) });
    expect(readFlatFile(base, '/etc/motd').toString()).toBe('welcome to the top layer\n');
  });

  it('commits deterministically: the same changes give the same diffID and manifest', async () => {
    const digests = [];
    for (let i = 0; i < 2; i++) {
      const fs = await mountImage({ store, image: 'hello', clock: () => 0 });
      await fs.writeFile('/a', 'x');
      await fs.unlink('/etc/os-release');
      digests.push((await fs.commit({ sourceDateEpoch: 0 })).image.descriptor.digest);
    }
    expect(digests[0]).toBe(digests[1]);
  });

  it('keeps containers apart, persists them, diffs, commits and removes them', async () => {
    await createContainer({ store, image: 'hello', name: 'c1' });
    await createContainer({ store, image: 'hello', name: 'c2' });
    await expect(createContainer({ store, image: 'hello', name: 'c1' })).rejects.toMatchObject({
      code: 'ERR_CONTAINER',
    });
    const c1 = await openContainer({ store, name: 'c1' });
    await c1.writeFile('/etc/motd', 'c1 was here\n');
    await c1.save();
    const c2 = await openContainer({ store, name: 'c2' });
    await c2.unlink('/bin/hello');
    await c2.save();
    expect(await diffContainer({ store, name: 'c1' })).toEqual([{ kind: 'modified', path: '/etc/motd' }]);
    expect(await diffContainer({ store, name: 'c2' })).toEqual([
      { kind: 'modified', path: '/bin' },
      { kind: 'deleted', path: '/bin/hello' },
    ]);
    expect((await openContainer({ store, name: 'c1' })).readFileSync('/etc/motd', 'utf8')).toBe('c1 was here\n');
    expect(listContainers({ store }).map((c) => c.name)).toEqual(['c1', 'c2']);
    const { image } = await commitContainer({ store, name: 'c1', tags: ['hello:c1'] });
    expect(readFlatFile(await flattenImage({ store, image }), '/etc/motd').toString()).toBe('c1 was here\n');
    // a container keeps its image alive through gc even when the image's tag goes
    await store.untag('hello');
    await store.untag('hello:c1');
    await gcStore({ store });
    expect((await openContainer({ store, name: 'c2' })).readFileSync('/etc/motd', 'utf8')).toBe(
      'welcome to the top layer\n',
    );
    await removeContainer({ store, name: 'c1' });
    await removeContainer({ store, name: 'c2' });
    expect(listContainers({ store })).toEqual([]);
    const report = await gcStore({ store });
    expect(store.blobs.list()).toEqual([]);
    expect(report.removedBlobs.length).toBeGreaterThan(0);
  });
});

describe('committed images and real peers', () => {
  it.skipIf(!hasTool('umoci'))(
    `a committed image unpacks with umoci to the same tree ${hasTool('umoci') ? '' : missingToolMessage('umoci')}`,
    async ({ tmp }) => {
      const { openStore } = await import('../../src/index.js');
      const store = await openStore({ root: `${tmp}/store`, durable: false });
      await importImage({ store, source: HELLO });
      const fs = await mountImage({ store, image: 'hello' });
      await fs.rm('/var/cache', { recursive: true });
      await fs.mkdir('/var/cache');
      await fs.writeFile('/var/cache/again', 'x');
      await fs.symlink('/etc/motd', '/motd');
      await fs.chmod('/bin/hello', 0o4755);
      await fs.commit({ tags: ['hello:c'] });
      execFileSync('umoci', ['unpack', '--image', `${tmp}/store:hello:c`, `${tmp}/bundle`], {
        stdio: 'ignore',
      });
      const walk = execFileSync('sh', ['-c', `cd ${tmp}/bundle/rootfs && find . -mindepth 1 | sort`])
        .toString()
        .trim()
        .split('\n');
      expect(walk).toEqual([
        './bin',
        './bin/hello',
        './etc',
        './etc/motd',
        './etc/os-release',
        './motd',
        './usr',
        './usr/share',
        './usr/share/doc',
        './usr/share/doc/b',
        './var',
        './var/cache',
        './var/cache/again',
      ]);
      await exportImage({
        store,
        image: await loadImage({ store, image: 'hello:c' }),
        format: 'oci-archive',
        output: `${tmp}/c.tar`,
      });
      execFileSync('skopeo', ['copy', `oci-archive:${tmp}/c.tar`, `oci:${tmp}/copy:c`], {
        stdio: 'ignore',
      });
    },
  );
});
