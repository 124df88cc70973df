import { resolve } from 'node:path';
import { defineConfig } from 'tsup';

/**
 * The library's entries, by source file and by the file the build writes beside `cli.js`. The CLI
 * imports the library through these entries, and this plugin turns those imports into imports of
 * the built files, so `cli.js` holds only the CLI and the library ships once.
 */
const ENTRIES: Record<string, string> = {
  [resolve('src/index.ts')]: './index.js',
  [resolve('src/low-level.ts')]: './low-level.js',
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

export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'low-level': 'src/low-level.ts' },
    format: ['esm', 'cjs'],
    // Both formats share chunks between the entries, so low-level and index hold one copy of
    // each module (one LayerkitError class, one set of module state) in CommonJS too.
    splitting: true,
    // import.meta.url (the lazy createRequire of third-party packages) in the CommonJS build too.
    shims: true,
    // Each format gets its own declarations (index.d.ts for import, index.d.cts for require);
    // `@internal` items are left out of them. The types use Buffer, streams and NodeJS.* from
    // @types/node (an optional peer dependency): the reference makes a missing one a single clear
    // error (TS2688) instead of dozens of unknown names.
    dts: { compilerOptions: { stripInternal: true }, banner: '/// <reference types="node" />' },
    // No source maps in the package: they embedded every source (5.4 MB of 8.2 MB unpacked).
    sourcemap: false,
    clean: true,
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
