/**
 * The `layerkit` executable: runs the CLI with the process's arguments, always. npm links the
 * bin as `node_modules/.bin/layerkit` (a symlink or, on Windows, a shim), so this file must not
 * guess from `argv[1]` whether it was invoked; `main.ts` stays importable without side effects.
 * It imports `main.ts` only: the build makes that an import of the shared `cli-main.js`.
 */
import { ExitCodes, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`layerkit: ${String(err)}\n`);
    process.exitCode = ExitCodes.failed;
  },
);
