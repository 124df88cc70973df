/**
 * Owned private state. Each kind of layerkit state (layer indexes, build-cache records, build
 * records, containers, cache mounts, context file hashes, leases, roots) has one owner module that
 * declares it here with {@link defineState}: the folder it lives in, the version of its format,
 * what it is and what to do when a file is damaged. Every JSON file is read through
 * {@link readJsonFile}: a damaged or truncated file is `ERR_STORE_CORRUPT` naming it, never a
 * bare `SyntaxError`.
 *
 * Every file an owner writes carries its format version (`"version": N`); a reader refuses a file
 * of a newer version with `ERR_UNSUPPORTED` naming it ({@link checkFormatVersion}: a newer
 * layerkit wrote it, and this one must neither misread nor remove it), and reads files written
 * before versions existed (no `version` field) as version 1 or upgrades them.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { StoreFs } from './backend.js';
import type { Store } from './store.js';

/** What a reader says about a file it cannot parse. */
export interface JsonFileMeaning {
  /** What the file is, for the message (`build cache record`). */
  what: string;
  /** What to do about a damaged one (`remove it; ...`). */
  fix: string;
}

/**
 * Reads and parses a JSON file; undefined when it does not exist. A file that exists but does not
 * parse (truncated, overwritten, empty) is `ERR_STORE_CORRUPT` with `data.path`.
 */
export function readJsonFile(fs: StoreFs, path: string, meaning: JsonFileMeaning): unknown {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8') as string;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw corruptFile(path, meaning, text.length === 0 ? 'is empty' : 'is not valid JSON (damaged or truncated)', err);
  }
}

/** The `ERR_STORE_CORRUPT` for a state file that is unreadable or malformed. */
export function corruptFile(path: string, meaning: JsonFileMeaning, problem: string, cause?: unknown): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_STORE_CORRUPT,
    `${meaning.what} ${path} ${problem}; ${meaning.fix}`,
    { path },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Refuses a state file whose format version is newer than `supported`: `ERR_UNSUPPORTED` with
 * `data.path`. A file without a version (written before versions existed) passes.
 */
export function checkFormatVersion(path: string, what: string, version: unknown, supported: number): void {
  if (typeof version === 'number' && version > supported)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `${what} ${path} has format version ${version}, written by a newer layerkit (this one reads versions up to ${supported}); use that layerkit or a newer one with this store`,
      { path, version, supported },
    );
}

/**
 * True for the errors a state file's reader raises about the file itself (`ERR_STORE_CORRUPT`,
 * `ERR_UNSUPPORTED` for a newer format): gc and verify collect these as problems.
 */
export function isStateFileProblem(err: unknown): err is LayerkitError {
  return (
    err instanceof LayerkitError &&
    (err.code === ErrorCodes.ERR_STORE_CORRUPT || err.code === ErrorCodes.ERR_UNSUPPORTED)
  );
}

/** The declaration of one kind of state. */
export interface StateDefinition<T> extends JsonFileMeaning {
  /** Its folder under the store's private state (`cache/records`). */
  folder: string;
  /** The version of its format: files written by a newer layerkit (a larger `version` field) are refused. */
  version: number;
  /**
   * fsync each file before it is renamed into place (default true). False for state whose loss in
   * a crash costs only work (an explanation, a hint): it is still written atomically.
   */
  durable?: boolean;
  /** Checks a parsed value's shape: returns the problem, or undefined when it is sound. */
  check?: (value: unknown) => string | undefined;
  /** @internal Phantom: the type of a file's value. */
  readonly _type?: T;
}

/** One kind of state: JSON files `<folder>/<name>.json`, read through the guarded reader. */
export interface StateFolder<T> extends StateDefinition<T> {
  /** The path of a file. */
  path(store: Store, name: string): string;
  /**
   * The value of a file, or undefined when there is none. ERR_STORE_CORRUPT when it is damaged,
   * ERR_UNSUPPORTED when a newer layerkit wrote it.
   */
  read(store: Store, name: string): T | undefined;
  /**
   * Writes a file atomically (fsynced unless the kind, or this write, says `durable: false`), with
   * the kind's format version in its `version` field.
   */
  write(store: Store, name: string, value: T, options?: { durable?: boolean }): void;
  /** Removes a file (no error when it is missing). */
  remove(store: Store, name: string): void;
  /** The names of every file, sorted. */
  names(store: Store): string[];
  /** Reads every file: problems (damaged files, newer formats) are collected, not thrown. */
  scan(store: Store): { values: Array<{ name: string; value: T }>; damaged: LayerkitError[] };
}

/** Declares a kind of state (see the module comment). */
export function defineState<T>(definition: StateDefinition<T>): StateFolder<T> {
  const rel = (name: string): string => `${definition.folder}/${name}.json`;
  const folder: StateFolder<T> = {
    ...definition,
    path: (store, name) => store.statePath(rel(name)),
    read(store, name) {
      const path = store.statePath(rel(name));
      const value = readJsonFile(store.fs, path, definition);
      if (value === undefined) return undefined;
      checkFormatVersion(path, definition.what, (value as { version?: unknown } | null)?.version, definition.version);
      const problem =
        value === null || typeof value !== 'object' ? 'is not a JSON object or array' : definition.check?.(value);
      if (problem !== undefined) throw corruptFile(path, definition, problem);
      return value as T;
    },
    write(store, name, value, options = {}) {
      // The format version goes into every object written (an array has nowhere to carry it).
      const versioned = Array.isArray(value) ? value : { ...value, version: definition.version };
      store.writeState(rel(name), JSON.stringify(versioned), {
        durable: options.durable ?? definition.durable ?? true,
      });
    },
    remove(store, name) {
      store.removeState(rel(name));
    },
    names(store) {
      return store
        .listState(definition.folder)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length));
    },
    scan(store) {
      const values: Array<{ name: string; value: T }> = [];
      const damaged: LayerkitError[] = [];
      for (const name of folder.names(store)) {
        try {
          const value = folder.read(store, name);
          if (value !== undefined) values.push({ name, value });
        } catch (err) {
          if (!isStateFileProblem(err)) throw err;
          damaged.push(err);
        }
      }
      return { values, damaged };
    },
  };
  return folder;
}
