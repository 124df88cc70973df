/**
 * Every error code has its own hint, made specific by the error's data and the command line:
 * a table over ErrorCodes (a new code without a row fails here), then the cases that used to
 * get a wrong or generic hint, through the real command line.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { HINTED_CODES, hintFor, type HintContext } from '../../src/cli/hints.js';
import { reportError } from '../../src/cli/output.js';
import {
  ErrorCodes,
  FsError,
  importImage,
  LayerkitError,
  loadImage,
  openStore,
  type ErrorCode,
} from '../../src/index.js';
import { captureOutput } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

const GENERIC = /run again with --debug/;

/** Each code: the data and command line of a typical error, and what its hint must say. */
const TABLE: Record<ErrorCode, { data?: Record<string, unknown>; ctx?: HintContext; says: RegExp }> = {
  EINTEGRITY: { data: { digest: 'sha256:ab' }, says: /layerkit verify/ },
  EBADSIZE: { data: { digest: 'sha256:ab' }, says: /layerkit verify/ },
  ERR_NOT_FOUND: { data: { ref: 'nope:1' }, ctx: { command: 'history', args: ['nope:1'] }, says: /layerkit images/ },
  ERR_AMBIGUOUS_REF: { says: /more characters of the digest/ },
  ERR_INVALID_DIGEST: { says: /sha256: followed by 64 hex/ },
  ERR_INVALID_REFERENCE: { ctx: { command: 'tag' }, says: /name\[:tag\]/ },
  ERR_INVALID_MANIFEST: { says: /damaged/ },
  ERR_UNSUPPORTED_MEDIA_TYPE: { says: /skopeo inspect --raw/ },
  ERR_UNSUPPORTED_COMPRESSION: { says: /--dest-compress-format gzip/ },
  ERR_LAYER_FORMAT: { says: /damaged/ },
  ERR_UNSAFE_PATH: { ctx: { command: 'import' }, says: /malicious/ },
  ERR_LIMIT_EXCEEDED: { says: /malicious/ },
  ERR_ARCHIVE_FORMAT: { says: /damaged/ },
  ERR_NO_MATCHING_PLATFORM: { says: /--platform OS\/ARCH/ },
  ERR_LOCKED: { says: /another layerkit process/ },
  ERR_STORE_CORRUPT: { says: /--store/ },
  ERR_CONTAINER: { data: { name: 'box' }, says: /layerkit rm box/ },
  ERR_DOCKERFILE_SYNTAX: { data: { line: 3 }, says: /Dockerfile at line 3/ },
  ERR_DOCKERFILE_UNKNOWN_INSTRUCTION: { data: { line: 2 }, says: /Dockerfile at line 2/ },
  ERR_DOCKERFILE_ARGUMENTS: { data: { line: 4 }, says: /Dockerfile at line 4/ },
  ERR_DOCKERFILE_FLAG: { data: { line: 5 }, says: /Dockerfile at line 5/ },
  ERR_DOCKERFILE_EXPANSION: { data: { line: 6 }, says: /--build-arg NAME=VALUE/ },
  ERR_IGNORE_PATTERN: { says: /\.dockerignore/ },
  ERR_BUILD_STEP: { data: { line: 7 }, says: /step at line 7 failed/ },
  ERR_BUILD_EXIT_CODE: { data: { exitCode: 1 }, says: /--show-logs/ },
  ERR_BUILD_BASE_NOT_FOUND: { data: { image: 'alpine:3' }, says: /layerkit import IMAGE\.tar --tag alpine:3/ },
  // (the --pull never and registry-failure hints are checked in tests/registry/build-pull.test.ts)
  ERR_BUILD_STAGE: { says: /FROM IMAGE AS NAME/ },
  ERR_BUILD_CONTEXT: { says: /build context/ },
  ERR_UNSUPPORTED: { ctx: { command: 'build' }, says: /--executor linux/ },
  ERR_ABORTED: { says: /interrupted/ },
  ERR_USAGE: { ctx: { command: 'unpack' }, says: /^run 'layerkit unpack --help'/ },
  ERR_UNION_LOWER_MISMATCH: { says: /create it again/ },
  ERR_CONTAINER_STATE: { says: /layerkit ps -a/ },
  ERR_CONTAINER_USER: { says: /\/etc\/passwd/ },
  ERR_CONTAINER_COMMAND: { data: { exitCode: 127 }, says: /not in the image/ },
  ERR_RUNTIME: { says: /runc/ },
  ERR_REGISTRY: { data: { status: 404 }, says: /no such manifest/ },
  ERR_REGISTRY_AUTH: { says: /layerkit login/ },
  ERR_REGISTRY_TLS: { says: /--insecure/ },
  ERR_REGISTRY_PROXY: { says: /NO_PROXY/ },
};

describe('hints', () => {
  it('the table covers every error code, and the CLI has a hint for each', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.values(ErrorCodes).sort());
    expect([...HINTED_CODES].sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it.each(Object.entries(TABLE))('%s has its own hint', (code, row) => {
    const hint = hintFor(new LayerkitError(code as ErrorCode, 'x', row.data ?? {}), row.ctx ?? {});
    expect(hint).toMatch(row.says);
    expect(hint).not.toMatch(GENERIC);
    expect(hint).not.toContain('COMMAND');
  });

  it('no two codes of different kinds share a generic fallback: most hints are distinct', () => {
    const hints = new Set(
      Object.entries(TABLE).map(([code, row]) =>
        hintFor(new LayerkitError(code as ErrorCode, 'x', row.data ?? {}), row.ctx),
      ),
    );
    expect(hints.size).toBeGreaterThanOrEqual(Object.keys(TABLE).length - 8);
  });

  it.each([
    [
      new FsError('EISDIR', 'read', '/etc'),
      { command: 'cat', args: ['hello', '/etc'] },
      /'layerkit ls hello \/etc' lists it/,
    ],
    [new FsError('ENOENT', 'open', '/x'), { command: 'import' }, /check the path/],
    [Object.assign(new Error('EACCES'), { code: 'EACCES' }), {}, /permissions/],
  ])('fs error %s gets a hint of its own', (err, ctx, says) => {
    expect(hintFor(err, ctx)).toMatch(says);
  });

  it('an unexpected error is a bug: it asks for --debug', () => {
    expect(hintFor(new TypeError('boom'))).toMatch(/bug in layerkit; run again with --debug/);
  });

  it('a step error wrapping another error gets the inner error hint', () => {
    const inner = new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, 'missing', { path: 'x' });
    const outer = new LayerkitError(ErrorCodes.ERR_BUILD_STEP, 'step failed', { line: 3 }, { cause: inner });
    expect(hintFor(outer, { command: 'build' })).toMatch(/build context/);
  });

  it('usage errors print error[ERR_USAGE], never error[usage]', () => {
    const c = captureOutput();
    expect(reportError(c.output, new LayerkitError(ErrorCodes.ERR_USAGE, 'bad'), { command: 'ls' })).toBe(2);
    expect(c.err()).toBe("error[ERR_USAGE]: bad\nhint: run 'layerkit ls --help' for its arguments and options\n");
  });
});

describe('hints through the command line', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    await importImage({ store: await openStore({ root: store }), source: HELLO, tags: ['hello'] });
  });

  const run = async (argv: string[]) => {
    const c = captureOutput();
    const code = await main(['--store', store, ...argv], c.output);
    // A build's progress comes first on stderr; the error and its hint are the last two lines.
    const all = c
      .err()
      .split('\n')
      .filter((l) => l !== '');
    const at = all.findIndex((l) => l.startsWith('error['));
    const [first, hint, ...rest] = all.slice(at);
    expect(rest).toEqual([]);
    return { code, first: first!, hint: hint!.replace(/^hint: /, '') };
  };

  it.each([
    [['exec', 'nobox', '--', 'true'], 'ERR_NOT_FOUND', /'layerkit containers' lists the containers/],
    [['ls', 'hello', '/nope'], 'ERR_NOT_FOUND', /'layerkit ls hello \/' lists what is there/],
    [['ls', 'hello', '/etc/nope'], 'ERR_NOT_FOUND', /'layerkit ls hello \/etc' lists what is there/],
    [['ls', 'nope:1'], 'ERR_NOT_FOUND', /'layerkit images' lists the images/],
    [['frobnicate'], 'ERR_USAGE', /layerkit --help/],
    [['images', 'a:1', 'b:1'], 'ERR_USAGE', /layerkit images --help/],
    [['cat', 'hello', '/etc'], 'EISDIR', /'layerkit ls hello \/etc' lists it/],
  ])('layerkit %j → error[%s] with a hint of its own', async (argv, code, says) => {
    const r = await run(argv);
    expect(r.first).toMatch(new RegExp(`^error\\[${code}\\]: `));
    expect(r.hint).toMatch(says);
  });

  it('unpack into a non-empty folder names the command, not COMMAND', async () => {
    const dir = join(tmp, 'full');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'x'), '');
    const r = await run(['unpack', 'hello', dir]);
    expect(r.code).toBe(2);
    expect(r.hint).toBe("run 'layerkit unpack --help' for its arguments and options");
  });

  it('a build error ends with a hint of its own, not "run again with --debug"', async () => {
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM hello\nRUN nosuchtool --version\n');
    const r = await run(['build', '--progress', 'plain', ctx]);
    expect(r.code).toBe(1);
    expect(r.first).toMatch(/^error\[ERR_BUILD_EXIT_CODE\]/);
    expect(r.hint).toMatch(/--executor linux/);
    expect(r.hint).not.toMatch(GENERIC);
  });

  it('library errors say what went wrong, not which CLI command to type (a memory store has no CLI)', async () => {
    const memory = await openStore({ root: join(tmp, 'store') });
    const err = (await loadImage({ store: memory, image: 'nope:1' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(LayerkitError);
    expect(err.message).not.toMatch(/'layerkit /);
  });
});
