/** `[`: `test` with a closing bracket. */
import type { UtilityDefinition } from '../utility.js';
import { runTest } from './test.js';

/** `[ EXPRESSION ]`: `test` with a closing bracket. */
export const bracket: UtilityDefinition = {
  name: '[',
  synopsis: '[ EXPRESSION ]',
  description: 'Same as test; the last argument must be ].',
  run: (ctx) => runTest(ctx, true),
};
