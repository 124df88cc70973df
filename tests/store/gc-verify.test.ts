import { layerIndexGcRoot } from '../../src/layer/layer-state.js';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';
import { MediaTypes } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { collectGarbage } from '../../src/store/gc.js';
import { openStore, type Store } from '../../src/store/store.js';
import { verifyBlobs } from '../../src/store/verify.js';
import { STORE_KINDS } from '../helpers/stores.js';

/** Puts a tiny image (config + one layer + manifest) and returns the manifest descriptor and its parts. */
async function putImage(store: Store, label: string) {
  const layer = await store.blobs.put(`layer-${label}`);
  const config = await store.blobs.put(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }),
  );
  const manifest = await store.blobs.put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, ...config },
      layers: [{ mediaType: MediaTypes.ociLayer, ...layer }],
    }),
  );
  const descriptor: Descriptor = { mediaType: MediaTypes.ociManifest, ...manifest };
  return { descriptor, layer, config };
}

describe.each(STORE_KINDS)('gc and verify ($name store)', (kind) => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    ({ store, cleanup } = await kind.make());
  });
  afterEach(() => cleanup());

  it('keeps what refs, roots and leases reach and removes the rest', async () => {
    const kept = await putImage(store, 'kept');
    const rooted = await putImage(store, 'rooted');
    const dropped = await putImage(store, 'dropped');
    await store.tag('kept', kept.descriptor);
    store.setRoot('containers', 'c1', { digests: [rooted.descriptor.digest] });
    const stray = await store.blobs.put('stray');
    store.fs.mkdirSync(store.statePath('layers', dropped.layer.digest.slice(7)), { recursive: true });
    store.fs.writeFileSync(store.statePath('layers', dropped.layer.digest.slice(7), 'index'), 'x');
    store.fs.mkdirSync(store.statePath('layers', kept.layer.digest.slice(7)), { recursive: true });

    let leased = '';
    const report = await store.withLease(async (lease) => {
      const inflight = await store.blobs.put('written but not tagged yet');
      lease.add(inflight.digest);
      leased = inflight.digest;
      return collectGarbage({ store, roots: [layerIndexGcRoot] });
    });
    expect(new Set(report.removedBlobs)).toEqual(
      new Set([dropped.descriptor.digest, dropped.config.digest, dropped.layer.digest, stray.digest]),
    );
    expect(report.swept[layerIndexGcRoot.name]).toEqual([dropped.layer.digest]);
    for (const d of [kept, rooted]) {
      for (const digest of [d.descriptor.digest, d.config.digest, d.layer.digest])
        expect(store.blobs.has(digest)).toBe(true);
    }
    expect(store.blobs.has(leased as never)).toBe(true);
    // The lease has ended: the next gc takes the untagged blob.
    const second = await collectGarbage({ store });
    expect(second.removedBlobs).toEqual([leased]);
    store.removeRoot('containers', 'c1');
    const third = await collectGarbage({ store, dryRun: true });
    expect(third.removedBlobs).toHaveLength(3);
    expect(store.blobs.has(rooted.descriptor.digest)).toBe(true);
  });

  it('verify reports nothing on a sound store and every problem on a damaged one', async () => {
    const a = await putImage(store, 'a');
    const b = await putImage(store, 'b');
    await store.tag('a', a.descriptor);
    await store.tag('b', b.descriptor);
    expect((await verifyBlobs({ store })).problems).toEqual([]);

    // flip a byte of a's layer; delete b's config; make a descriptor lie about its size
    const path = store.blobs.path(a.layer.digest);
    const bytes = Buffer.from(store.fs.readFileSync(path));
    bytes[0]! ^= 1;
    store.fs.chmodSync(path, 0o644);
    store.fs.writeFileSync(path, bytes);
    store.blobs.delete(b.config.digest);
    const liar = await putImage(store, 'liar');
    await store.tag('liar', { ...liar.descriptor, size: liar.descriptor.size + 1 });

    const { problems } = await verifyBlobs({ store });
    const summary = problems.map((p) => `${p.code} ${p.digest}`).sort();
    expect(summary).toEqual(
      [`EINTEGRITY ${a.layer.digest}`, `ERR_NOT_FOUND ${b.config.digest}`, `EBADSIZE ${liar.descriptor.digest}`].sort(),
    );
  });
});

describe('crash safety', () => {
  it('a writer killed mid-put leaves no blob under any digest, and gc removes its temp file', async ({ tmp }) => {
    const root = `${tmp}/store`;
    await openStore({ root, durable: false });
    const script = `
      import { openStore } from '${process.cwd()}/src/store/store.ts';
      const store = await openStore({ root: process.argv[1], durable: false });
      async function* forever() { for (;;) { yield Buffer.alloc(1 << 16, 7); await new Promise((r) => setTimeout(r, 1)); } }
      process.stdout.write('started\\n');
      await store.blobs.put(forever());`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const store = await openStore({ root });
    expect(store.blobs.list()).toEqual([]);
    expect(store.listState('tmp').length).toBe(1);
    const report = await collectGarbage({ store });
    expect(report.removedTempFiles).toBe(1);
    expect(store.listState('tmp')).toEqual([]);
  });
});
