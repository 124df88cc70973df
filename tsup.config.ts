import { join, resolve } from 'node:path';
import { defineConfig } from 'tsup';
import { buildBrowser } from './scripts/browser-build.js';

/**
 * The CLI's entry, by source file and by the file the library build writes for it. `cli.js` (the
 * bin, which needs a `#!` line no other file should get) is built on its own and imports the CLI
 * through this entry, and this plugin turns that import into an import of the built file, so the
 * CLI shares the library's chunks and the library ships once.
 */
const ENTRIES: Record<string, string> = {
  [resolve('src/cli/main.ts')]: './cli-main.js',
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

/** The library's entries (the CLI's are added to the ES module build only). */
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
    // The ES modules: the library's entries and the CLI's, splitting code into chunks they share,
    // so the library ships once and a CLI command loads only the chunks its module reaches (the
    // CLI imports each command's module when it runs).
    entry: { ...LIBRARY, 'cli-main': 'src/cli/main.ts' },
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
    // CommonJS for require(): both entries share chunks, so low-level and index hold one copy of
    // each module (one LayerkitError class, one set of module state).
    entry: LIBRARY,
    format: ['cjs'],
    splitting: true,
    // import.meta.url (the lazy createRequire of third-party packages) in CommonJS too.
    shims: true,
    dts,
    sourcemap: false,
    target: 'node20',
  },
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    sourcemap: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [libraryExternal],
  },
]);
