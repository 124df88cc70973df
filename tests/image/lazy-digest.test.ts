import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { createHash } from 'node:crypto';
import { addLayer, flattenImage, listFlat, readFlatFile, writeImage } from '../../src/index.js';
import { LAZY_FILE_HASH_BYTES } from '../../src/layer/layer-indexer.js';

describe('files too big to hash at import', () => {
  it('get their sha256 on first listing, equal to the real digest; reads still work', async ({ store }) => {
    const big = Buffer.alloc(LAZY_FILE_HASH_BYTES + 3, 0x61);
    big[5] = 0x62;
    const small = Buffer.from('small file\n');
    const layer = await addLayer({
      store,
      compression: 'none',
      entries: [
        { header: { path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: big.length }, data: big },
        { header: { path: 'link', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtime: 0, linkTarget: 'big' } },
        {
          header: { path: 'small', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: small.length },
          data: small,
        },
      ],
    });
    expect(layer.index.get('big')?.sha256).toBeUndefined();
    expect(layer.index.get('small')?.sha256).toBeDefined();
    const image = await writeImage({
      store,
      config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } },
      layers: [layer.descriptor],
    });
    const flat = await flattenImage({ store, image });
    const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const listed = Object.fromEntries(listFlat(flat, { recursive: true }).map((e) => [e.path, e.sha256]));
    expect(listed).toEqual({ '/big': hex(big), '/link': hex(big), '/small': hex(small) });
    expect(readFlatFile(flat, '/big').equals(big)).toBe(true);
  });
});
