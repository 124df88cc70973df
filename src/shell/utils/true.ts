/** `true`: succeeds. */
import type { UtilityDefinition } from '../utility.js';

/** `true`: does nothing, successfully (arguments are ignored). */
export const trueUtility: UtilityDefinition = {
  name: 'true',
  synopsis: 'true',
  description: 'Exit with status 0.',
  run: async () => 0,
};
