/**
 * Untagged images stay visible and kept: a build without -t prints its image ID, `images` lists
 * it as <none> (and `--filter dangling=true` lists only such images), gc keeps it, and once
 * `rmi DIGEST` lets it go, gc names the blobs it deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { importImage, openStore } from '../../src/index.js';
import { makeTempDir } from '../helpers/tmp.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = { out: [] as Buffer[], err: [] as Buffer[] };
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk, _e, done) {
        into.push(Buffer.from(chunk as Buffer));
        done();
      },
    });
  const output: Output = { out: sink(c.out), err: sink(c.err), color: false, debug: false };
  const code = await main(argv, output);
  return { code, out: Buffer.concat(c.out).toString('utf8'), err: Buffer.concat(c.err).toString('utf8') };
}

describe('untagged images', () => {
  let tmp: { path: string; cleanup: () => void };
  let store: string;
  beforeAll(async () => {
    tmp = makeTempDir('layerkit-untagged-');
    store = join(tmp.path, 'store');
    await importImage({ store: await openStore({ root: store }), source: HELLO, tags: ['hello'] });
  });
  afterAll(() => tmp?.cleanup());

  it('a build without -t is listed as <none>, survives gc, and goes after rmi DIGEST + gc (named)', async () => {
    const ctx = join(tmp.path, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM hello\nRUN echo untagged > /u\n');
    const built = await cli(['--store', store, 'build', '--progress', 'plain', ctx]);
    expect(built.code, built.err).toBe(0);
    const m = /^built (sha256:[0-9a-f]{64}) \(image ID ([0-9a-f]{12})\)$/m.exec(built.out);
    expect(m).not.toBeNull();
    const [, digest, id] = m!;

    const images = (await cli(['--store', store, 'images'])).out;
    expect(images).toMatch(new RegExp(`^<none> +${digest!.slice(7, 19)} +${id} `, 'm'));
    expect(images).toMatch(/^hello:latest /m);
    const dangling = (await cli(['--store', store, 'images', '--filter', 'dangling=true'])).out;
    expect(dangling).toMatch(new RegExp(`^<none> +${digest!.slice(7, 19)} `, 'm'));
    expect(dangling).not.toContain('hello:latest');

    const gc = await cli(['--store', store, 'gc']);
    expect(gc.out).not.toContain(digest!);
    expect((await cli(['--store', store, 'images'])).out).toContain(digest!.slice(7, 19));

    expect((await cli(['--store', store, 'rmi', digest!])).code).toBe(0);
    const dry = await cli(['--store', store, 'gc', '--dry-run']);
    expect(dry.out).toContain(`would delete: ${digest}`);
    const real = await cli(['--store', store, 'gc']);
    expect(real.out).toContain(`deleted: ${digest}`);
    expect(real.out.replace(/^deleted/gm, 'would delete').replace(/^removed/m, 'would remove')).toBe(dry.out);
    expect((await cli(['--store', store, 'images'])).out).not.toContain('<none>');
  });
});
