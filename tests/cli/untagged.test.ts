/**
 * Untagged images stay visible and kept: a build without -t prints its image ID, `images` lists
 * it as <none> (and `--filter dangling=true` lists only such images), gc keeps it, and once
 * `rmi DIGEST` lets it go, gc names the blobs it deletes.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importImage, openStore } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('untagged images', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    await importImage({ store: await openStore({ root: store }), source: HELLO, tags: ['hello'] });
  });

  it('a build without -t is listed as <none>, survives gc, and goes after rmi DIGEST + gc (named)', async () => {
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM hello\nRUN echo untagged > /u\n');
    const built = await runCli(['--store', store, 'build', '--progress', 'plain', ctx]);
    expect(built.code, built.err).toBe(0);
    const m = /^built (sha256:[0-9a-f]{64}) \(image ID ([0-9a-f]{12})\)$/m.exec(built.out);
    expect(m).not.toBeNull();
    const [, digest, id] = m!;

    const images = (await runCli(['--store', store, 'images'])).out;
    expect(images).toMatch(new RegExp(`^<none> +${digest!.slice(7, 19)} +${id} `, 'm'));
    expect(images).toMatch(/^hello:latest /m);
    const dangling = (await runCli(['--store', store, 'images', '--filter', 'dangling=true'])).out;
    expect(dangling).toMatch(new RegExp(`^<none> +${digest!.slice(7, 19)} `, 'm'));
    expect(dangling).not.toContain('hello:latest');

    const gc = await runCli(['--store', store, 'gc']);
    expect(gc.out).not.toContain(digest!);
    expect((await runCli(['--store', store, 'images'])).out).toContain(digest!.slice(7, 19));

    expect((await runCli(['--store', store, 'rmi', digest!])).code).toBe(0);
    const dry = await runCli(['--store', store, 'gc', '--dry-run']);
    expect(dry.out).toContain(`would delete: ${digest}`);
    const real = await runCli(['--store', store, 'gc']);
    expect(real.out).toContain(`deleted: ${digest}`);
    expect(real.out.replace(/^deleted/gm, 'would delete').replace(/^removed/m, 'would remove')).toBe(dry.out);
    expect((await runCli(['--store', store, 'images'])).out).not.toContain('<none>');
  });
});
