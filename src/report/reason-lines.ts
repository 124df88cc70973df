/**
 * The lines that explain a step's miss, for the report renderers. Kept apart from `format.ts`
 * (which has no imports) so that formatting a size does not load the build cache.
 */
import { missReasonLines } from '../builder/cache.js';
import type { BuildStepReason } from './types.js';

/** The lines that explain a step's miss (one per changed file for a `files` reason). */
export function reasonLines(reason: BuildStepReason): ReturnType<typeof missReasonLines> {
  return reason.kind === 'other' ? [{ text: reason.message }] : missReasonLines(reason);
}
