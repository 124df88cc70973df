/**
 * The `layerkit` executable: runs the CLI with the process's arguments, always. npm links the
 * bin as `node_modules/.bin/layerkit` (a symlink or, on Windows, a shim), so this file must not
 * guess from `argv[1]` whether it was invoked; `main.ts` stays importable without side effects.
 *
 * Built, this is `dist/cli.cjs`, and `./main.js` is a `require` of `dist/cli-main.cjs` (which
 * shares its chunks with the library's `require` build): loading it after the compile cache is
 * installed lets V8 reuse the bytecode of earlier runs (compile-cache.ts). From the sources (tsx)
 * the cache has no `.cjs` files to serve and changes nothing.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCacheDir, compileCacheKey, installCompileCache } from './compile-cache.js';

const argv = process.argv.slice(2);
const cache = installCompileCache({
  root: dirname(fileURLToPath(import.meta.url)),
  dir: compileCacheDir(),
  key: compileCacheKey(argv),
});
process.once('exit', () => cache.flush());

import('./main.js').then(({ ExitCodes, main }) =>
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`layerkit: ${String(err)}\n`);
      process.exitCode = ExitCodes.failed;
    },
  ),
);
