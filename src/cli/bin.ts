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

/** The CLI, unless a build memo answers the command line first (./build-memo.ts: nothing else loads then). */
async function run(): Promise<number> {
  // `build ...` or `--store DIR build ...`, not a command's help: the forms a memo may answer here.
  if (argv.slice(0, 3).includes('build') && !argv.some((a) => a === '--help' || a === '-h')) {
    const { replayEarly } = await import('./build-memo.js');
    try {
      if (await replayEarly(argv)) return 0;
    } catch {
      // A store that cannot be opened or read: the build command meets the same problem and reports it.
    }
  }
  const { main } = await import('./main.js');
  return main(argv);
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`layerkit: ${String(err)}\n`);
    // ExitCodes.failed, without loading the module that defines it for an error that happens before it loads.
    process.exitCode = 1;
  },
);
