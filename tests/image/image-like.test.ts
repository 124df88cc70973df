/**
 * Functions that read an image take it however the caller has it — a ref name, a digest or a
 * unique digest prefix, a descriptor, or a loaded image — and do the same thing with each.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyzeImage,
  exportImage,
  flattenImage,
  importImage,
  listFlat,
  loadImage,
  openStore,
  squashImage,
  type Image,
  type ImageLike,
  type Store,
} from '../../src/index.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('an image given as a name, digest, prefix, descriptor or loaded image', () => {
  let tmp: string;
  let store: Store;
  let image: Image;
  let forms: Array<[string, ImageLike]>;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = await openStore({ root: join(tmp, 'store'), durable: false });
    await importImage({ store, source: HELLO });
    image = await loadImage({ store, image: 'hello:latest' });
    forms = [
      ['a name', 'hello:latest'],
      ['a digest', image.descriptor.digest],
      ['a digest prefix', image.descriptor.digest.slice(7, 19)],
      ['a descriptor', image.descriptor],
      ['a loaded image', image],
    ];
  });

  it('exportImage writes the same archive for every form', async () => {
    const bytes = new Set<string>();
    for (const [label, form] of forms) {
      const output = join(tmp, `${label.replace(/ /g, '-')}.tar`);
      await exportImage({ store, image: form, format: 'docker-archive', output, name: 'hello:latest' });
      bytes.add(fs.readFileSync(output).toString('base64'));
    }
    expect(bytes.size).toBe(1);
  });

  it('flattenImage, squashImage and analyzeImage agree across forms', async () => {
    const listings = new Set<string>();
    const squashed = new Set<string>();
    const analyzed = new Set<string>();
    for (const [, form] of forms) {
      listings.add(JSON.stringify(listFlat(await flattenImage({ store, image: form }), { recursive: true })));
      squashed.add((await squashImage({ store, image: form, sourceDateEpoch: 0 })).descriptor.digest);
      analyzed.add((await analyzeImage({ store, image: form })).image.digest);
    }
    expect(listings.size).toBe(1);
    expect(squashed.size).toBe(1);
    expect([...analyzed]).toEqual([image.descriptor.digest]);
  });

  it('a name the store does not hold is ERR_NOT_FOUND naming it, before anything is written', async () => {
    const output = join(tmp, 'never.tar');
    await expect(exportImage({ store, image: 'nope:1', format: 'oci-archive', output })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringContaining('nope:1') as unknown,
    });
    expect(fs.existsSync(output)).toBe(false);
  });
});
