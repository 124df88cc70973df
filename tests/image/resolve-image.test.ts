/**
 * resolveImageRef: what the docker CLI accepts as an image reference, as a table: a name, a
 * manifest digest or prefix, an image ID (config digest) or prefix, for named images and for
 * images kept without a name; and the CLI commands that take one (inspect, config, digest,
 * manifest, tag, save, rmi) answering to the ID that `build -q` prints.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import {
  build,
  importImage,
  loadImage,
  openStore,
  removeImage,
  resolveImageRef,
  saveImages,
  type Store,
} from '../../src/index.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('resolveImageRef', () => {
  let tmp: string;
  let store: Store;
  let root: string;
  const ids: Record<string, { digest: string; id: string }> = {};
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    root = join(tmp, 'store');
    store = await openStore({ root });
    await importImage({ store, source: HELLO, tags: ['hello:1'] });
    fs.mkdirSync(join(tmp, 'ctx'));
    const result = await build({
      store,
      context: join(tmp, 'ctx'),
      dockerfileText: 'FROM hello:1\nLABEL kept=unnamed\n',
      tags: ['temp:1'],
      sourceDateEpoch: 0,
    });
    // Kept without a name: saved by digest, its name removed, loaded back.
    const archive = join(tmp, 'unnamed.tar');
    await saveImages({ store, images: [result.image.descriptor.digest], output: archive });
    await removeImage({ store, ref: 'temp:1' });
    const imported = await importImage({ store, source: archive });
    const unnamed = imported.images[0]!.image;
    const hello = await loadImage({ store, image: 'hello:1' });
    ids.hello = { digest: hello.descriptor.digest, id: hello.manifest.config.digest };
    ids.unnamed = { digest: unnamed.descriptor.digest, id: unnamed.manifest.config.digest };
  });

  it.each([
    ['hello:1', 'hello', ['hello:1']],
    ['hello.digest', 'hello', ['hello:1']],
    ['hello.digest:12', 'hello', ['hello:1']],
    ['hello.id', 'hello', ['hello:1']],
    ['hello.id:12', 'hello', ['hello:1']],
    ['hello.id:sha256:8', 'hello', ['hello:1']],
    ['unnamed.digest', 'unnamed', []],
    ['unnamed.digest:12', 'unnamed', []],
    ['unnamed.id', 'unnamed', []],
    ['unnamed.id:4', 'unnamed', []],
  ] as Array<[string, 'hello' | 'unnamed', string[]]>)('%s', (spec, which, names) => {
    const [ref, kind, cut] = (() => {
      if (spec === 'hello:1') return [spec];
      const [w, k, n, m] = spec.split(/[.:]/) as [string, 'digest' | 'id', string?, string?];
      return [w, k, n === 'sha256' ? `sha256:${m}` : n];
    })() as [string, ('digest' | 'id')?, string?];
    let query = ref;
    if (kind) {
      const full = ids[ref]![kind];
      query =
        cut === undefined
          ? full
          : cut.startsWith('sha256:')
            ? full.slice(0, 7 + Number(cut.slice(7)))
            : full.slice(7, 7 + Number(cut));
    }
    const resolved = resolveImageRef({ store, query });
    expect(resolved.descriptor.digest).toBe(ids[which]!.digest);
    expect(resolved.names).toEqual(names);
  });

  it.each(['nope:1', 'ffffffffffff', 'sha256:0000'])('%s is ERR_NOT_FOUND', (query) => {
    expect(() => resolveImageRef({ store, query })).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
  });

  it('the CLI commands answer to the ID build -q prints, for named and unnamed images', async () => {
    const run = async (argv: string[]) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(c, _e, done) {
          chunks.push(Buffer.from(c as Buffer));
          done();
        },
      });
      const code = await main(['--store', root, ...argv], { out: sink, err: sink, color: false, debug: false });
      return { code, out: Buffer.concat(chunks).toString() };
    };
    const id = ids.unnamed!.id.slice(7, 19);
    expect((await run(['inspect', '-f', '{{.Id}} {{.Config.Labels}}', id])).out).toBe(
      `${ids.unnamed!.id} map[kept:unnamed]\n`,
    );
    expect((await run(['digest', id])).out).toBe(`${ids.unnamed!.digest}\n`);
    expect((await run(['config', ids.unnamed!.id])).out).toContain('"kept":"unnamed"');
    expect((await run(['tag', id, 'named:1'])).code).toBe(0);
    expect((await run(['digest', 'named:1'])).out).toBe(`${ids.unnamed!.digest}\n`);
    const file = join(tmp, 'by-id.tar');
    expect((await run(['save', ids.hello!.id.slice(7, 19), '-o', file])).code).toBe(0);
    expect(fs.statSync(file).size).toBeGreaterThan(0);
    expect((await run(['rmi', 'named:1'])).code).toBe(0);
    expect((await run(['rmi', id])).code).toBe(0);
    expect((await run(['inspect', id])).code).toBe(1);
  });
});
