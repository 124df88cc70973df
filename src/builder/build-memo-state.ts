/**
 * Build memos, the state this module owns: `cache/build-memo/<name>.json` ({@link BuildMemo},
 * format version 1).
 *
 * A memo says that one build request (the same options, in the same folder, with the same
 * environment) was answered entirely from the build cache, and lists what that answer depended on:
 * every file and folder the build looked at with its stat, the store's `index.json` by content, the
 * result's blobs, and the host's tool folders. The CLI answers the same request again from the memo
 * while none of them changed, without loading the builder (src/cli/build-memo.ts).
 *
 * A memo summarises cache records, so it never outlives them: removing any record drops every memo
 * (src/builder/cache.ts), and so does `gc --prune-cache`. A lost memo costs one builder run.
 */
import type { GcRoot } from '../store/gc.js';
import { defineState } from '../store/state.js';
import type { Store } from '../store/store.js';

/** One remembered build request and what answered it. */
export interface BuildMemo {
  version?: number;
  /** The request, as canonical JSON: options, folder, environment, user, Node and layerkit versions, store. */
  request: string;
  /** Files and folders whose stat must be unchanged: `[path, signature]` (see src/cli/build-memo.ts). */
  watched: Array<[string, string]>;
  /** The store's `index.json` when the memo was written: its length and a non-cryptographic hash. */
  index: { length: number; hash: string };
  /** The result's blobs (manifest, config, layers): `[digest, size]`; each must still be in the store. */
  blobs: Array<[string, number]>;
  /** What the build printed, in order: `[1 | 2, text]` for standard output and standard error. */
  output: Array<[1 | 2, string]>;
  /** The image the build produced. */
  image: string;
  /** When the remembered build finished (ISO 8601). */
  finished: string;
}

function checkMemo(value: unknown): string | undefined {
  const m = value as Partial<BuildMemo>;
  if (typeof m.request !== 'string' || typeof m.image !== 'string' || typeof m.finished !== 'string')
    return 'is not a build memo';
  if (!Array.isArray(m.watched) || !Array.isArray(m.blobs) || !Array.isArray(m.output)) return 'is not a build memo';
  if (typeof m.index !== 'object' || m.index === null) return 'is not a build memo';
  return undefined;
}

/** @internal Build memos, owned here. */
export const BUILD_MEMOS = defineState<BuildMemo>({
  folder: 'cache/build-memo',
  version: 1,
  what: 'build memo',
  // A shortcut: a crash may lose one (the next build runs the builder), never corrupt it (writes are atomic).
  durable: false,
  fix: "remove it (the next build runs the builder), or run 'layerkit gc --prune-cache'",
  check: checkMemo,
});

/** @internal Build memos in gc: they keep nothing alive (the tags do); a damaged one is reported. */
export const buildMemoGcRoot: GcRoot = {
  name: 'build memos',
  mark: (store) => ({ damaged: BUILD_MEMOS.scan(store).damaged }),
};

/** Drops every build memo (with any build cache record). */
export function dropBuildMemos(store: Store): void {
  store.removeState(BUILD_MEMOS.folder);
}
