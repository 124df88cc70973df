/**
 * `build` checks every -t, --build-arg, --target and -f before the first step, as docker does:
 * a bad one fails with its code, no step event is emitted, nothing runs (the RUN would leave a
 * mark on the host), and the store keeps exactly the blobs it had.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { build, importImage, openStore } from '../../src/index.js';
import { captureOutput } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('build options are checked before the first step', () => {
  let tmp: string;
  let store: string;
  let ctx: string;
  const blobs = () => fs.readdirSync(join(store, 'blobs', 'sha256')).sort();
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    await importImage({ store: await openStore({ root: store }), source: HELLO, tags: ['hello'] });
    ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM hello AS base\nRUN echo ran > /ran\nFROM base AS final\nRUN echo two\n',
    );
  });

  it.each([
    [['-t', 'Bad:Tag'], 'ERR_INVALID_REFERENCE', /"Bad" is not a valid name component/],
    [['-t', 'ok:1', '-t', 'app:bad tag'], 'ERR_INVALID_REFERENCE', /invalid reference "app:bad tag"/],
    [['-t', 'UPPER'], 'ERR_INVALID_REFERENCE', /invalid reference "UPPER"/],
    [['--build-arg', '1X=2'], 'ERR_USAGE', /--build-arg "1X=2"/],
    [['--build-arg', '=v'], 'ERR_USAGE', /--build-arg "=v"/],
    [
      ['--target', 'nope'],
      'ERR_BUILD_STAGE',
      /target stage "nope" could not be found[\s\S]*hint: --target takes a stage name: base, final/,
    ],
    [['-f', 'no/such/Dockerfile'], 'ERR_BUILD_CONTEXT', /cannot read the Dockerfile/],
    [['--progress', 'fancy'], 'ERR_USAGE', /--progress "fancy"/],
    [['--platform', 'linux'], 'ERR_USAGE', /invalid platform "linux"/],
  ])('build %j fails with error[%s] and runs nothing', async (flags, code, says) => {
    const before = blobs();
    const c = captureOutput();
    const exit = await main(['--store', store, 'build', '--progress', 'json', ...flags, ctx], c.output);
    expect(exit).not.toBe(0);
    expect(c.err()).toMatch(new RegExp(`error\\[${code}\\]: `));
    expect(c.err()).toMatch(says);
    const events = c
      .out()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type !== 'error')).toEqual([]);
    expect(blobs()).toEqual(before);
  });

  it('the library checks tags before the first step too', async () => {
    const events: string[] = [];
    await expect(
      build({
        store: await openStore({ root: store }),
        context: ctx,
        tags: ['Bad:Tag'],
        onEvent: (e) => events.push(e.type),
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_REFERENCE' });
    expect(events).toEqual([]);
  });

  it('the same build with good options runs (the cases above differ only in the option)', async () => {
    const c = captureOutput();
    const exit = await main(
      ['--store', store, 'build', '--progress', 'plain', '-t', 'ok:1', '--target', 'final', ctx],
      c.output,
    );
    expect(exit, c.err()).toBe(0);
  });
});
