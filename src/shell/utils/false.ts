/** `false`: fails. */
import type { UtilityDefinition } from '../utility.js';

/** `false`: does nothing, unsuccessfully (arguments are ignored). */
export const falseUtility: UtilityDefinition = {
  name: 'false',
  synopsis: 'false',
  description: 'Exit with status 1.',
  run: async () => 1,
};
