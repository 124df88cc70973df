/**
 * Builds the LayerkitError every Dockerfile problem is reported as: the message starts with
 * `file:line:column:` (like a compiler's) and `data` carries the same place as fields.
 */
import { LayerkitError, locatedMessage, type ErrorCode } from '../errors.js';
import type { Position } from './types.js';

/** The `data` of a Dockerfile error. */
export interface DockerfileErrorData extends Record<string, unknown> {
  file: string;
  line: number;
  column: number;
  /** The message without the `file:line:column:` prefix (BuildKit's wording). */
  reason: string;
}

/** A `LayerkitError` whose message is `file:line:column: reason`. */
export function dockerfileError(
  code: ErrorCode,
  reason: string,
  where: { file: string } & Position,
  cause?: unknown,
): LayerkitError<DockerfileErrorData> {
  const line = Math.max(1, where.line);
  const column = Math.max(1, where.column);
  return new LayerkitError<DockerfileErrorData>(
    code,
    locatedMessage({ file: where.file, line, column }, reason),
    { file: where.file, line, column, reason },
    cause === undefined ? undefined : { cause },
  );
}
