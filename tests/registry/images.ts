/** Small generated images for the registry tests. */
import { randomBytes } from 'node:crypto';
import { addLayer, writeImage, type Image, type Store } from '../../src/index.js';
import { compareTarPaths, type LayerEntryInput } from '../../src/low-level.js';

/** Makes an image of `layers` (each a map of path → contents) and tags it. */
export async function makeImage(
  store: Store,
  tag: string,
  layers: Array<Record<string, string | Buffer>>,
  options: { compression?: 'gzip' | 'none' } = {},
): Promise<Image> {
  const added = [];
  for (const files of layers) {
    const entries: LayerEntryInput[] = [];
    const dirs = new Set<string>();
    for (const path of Object.keys(files)) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    for (const d of dirs)
      entries.push({ header: { path: d, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } });
    for (const [path, content] of Object.entries(files)) {
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
      entries.push({ header: { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length }, data });
    }
    entries.sort((a, b) => compareTarPaths(a.header.path, b.header.path));
    added.push(await addLayer({ store, entries, sourceDateEpoch: 0, compression: options.compression ?? 'gzip' }));
  }
  return writeImage({
    store,
    config: {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: added.map((l) => l.diffId) },
      history: added.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `layer ${i}` })),
    },
    layers: added.map((l) => l.descriptor),
    tags: [tag],
  });
}

/** Incompressible bytes (so blob sizes are what the test asks for). */
export function noise(size: number): Buffer {
  return randomBytes(size);
}

/** Every blob and ref of a store, to compare before and after a failure. */
export function storeSnapshot(store: Store): { blobs: string[]; refs: string[]; layers: string[] } {
  return {
    blobs: store.blobs.list(),
    refs: store.listRefs().map((r) => `${r.name}=${r.descriptor.digest}`),
    layers: store.listState('layers'),
  };
}
