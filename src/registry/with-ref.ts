/** Errors of a pull or push name the reference they were about. */
import { LayerkitError } from '../errors.js';

/** The error with `data.ref` set (a new error of the same code, the original as cause), or as it was. */
export function withRef(err: unknown, ref: string): unknown {
  if (!(err instanceof LayerkitError) || err.data['ref'] !== undefined) return err;
  const message = err.message.includes(ref) ? err.message : `${ref}: ${err.message}`;
  return new LayerkitError(err.code, message, { ...err.data, ref }, { cause: err });
}
