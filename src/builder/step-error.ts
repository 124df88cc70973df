/**
 * Errors of a build step as data. A step throws {@link stepError}: the reason alone, worded for the
 * Dockerfile, with no place. The stage runner, which knows the line, gives every error leaving a
 * step its place once ({@link locateStepError}): `data` gets `{ file, line, reason }` and the
 * message `file:line: reason`. Nothing parses a place back out of a message.
 */
import {
  type ErrorCode,
  ErrorCodes,
  errorLocation,
  isLayerkitError,
  LayerkitError,
  locatedError,
  type SourceLocation,
} from '../errors.js';

/** An error a step words for the Dockerfile; the stage runner adds the place. */
export function stepError(
  code: ErrorCode,
  reason: string,
  data: Record<string, unknown> = {},
  options?: { cause?: unknown },
): LayerkitError {
  return new LayerkitError(code, reason, { ...data, reason }, options);
}

/**
 * Gives an error leaving a step its place: one that has a place already (a Dockerfile error with
 * its column) is kept; a step's own error gets the place before its reason; any other error also
 * names the instruction (`file:line: COPY a b: reason`), and a foreign one becomes `ERR_BUILD_STEP`.
 */
export function locateStepError(err: unknown, location: SourceLocation, instruction: string): LayerkitError {
  if (errorLocation(err) !== undefined) return err as LayerkitError;
  const text = instruction.split('\n')[0];
  if (isLayerkitError(err)) {
    const { reason } = err.data;
    if (typeof reason === 'string')
      return locatedError(err.code, reason, location, err.data, { cause: err.cause ?? err });
    return locatedError(err.code, `${text}: ${err.message}`, location, err.data, { cause: err });
  }
  return locatedError(ErrorCodes.ERR_BUILD_STEP, `${text}: ${(err as Error).message}`, location, {}, { cause: err });
}
