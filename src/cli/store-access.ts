/**
 * What the CLI needs to open a store, in a module of its own: `main.ts` imports it only when a
 * command asks for its store, so commands that need none (and `--version`) load no store code.
 */
export { defaultStorePath, openStore, storeExists } from '../store/store.js';
