/**
 * Errors as data. Every error layerkit throws is a {@link LayerkitError} with a stable `code`
 * and a typed `data` payload, or an {@link FsError} shaped exactly like Node's own fs errors so
 * that `err.code === 'ENOENT'` keeps working for code written against `node:fs`.
 */

/** Stable error codes (part of the public API; the README lists each one). */
export const ErrorCodes = {
  /** A blob's bytes do not hash to its digest. */
  EINTEGRITY: 'EINTEGRITY',
  /** A blob's size differs from the size its descriptor states. */
  EBADSIZE: 'EBADSIZE',
  /** A blob, ref, layer index, image or container is not in the store. */
  ERR_NOT_FOUND: 'ERR_NOT_FOUND',
  /** A ref or digest prefix matches more than one image. */
  ERR_AMBIGUOUS_REF: 'ERR_AMBIGUOUS_REF',
  /** A string is not a valid `algorithm:hex` digest. */
  ERR_INVALID_DIGEST: 'ERR_INVALID_DIGEST',
  /** A string is not a valid image reference or tag. */
  ERR_INVALID_REFERENCE: 'ERR_INVALID_REFERENCE',
  /** A manifest, index or config is not valid JSON or breaks the OCI schema. */
  ERR_INVALID_MANIFEST: 'ERR_INVALID_MANIFEST',
  /** A media type layerkit cannot handle where one it can is required. */
  ERR_UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  /** A compression this runtime cannot decode (zstd before Node 22.15, bzip2, xz). */
  ERR_UNSUPPORTED_COMPRESSION: 'ERR_UNSUPPORTED_COMPRESSION',
  /** A layer tar is malformed: truncated, bad header, bad gzip, bad whiteout name. */
  ERR_LAYER_FORMAT: 'ERR_LAYER_FORMAT',
  /** A path from an archive or a Dockerfile would escape its root. */
  ERR_UNSAFE_PATH: 'ERR_UNSAFE_PATH',
  /** An archive passes a depth, entry-count or size limit. */
  ERR_LIMIT_EXCEEDED: 'ERR_LIMIT_EXCEEDED',
  /** An image archive (oci-archive, docker-archive, layout dir) is malformed. */
  ERR_ARCHIVE_FORMAT: 'ERR_ARCHIVE_FORMAT',
  /** No manifest in an index matches the requested platform. */
  ERR_NO_MATCHING_PLATFORM: 'ERR_NO_MATCHING_PLATFORM',
  /** The store is locked by another live process for longer than the wait allows. */
  ERR_LOCKED: 'ERR_LOCKED',
  /** The store's on-disk state is damaged (unreadable index.json, bad oci-layout). */
  ERR_STORE_CORRUPT: 'ERR_STORE_CORRUPT',
  /** A container name is taken or invalid. */
  ERR_CONTAINER: 'ERR_CONTAINER',
  /** A container is in a state that does not allow the operation (pause a stopped one, rm a running one). */
  ERR_CONTAINER_STATE: 'ERR_CONTAINER_STATE',
  /** `--user` names a user or group the image's /etc/passwd or /etc/group lacks. */
  ERR_CONTAINER_USER: 'ERR_CONTAINER_USER',
  /** A container's command cannot run: not found (exit 127) or not executable (exit 126). */
  ERR_CONTAINER_COMMAND: 'ERR_CONTAINER_COMMAND',
  /** The OCI runtime (runc) failed; `data.stderr` holds what it said. */
  ERR_RUNTIME: 'ERR_RUNTIME',
  /** A Dockerfile does not parse. */
  ERR_DOCKERFILE_SYNTAX: 'ERR_DOCKERFILE_SYNTAX',
  /** A Dockerfile names an instruction that does not exist. */
  ERR_DOCKERFILE_UNKNOWN_INSTRUCTION: 'ERR_DOCKERFILE_UNKNOWN_INSTRUCTION',
  /** An instruction has the wrong number or shape of arguments. */
  ERR_DOCKERFILE_ARGUMENTS: 'ERR_DOCKERFILE_ARGUMENTS',
  /** An instruction has an unknown or malformed `--flag`. */
  ERR_DOCKERFILE_FLAG: 'ERR_DOCKERFILE_FLAG',
  /** Variable expansion failed (`${X:?message}`, bad substitution). */
  ERR_DOCKERFILE_EXPANSION: 'ERR_DOCKERFILE_EXPANSION',
  /** A `.dockerignore` line or a `--exclude` pattern is malformed (bad `[` class, lone `!`). */
  ERR_IGNORE_PATTERN: 'ERR_IGNORE_PATTERN',
  /** A build step failed; `cause` holds the underlying error. */
  ERR_BUILD_STEP: 'ERR_BUILD_STEP',
  /** A RUN step exited non-zero. */
  ERR_BUILD_EXIT_CODE: 'ERR_BUILD_EXIT_CODE',
  /** A FROM names an image the store does not have. */
  ERR_BUILD_BASE_NOT_FOUND: 'ERR_BUILD_BASE_NOT_FOUND',
  /** A stage graph is cyclic or names an unknown stage. */
  ERR_BUILD_STAGE: 'ERR_BUILD_STAGE',
  /** The build context is missing a source or a source escapes it. */
  ERR_BUILD_CONTEXT: 'ERR_BUILD_CONTEXT',
  /** A feature needs something this machine lacks (network for ADD URL, a runtime for an executor). */
  ERR_UNSUPPORTED: 'ERR_UNSUPPORTED',
  /** The operation was aborted through its AbortSignal. */
  ERR_ABORTED: 'ERR_ABORTED',
  /** A command-line usage error. */
  ERR_USAGE: 'ERR_USAGE',
  /** A registry answered with an error, or could not be reached (`data`: ref, registry, status, blob). */
  ERR_REGISTRY: 'ERR_REGISTRY',
  /** A registry refused the credentials, or wants credentials layerkit does not have. */
  ERR_REGISTRY_AUTH: 'ERR_REGISTRY_AUTH',
  /** A registry's TLS certificate is not trusted, or a plain-HTTP registry was not allowed. */
  ERR_REGISTRY_TLS: 'ERR_REGISTRY_TLS',
  /**
   * A proxy setting (`HTTPS_PROXY`, `HTTP_PROXY`, the proxy option) is malformed, or the proxy
   * refused to reach the registry (`data`: variable, or proxy, registry, status).
   */
  ERR_REGISTRY_PROXY: 'ERR_REGISTRY_PROXY',
  /** An upper layer is mounted over lower layers other than the ones it was made on. */
  ERR_UNION_LOWER_MISMATCH: 'ERR_UNION_LOWER_MISMATCH',
} as const;

/** One of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The error every non-fs layerkit function throws: a stable `code`, a human message that says
 * what to do next, a typed `data` payload (digest, path, line, expected/found...) and `cause`.
 */
export class LayerkitError<D extends Record<string, unknown> = Record<string, unknown>> extends Error {
  override readonly name = 'LayerkitError';
  readonly code: ErrorCode;
  readonly data: D;

  constructor(code: ErrorCode, message: string, data?: D, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = data ?? ({} as D);
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): { name: string; code: ErrorCode; message: string; data: D } {
    return { name: this.name, code: this.code, message: this.message, data: this.data };
  }
}

/** True when `err` is a {@link LayerkitError}, optionally with the given code. */
export function isLayerkitError(err: unknown, code?: ErrorCode): err is LayerkitError {
  return err instanceof LayerkitError && (code === undefined || err.code === code);
}

/** A place in a source file (a Dockerfile) an error points at: 1-based line, and column when known. */
export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

/**
 * The `data` an error about a place in a source file carries: the place as fields, and `reason`,
 * the message without the place. Displays read these (an excerpt with a caret, a link to the
 * line) instead of parsing the message.
 */
export interface LocatedErrorData extends SourceLocation {
  reason: string;
}

/**
 * `file:line[:column]: reason`: the one way a location enters a message (BuildKit's
 * `WithLocation`), formatted once, where the error gets its place.
 */
export function locatedMessage(location: SourceLocation, reason: string): string {
  const column = location.column !== undefined ? `:${location.column}` : '';
  return `${location.file}:${location.line}${column}: ${reason}`;
}

/**
 * A `LayerkitError` about a place in a source file: its message is {@link locatedMessage} and its
 * `data` the place, the reason and `data`.
 */
export function locatedError(
  code: ErrorCode,
  reason: string,
  location: SourceLocation,
  data: Record<string, unknown> = {},
  options?: { cause?: unknown },
): LayerkitError<LocatedErrorData & Record<string, unknown>> {
  const place: SourceLocation = { file: location.file, line: location.line };
  if (location.column !== undefined) place.column = location.column;
  const located: Record<string, unknown> = { ...data, ...place, reason };
  if (location.column === undefined) delete located['column'];
  return new LayerkitError(
    code,
    locatedMessage(place, reason),
    located as LocatedErrorData & Record<string, unknown>,
    options,
  );
}

/** The place and reason an error carries in its `data`, when it is about a place in a source file. */
export function errorLocation(err: unknown): LocatedErrorData | undefined {
  if (!(err instanceof LayerkitError)) return undefined;
  const { file, line, column, reason } = err.data;
  if (typeof file !== 'string' || typeof line !== 'number' || typeof reason !== 'string') return undefined;
  return { file, line, reason, ...(typeof column === 'number' ? { column } : {}) };
}

/** Node errno codes layerkit's fs-shaped APIs use. */
export type FsErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'EINVAL'
  | 'ELOOP'
  | 'EROFS'
  | 'EPERM'
  | 'EACCES'
  | 'EBADF'
  | 'ENAMETOOLONG'
  | 'EXDEV'
  | 'EMLINK'
  | 'ENOSYS'
  | 'EBUSY';

const FS_ERRORS: Record<FsErrorCode, { errno: number; text: string }> = {
  EPERM: { errno: -1, text: 'operation not permitted' },
  ENOENT: { errno: -2, text: 'no such file or directory' },
  EBADF: { errno: -9, text: 'bad file descriptor' },
  EACCES: { errno: -13, text: 'permission denied' },
  EBUSY: { errno: -16, text: 'resource busy or locked' },
  EEXIST: { errno: -17, text: 'file already exists' },
  EXDEV: { errno: -18, text: 'cross-device link not permitted' },
  ENOTDIR: { errno: -20, text: 'not a directory' },
  EISDIR: { errno: -21, text: 'illegal operation on a directory' },
  EINVAL: { errno: -22, text: 'invalid argument' },
  EROFS: { errno: -30, text: 'read-only file system' },
  EMLINK: { errno: -31, text: 'too many links' },
  ENAMETOOLONG: { errno: -36, text: 'name too long' },
  ENOSYS: { errno: -38, text: 'function not implemented' },
  ENOTEMPTY: { errno: -39, text: 'directory not empty' },
  ELOOP: { errno: -40, text: 'too many symbolic links encountered' },
};

/**
 * An fs error shaped like Node's: same `code`, `errno`, `syscall`, `path`, `dest` and message
 * (`ENOENT: no such file or directory, open '/x'`).
 */
export class FsError extends Error {
  override readonly name = 'Error';
  readonly code: FsErrorCode;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  readonly dest?: string;

  constructor(code: FsErrorCode, syscall: string, path?: string, dest?: string) {
    const info = FS_ERRORS[code];
    let message = `${code}: ${info.text}, ${syscall}`;
    if (path !== undefined) message += ` '${path}'`;
    if (dest !== undefined) message += ` -> '${dest}'`;
    super(message);
    this.code = code;
    this.errno = info.errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (dest !== undefined) this.dest = dest;
  }
}

/** True when `err` looks like a Node fs error (ours or Node's) with the given code. */
export function isFsError(err: unknown, code?: string): err is NodeJS.ErrnoException {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && /^E[A-Z]+$/.test(c) && (code === undefined || c === code);
}

/** Throws `ERR_ABORTED` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal.reason });
  }
}
