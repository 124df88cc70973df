/**
 * What the browser build (tsup.config.ts) needs beyond esbuild's own `platform: 'browser'`: where
 * Node's built-in modules go when the library is bundled for a page.
 *
 * - The library's own platform differences are in `src/platform/` (`#platform`), not here.
 * - `buffer` maps to its npm port (memfs uses it), `events` to browser-events.js (a small
 *   EventEmitter with Node's semantics, checked against node:events), `path` to path-browserify;
 *   `Buffer` and `process` are injected. Archives are written by the project's TarWriter: nothing
 *   imports tar-stream (a dev dependency, kept as an independent check in the tests).
 * - `stream` is not ported (readable-stream was ~25 KB of a page's bundle): the bytes a page
 *   handles flow as async iterables (TarWriter, layerBlob, BlobStore.chunks, the decoders) and web
 *   streams (export). Node's Readable stays where the Node API promises one (`TarWriter.stream`,
 *   `writeLayer().stream`, `BlobStore.open`, the union view's `createReadStream`); in a page those
 *   throw `ERR_UNSUPPORTED`, and memfs's own stream classes, which layerkit never asks for, too.
 * - Every other built-in (and undici) becomes a module whose functions throw
 *   `ERR_UNSUPPORTED` naming what is unsupported and why: the Linux executor, the runtime, stores
 *   on disk, file-path import/export/unpack and registry access need Node. Nothing of them runs when
 *   a page builds in memory; a page that calls one gets a clear error instead of a missing module.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

/** Why each Node-only module is unsupported in a browser (the message of its `ERR_UNSUPPORTED`). */
const UNSUPPORTED: Record<string, string> = {
  fs: 'a page has no filesystem: use openStore({ memory: true }) and a build context { fs, dir }; stores on disk and file-path import, export and unpack need Node',
  'fs/promises': 'a page has no filesystem: use openStore({ memory: true }) and a build context { fs, dir }',
  child_process:
    'a page cannot start processes: the Linux executor, the container runtime (runc), unpack and credential helpers need Node on Linux',
  os: 'a page has no operating system to ask: stores on disk, the Linux executor and registry settings need Node',
  net: 'a page has no sockets: registry access and RUN sandboxes need Node',
  tls: 'a page has no sockets: registry access needs Node',
  worker_threads: 'hashing runs in place in a page',
  module: 'a page loads no CommonJS modules',
  crypto: "the library hashes through its platform module (hash-wasm in a page), not Node's crypto",
  zlib: 'the library compresses through its platform module (fflate in a page), not Node zlib',
  util: 'a page has no util module',
  stream:
    "a page's bytes flow as async iterables and web streams: Node streams (createReadStream, TarWriter.stream, writeLayer's stream) need Node",
  'stream/promises': "a page's bytes flow as async iterables and web streams, not Node stream pipelines",
  'stream/consumers': 'registry access needs Node',
  undici: 'registry access (pull, push, FROM of an image not in the store) uses undici, which needs Node',
  // memfs's tree printing and snapshots, which layerkit never calls (~35 KB of a page's bundle).
  '@jsonjoy.com/fs-print': 'layerkit does not print memfs trees',
  '@jsonjoy.com/fs-snapshot': 'layerkit does not snapshot memfs volumes',
  'memfs glob': 'layerkit does not glob memfs volumes (fs.glob)',
};

/** Built-ins with a browser port: the import is redirected to the package. */
const PORTS: Record<string, string> = {
  buffer: require.resolve('buffer/'),
  // A small EventEmitter of our own (memfs's FileHandle extends it), not the ~6 KB npm port.
  events: resolve('scripts/browser-events.js'),
  path: require.resolve('path-browserify'),
  'path/posix': require.resolve('path-browserify'),
};

const ERRORS = resolve('src/errors.ts');

/**
 * The library's own modules that only work on Node: in a page their functions and classes throw
 * `ERR_UNSUPPORTED` with the reason given here, and their code (about 25 KB gzipped) stays out of
 * the bundle. Their constants are kept when they are plain values. Modules that other, portable
 * ones call (the snapshotter and container state, which gc reads) are not listed.
 */
const REGISTRY_REASON =
  'registry access (pull, push, login, a FROM image that is not in the store) uses undici, which needs Node';
const RUNTIME_REASON = 'running containers needs runc, mounts and processes: Node on Linux';
const LINUX_REASON = 'the Linux executor runs RUN with the kernel (namespaces, overlayfs, runc): Node on Linux';
const NODE_ONLY_SOURCES: Record<string, string> = Object.fromEntries([
  ...[
    'client',
    'pull',
    'pull-all-tags',
    'push',
    'login',
    'tags',
    'cache-remote',
    'lazy-open',
    'lazy-range',
    'lazy-cache',
  ].map((f) => [resolve(`src/registry/${f}.ts`), REGISTRY_REASON]),
  ...['run-container', 'lifecycle', 'monitor', 'prepare'].map((f) => [resolve(`src/runtime/${f}.ts`), RUNTIME_REASON]),
  ...['linux', 'linux-runc'].map((f) => [resolve(`src/builder/executors/${f}.ts`), LINUX_REASON]),
]);

/** A stand-in for one of {@link NODE_ONLY_SOURCES}, from its exports as written. */
function nodeOnlySource(file: string): string {
  const text = readFileSync(file, 'utf8');
  const lines = [
    `import { LayerkitError } from ${JSON.stringify(ERRORS)};`,
    `import { MediaTypes } from ${JSON.stringify(resolve('src/oci/media-types.ts'))};`,
    `const reason = ${JSON.stringify(NODE_ONLY_SOURCES[file])};`,
    'function fail(feature: string): any {',
    '  return function unsupported() {',
    "    throw new LayerkitError('ERR_UNSUPPORTED', `${feature} is not supported in a browser: ${reason}`, { feature, reason });",
    '  };',
    '}',
    'void MediaTypes;',
  ];
  for (const m of text.matchAll(/^export (?:async )?(?:function\*?|class) (\w+)/gm))
    lines.push(`export const ${m[1]} = fail('${m[1]}');`);
  // A constant is kept when its initializer is literals and MediaTypes only (else it is undefined here).
  for (const m of text.matchAll(/^export const (\w+)([^=]*)=([\s\S]*?);$/gm)) {
    const words = m[3]!.replace(/'[^']*'|"[^"]*"/g, '').match(/[A-Za-z_$][\w$]*/g) ?? [];
    const plain = words.every(
      (w) => w === 'MediaTypes' || w === 'join' || /^(ociIndex|ociManifest|docker\w+|oci\w+)$/.test(w),
    );
    lines.push(plain ? `export const ${m[1]}${m[2]}=${m[3]};` : `export const ${m[1]}: any = undefined;`);
  }
  return lines.join('\n');
}

/**
 * The source of a module standing in for `name`: a CommonJS module whose every property is a
 * function throwing `ERR_UNSUPPORTED` (constant tables, `fs.constants`, stay data). esbuild's
 * interop reads named imports through the module's prototype, which is a Proxy, so the stub
 * needs no list of names.
 */
function unsupportedModule(name: string): string {
  const feature = isPackage(name) ? name : `node:${name}`;
  const real = (name.includes(' ') ? {} : require(feature)) as Record<string, unknown>;
  const constants =
    real.constants !== null && typeof real.constants === 'object' ? safeJson(real.constants) : 'undefined';
  return [
    `const { LayerkitError } = require(${JSON.stringify(ERRORS)});`,
    `const feature = ${JSON.stringify(feature)};`,
    `const reason = ${JSON.stringify(UNSUPPORTED[name]!)};`,
    `const constants = ${constants};`,
    'const failing = new Proxy({}, {',
    '  get(_, key) {',
    "    if (typeof key !== 'string' || key === 'then' || key === '__esModule') return undefined;",
    "    if (key === 'constants' && constants !== undefined) return constants;",
    '    return function unsupported() {',
    "      throw new LayerkitError('ERR_UNSUPPORTED', `${feature} ${key} is not supported in a browser: ${reason}`, { feature: `${feature} ${key}`, reason });",
    '    };',
    '  },',
    '});',
    'module.exports = new Proxy({}, { getPrototypeOf: () => failing, get: (_, key) => failing[key] });',
  ].join('\n');
}

function isPackage(name: string): boolean {
  return name === 'undici' || name.startsWith('@') || name.includes(' ');
}

/** Built-ins written here: the parts a page has (URL) or that a port exports under another name. */
const VIRTUAL: Record<string, string> = {
  url: [
    'export const URL = globalThis.URL;',
    'export const URLSearchParams = globalThis.URLSearchParams;',
    'export default { URL, URLSearchParams };',
  ].join('\n'),
};

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return 'undefined';
  }
}

/** The esbuild plugin that applies the mapping above. */
export const browserBuiltins = {
  name: 'layerkit-browser-builtins',
  setup(build: {
    onResolve(
      options: { filter: RegExp; namespace?: string },
      callback: (args: {
        path: string;
        importer: string;
      }) => { path: string; namespace?: string; sideEffects?: boolean } | undefined,
    ): void;
    onLoad(
      options: { filter: RegExp; namespace?: string },
      callback: (args: { path: string }) => { contents: string; loader: 'js'; resolveDir: string } | undefined,
    ): void;
  }) {
    // memfs's glob (fs.glob), which the volume loads and layerkit never calls.
    build.onResolve({ filter: /^\.\/glob$/ }, (args) =>
      /@jsonjoy\.com\/fs-node\/lib\/(volume|index|FsPromises)\.js$/.test(args.importer)
        ? { path: 'memfs glob', namespace: 'layerkit-unsupported' }
        : undefined,
    );
    build.onResolve({ filter: /^(node:)?[a-z_/]+$|^undici$|^@jsonjoy\.com\/fs-(print|snapshot)$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      const port = PORTS[name];
      if (port !== undefined) return { path: port };
      if (name in VIRTUAL) return { path: name, namespace: 'layerkit-virtual' };
      if (name in UNSUPPORTED) return { path: name, namespace: 'layerkit-unsupported' };
      return undefined;
    });
    build.onLoad({ filter: /\/src\/(registry|runtime|builder\/executors)\/[a-z-]+\.ts$/ }, (args) =>
      args.path in NODE_ONLY_SOURCES
        ? { contents: nodeOnlySource(args.path), loader: 'ts' as 'js', resolveDir: resolve('src') }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'layerkit-virtual' }, (args) => ({
      contents: VIRTUAL[args.path]!,
      loader: 'js',
      resolveDir: resolve('.'),
    }));
    build.onLoad({ filter: /.*/, namespace: 'layerkit-unsupported' }, (args) => ({
      contents: unsupportedModule(args.path),
      loader: 'js',
      resolveDir: resolve('.'),
    }));
  },
};

/** The module injected into the browser build for the `Buffer` and `process` globals. */
export const browserGlobals = resolve('scripts/browser-globals.js');

/**
 * Builds the browser bundle into `outDir`: `index.js` and `low-level.js` (the package's two entries)
 * and the chunks they share, minified ES modules for `platform: 'browser'`, with `#platform`
 * resolved to src/platform/browser.ts through package.json's `browser` import condition. Called
 * by tsup.config.ts after the Node build, and by tests/browser.
 */
export async function buildBrowser({ outDir }: { outDir: string }): Promise<BrowserBuild> {
  const result = await esbuild.build({
    entryPoints: { index: 'src/index.ts', 'low-level': 'src/low-level.ts' },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    splitting: true,
    minify: true,
    inject: [browserGlobals],
    define: { global: 'globalThis' },
    plugins: [browserBuiltins as unknown as esbuild.Plugin],
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  if (result.errors.length > 0)
    throw new Error(`the browser build failed: ${result.errors.map((e) => e.text).join('; ')}`);
  const outputs = result.metafile.outputs;
  /** A file and every file it imports, statically or dynamically (what a page may load for it). */
  const closure = (file: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const i of outputs[file]?.imports ?? []) if (!i.external) closure(i.path, seen);
    return seen;
  };
  const entry = (name: string): string[] => {
    const file = Object.keys(outputs).find((f) => outputs[f]!.entryPoint !== undefined && f.endsWith(`/${name}.js`));
    return file === undefined ? [] : [...closure(file)].map((f) => resolve(f));
  };
  const named = (f: string) => (f.includes(':') ? f : resolve(f));
  const inputs = Object.keys(result.metafile.inputs).map(named);
  const bundled = new Set<string>();
  for (const o of Object.values(outputs))
    for (const [f, { bytesInOutput }] of Object.entries(o.inputs)) if (bytesInOutput > 0) bundled.add(named(f));
  return {
    files: Object.keys(outputs).map((f) => resolve(f)),
    index: entry('index'),
    lowLevel: entry('low-level'),
    inputs,
    bundled: [...bundled].sort(),
  };
}

/** What {@link buildBrowser} wrote: every file, and the files each entry loads. */
export interface BrowserBuild {
  files: string[];
  /** `index.js` and the chunks it imports. */
  index: string[];
  /** `low-level.js` and the chunks it imports. */
  lowLevel: string[];
  /**
   * Every module bundled: absolute paths, and `namespace:name` for the modules written here
   * (`layerkit-unsupported:stream` is the throwing stand-in for `node:stream`).
   */
  inputs: string[];
  /** The modules of {@link BrowserBuild.inputs} with code in the output (a module tree-shaken away has none). */
  bundled: string[];
}
