import { join, resolve } from 'node:path';
import { defineConfig } from 'tsup';
import { buildBrowser } from './scripts/browser-build.js';

/**
 * The CLI's entry, by source file and by the file the library build writes for it. `cli.cjs` (the
 * bin, which needs a `#!` line no other file should get) is built on its own: it installs the
 * compile cache (src/cli/compile-cache.ts) and then requires the CLI, whose import this plugin
 * turns into a `require` of the CommonJS `cli-main.cjs` (V8 caches the bytecode of CommonJS
 * scripts only), so the CLI shares the chunks of the library's `require` build and the library
 * ships once per format. The bin is CommonJS too: an ES module entry costs Node's ES module loader.
 */
const ENTRIES: Record<string, string> = {
  [resolve('src/cli/main.ts')]: './cli-main.cjs',
  [resolve('src/cli/build-memo.ts')]: './cli-build-memo.cjs',
};

const libraryExternal = {
  name: 'layerkit-library-external',
  setup(build: {
    onResolve(
      options: { filter: RegExp },
      callback: (args: { path: string; resolveDir: string }) => { path: string; external: true } | undefined,
    ): void;
  }) {
    build.onResolve({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith('.')) return undefined;
      const built = ENTRIES[resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'))];
      return built ? { path: built, external: true } : undefined;
    });
  },
};

/** The library's entries (the CLI's is added to the CommonJS build only). */
const LIBRARY = { index: 'src/index.ts', 'low-level': 'src/low-level.ts' };

/**
 * The types of each format (index.d.ts for import, index.d.cts for require), with `@internal`
 * items left out. The types use Buffer, streams and NodeJS.* from @types/node (an optional peer
 * dependency): the reference makes a missing one a single clear error (TS2688) instead of dozens
 * of unknown names.
 */
const dts = {
  entry: LIBRARY,
  compilerOptions: { stripInternal: true },
  banner: '/// <reference types="node" />',
};

export default defineConfig((cli) => [
  {
    // The ES modules of the library's entries, splitting code into chunks they share.
    entry: LIBRARY,
    format: ['esm'],
    splitting: true,
    dts,
    // No source maps in the package: they embedded every source (5.4 MB of 8.2 MB unpacked).
    sourcemap: false,
    clean: true,
    target: 'node20',
    // The browser build (package.json `exports` condition `browser`): dist/browser/, built by
    // esbuild directly (tsup would leave Node's built-ins as imports): scripts/browser-build.ts.
    onSuccess: async () => {
      await buildBrowser({ outDir: join(cli.outDir ?? 'dist', 'browser') });
    },
  },
  {
    // CommonJS for require() and for the CLI: the entries share chunks, so low-level and index hold
    // one copy of each module (one LayerkitError class, one set of module state), and a CLI command
    // loads only the chunks its module reaches (the CLI requires each command's module when it
    // runs), each compiled from the bytecode cache when there is one.
    entry: { ...LIBRARY, 'cli-main': 'src/cli/main.ts' },
    format: ['cjs'],
    splitting: true,
    // import.meta.url (the lazy createRequire of third-party packages) in CommonJS too.
    shims: true,
    dts,
    sourcemap: false,
    target: 'node20',
  },
  {
    // What the bin loads to answer a build from its memo, in one file of its own: one read and one
    // code-cache entry instead of a dozen shared chunks, since it runs before anything else loads. On a
    // miss the CLI then loads the library's chunks as usual (this file's copies are not used again).
    entry: { 'cli-build-memo': 'src/cli/build-memo.ts' },
    format: ['cjs'],
    shims: true,
    sourcemap: false,
    target: 'node20',
  },
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['cjs'],
    shims: true,
    sourcemap: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [libraryExternal],
    // The CLI's `import()` becomes a `require()`, made after the compile cache is installed.
    esbuildOptions(options) {
      options.supported = { ...options.supported, 'dynamic-import': false };
    },
  },
]);
