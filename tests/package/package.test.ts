/**
 * The package as npm users get it: packed, installed from the tarball into a scratch project, its
 * CLI run through `npx`, its types checked by @arethetypeswrong/cli and by TypeScript consumers
 * written as ESM (.mts) and as CommonJS (.cts, `import x = require()`), with and without
 * @types/node, and its size kept under a budget.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { installConsumer, MANIFEST, packPackage, ROOT, withoutTypesNode, type Packed } from './packed.js';

/**
 * Size budgets (bytes), about 25 % above the sizes measured when they were set (724 kB packed,
 * 2.7 MB unpacked): source maps (+5 MB) or a second copy of the library for the CLI (+700 kB)
 * fail here. The bin `cli.cjs` holds only the compile cache and a `require` of the CLI (6 kB).
 * Raising a budget for real growth is fine: update the README's figures too.
 */
const BUDGET = { packed: 1_300_000, unpacked: 4_600_000, cli: 20_000, memo: 100_000 };

let tmp: string;
let packed: Packed;
let withTypes: string;
let withoutTypes: string;

test.beforeAll(({ fileTmp }) => {
  tmp = fileTmp;
  packed = packPackage(tmp);
  withTypes = join(tmp, 'with-types-node');
  installConsumer(withTypes, packed.tarball, { typesNode: true });
  withoutTypes = join(tmp, 'without-types-node');
  withoutTypesNode(withTypes, withoutTypes);
}, 600_000);

/**
 * The files a CommonJS file of dist/ requires at once (itself included: the `require('./x.cjs')`
 * statements at the top level, not the `require("./x.cjs")` of a command loaded when it runs),
 * their bytes and their sources.
 */
function staticClosure(dist: string, file: string): { bytes: number; sources: string[] } {
  const seen = new Map<string, string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const text = readFileSync(join(dist, name), 'utf8');
    seen.set(name, text);
    for (const m of text.matchAll(/^(?:var \w+ = )?require\('\.\/([^']+\.cjs)'\);/gm)) visit(m[1]!);
  };
  visit(file);
  const texts = [...seen.values()];
  const sources = new Set(texts.flatMap((t) => [...t.matchAll(/^\/\/ (src\/\S+)/gm)].map((m) => m[1]!)));
  return { bytes: texts.reduce((n, t) => n + t.length, 0), sources: [...sources] };
}

function npx(
  args: string[],
  cwd = withTypes,
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['--offline', 'layerkit', ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_update_notifier: 'false',
      LAYERKIT_STORE: join(tmp, 'default-store'),
      LAYERKIT_COMPILE_CACHE: join(tmp, 'compile-cache-default'),
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the tarball', () => {
  it('holds the build, README and LICENSE and no source maps or sources', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/cli.cjs']));
    expect(paths).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']),
    );
    expect(paths.filter((p) => p.endsWith('.map') || p.startsWith('src/') || p.startsWith('tests/'))).toEqual([]);
    expect(readFileSync(join(packed.stage, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it(`stays under the size budget (packed ${BUDGET.packed} B, unpacked ${BUDGET.unpacked} B)`, () => {
    expect(packed.size).toBeLessThan(BUDGET.packed);
    expect(packed.unpackedSize).toBeLessThan(BUDGET.unpacked);
  });

  it("has a CLI that shares the library's chunks instead of bundling a second copy", () => {
    const cli = packed.files.find((f) => f.path === 'dist/cli.cjs');
    expect(cli?.size).toBeLessThan(BUDGET.cli);
    const source = readFileSync(join(packed.stage, 'dist/cli.cjs'), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(source).toMatch(/require\("\.\/cli-main\.cjs"\)/);
    expect(source).not.toMatch(/LayerkitError/);
    // A class only the library defines: one file of each format defines it, and the CLI (CommonJS,
    // for the compile cache) uses the one of the library's `require` build. The one exception is the
    // file the executable reads first to answer a build from its memo: self-contained (one read
    // instead of a dozen chunks), small, and nothing it defines is used once the CLI has loaded.
    const memo = packed.files.find((f) => f.path === 'dist/cli-build-memo.cjs');
    expect(memo?.size).toBeLessThan(BUDGET.memo);
    expect(readFileSync(join(packed.stage, 'dist/cli-build-memo.cjs'), 'utf8')).not.toMatch(/require\("\.\//);
    expect(source).toMatch(/require\("\.\/cli-build-memo\.cjs"\)/);
    for (const ext of ['.js', '.cjs']) {
      const defining = packed.files
        .filter((f) => f.path.endsWith(ext) && f.path !== 'dist/cli-build-memo.cjs')
        .filter((f) =>
          /\bLayerkitError = (?:\(_class\d* = )?class\b/.test(readFileSync(join(packed.stage, f.path), 'utf8')),
        );
      expect([ext, defining]).toEqual([ext, [expect.anything()]]);
    }
  });

  it('starts the CLI without the library, and a command with only the modules it reaches', () => {
    const dist = join(packed.stage, 'dist');
    const start = staticClosure(dist, 'cli-main.cjs');
    // `layerkit --version` loads the CLI's own modules and the error classes.
    expect(start.sources.filter((s) => !s.startsWith('src/cli/'))).toEqual(['src/errors.ts']);
    expect(start.bytes).toBeLessThan(60_000);
    // `layerkit images` adds its command module: the store and the image listing, not the builder,
    // the registry client, the runtime, the virtual shell or the Go templates of `inspect`.
    const main = readFileSync(join(dist, 'cli-main.cjs'), 'utf8');
    const images = /require\("\.\/(images-[\w-]+\.cjs)"\)/.exec(main)?.[1];
    expect(images).toBeDefined();
    const listing = staticClosure(dist, images!);
    expect(listing.sources).toContain('src/image/images.ts');
    expect(listing.sources.filter((s) => /^src\/(builder|registry|runtime|shell|union)\/|go-template/.test(s))).toEqual(
      [],
    );
    expect(listing.bytes).toBeLessThan(150_000);
  });

  it('declares what an npm page and a consumer need', () => {
    const manifest = JSON.parse(readFileSync(join(packed.stage, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      license: 'Apache-2.0',
      repository: { type: 'git', url: expect.stringMatching(/github\.com\/layerkit\/layerkit/) },
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: { url: expect.stringMatching(/^https:\/\//) },
      peerDependencies: { '@types/node': expect.any(String) },
      peerDependenciesMeta: { '@types/node': { optional: true } },
    });
    // Libraries take compatible versions (the lock file pins this repository's own installs).
    for (const [name, range] of Object.entries(MANIFEST.dependencies))
      expect([name, range]).toEqual([name, expect.stringMatching(/^\^/)]);
  });

  it('passes @arethetypeswrong/cli (attw --pack): every condition resolves to types of its own format', () => {
    const r = spawnSync(join(ROOT, 'node_modules/.bin/attw'), ['--pack', packed.stage, '--format', 'json'], {
      encoding: 'utf8',
    });
    const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
    expect(r.status).toBe(0);
  });
});

describe('the installed CLI (npx layerkit)', () => {
  it('prints the version', () => {
    expect(npx(['--version'])).toMatchObject({ status: 0, stdout: `${MANIFEST.version}\n` });
  });

  it('prints help', () => {
    const r = npx(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: layerkit /);
    expect(r.stdout).toMatch(/\n {2}images\s/);
  });

  it('lists the images of a store', () => {
    const store = join(tmp, 'store');
    const r = npx(['images', '--store', store]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s/);
  });

  it('keeps a compile cache per command that a second run uses, and works without one', () => {
    const cache = join(tmp, 'compile-cache');
    const store = join(tmp, 'cached-store');
    const env = { LAYERKIT_COMPILE_CACHE: cache };
    const first = npx(['images', '--store', store], withTypes, env);
    const folder = join(cache, `${process.version}-${process.arch}`, 'images');
    const entries = readdirSync(folder);
    // The CLI's entry and the chunks the command loaded, by name, size and modification time.
    expect(entries).toEqual(expect.arrayContaining([expect.stringMatching(/^cli-main\.cjs\.\d+\.\d+$/)]));
    expect(entries.every((e) => /^[\w-]+\.cjs\.\d+\.\d+$/.test(e))).toBe(true);
    const mtimes = entries.map((e) => statSync(join(folder, e)).mtimeMs);
    const second = npx(['images', '--store', store], withTypes, env);
    expect(second).toEqual(first);
    // Served from the cache: nothing was rewritten.
    expect(entries.map((e) => statSync(join(folder, e)).mtimeMs)).toEqual(mtimes);
    // Garbage in every entry: V8 refuses it, the command runs the same, and the entries are rewritten.
    for (const e of entries) writeFileSync(join(folder, e), 'garbage');
    expect(npx(['images', '--store', store], withTypes, env)).toEqual(first);
    expect(entries.every((e) => readFileSync(join(folder, e), 'utf8') !== 'garbage')).toBe(true);
    expect(npx(['images', '--store', store], withTypes, { LAYERKIT_COMPILE_CACHE: '0' })).toEqual(first);
    expect(first).toMatchObject({ status: 0, stderr: '' });
  });

  it('fails on an unknown command with a usage error', () => {
    const r = npx(['no-such-command']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown command "no-such-command"/);
  });
});

const ESM_CONSUMER = `import { LayerkitError, openStore, type Store } from 'layerkit';
import { canonicalJson } from 'layerkit/low-level';
const store: Store = await openStore({ memory: true });
const error: LayerkitError = new LayerkitError('ERR_USAGE', 'x');
console.log('esm', typeof store.blobs, error.code, canonicalJson({ b: 1, a: 2 }));
`;

const CJS_CONSUMER = `import layerkit = require('layerkit');
import lowLevel = require('layerkit/low-level');
async function run(): Promise<void> {
  const store: layerkit.Store = await layerkit.openStore({ memory: true });
  const error: layerkit.LayerkitError = new layerkit.LayerkitError('ERR_USAGE', 'x');
  console.log('cjs', typeof store.blobs, error.code, lowLevel.canonicalJson({ b: 1, a: 2 }));
}
void run();
`;

/** A consumer project's sources and tsconfig (module node16: .mts is ESM, .cts is CommonJS). */
function writeConsumer(dir: string, skipLibCheck: boolean, broken = false): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src/esm.mts'), broken ? ESM_CONSUMER.replace("'x'", '42') : ESM_CONSUMER);
  writeFileSync(join(dir, 'src/cjs.cts'), CJS_CONSUMER);
  const compilerOptions = { module: 'node16', target: 'es2022', strict: true, skipLibCheck, outDir: 'out' };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
}

function tsc(dir: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('TypeScript consumers', () => {
  it('type-check as ESM and as CommonJS with @types/node (strict, library checked too) and run', () => {
    writeConsumer(withTypes, false);
    expect(tsc(withTypes)).toEqual({ status: 0, out: '' });
    const esm = execFileSync(process.execPath, [join(withTypes, 'out/esm.mjs')], { encoding: 'utf8' });
    const cjs = execFileSync(process.execPath, [join(withTypes, 'out/cjs.cjs')], { encoding: 'utf8' });
    expect([esm, cjs]).toEqual(['esm object ERR_USAGE {"a":2,"b":1}\n', 'cjs object ERR_USAGE {"a":2,"b":1}\n']);
  });

  it('report a type error in the consumer (the check is real)', () => {
    const dir = join(tmp, 'broken');
    withoutTypesNode(withTypes, dir);
    writeConsumer(dir, true, true);
    const r = tsc(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/src\/esm\.mts\(4,\d+\): error TS2345/);
  });

  it('without @types/node: skipLibCheck consumers type-check; otherwise the first error names it', () => {
    writeConsumer(withoutTypes, true);
    expect(tsc(withoutTypes)).toEqual({ status: 0, out: '' });
    writeConsumer(withoutTypes, false);
    const r = tsc(withoutTypes);
    expect(r.status).not.toBe(0);
    const errors = r.out.split('\n').filter((l) => / error TS\d+/.test(l));
    // Every error is in declarations under node_modules (the consumer's own code is fine), and the
    // first one says what is missing: "Cannot find type definition file for 'node'".
    expect(errors.filter((l) => !l.startsWith('node_modules/'))).toEqual([]);
    expect(errors[0]).toMatch(/\.d\.c?ts\(1,\d+\): error TS2688: .*'node'/);
  });
});
