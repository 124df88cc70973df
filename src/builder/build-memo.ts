/**
 * Build memos: whether a build request can be answered from the memo of its last fully cached run,
 * without running the builder again, as `make` answers "nothing to be done". The memo's state file
 * is owned by ./build-memo-state.ts; the CLI records and replays what the build printed
 * (src/cli/build-memo.ts).
 *
 * A memo is written ({@link saveBuildMemo}) after a build in which every step came from the cache,
 * and only when everything the build read is older than the build's start by more than the clocks'
 * granularity (a file changed within it could keep its stat: git's "racily clean" entries), and no
 * other process moved a tag of the store while the build ran (a base image's above all).
 *
 * It is found by a sha256 of the request ({@link buildMemoKey}: the caller's options, the working
 * folder, the whole environment, the user, Node's version and the store), so that neither the
 * environment nor a build argument is written to the store in clear. It answers
 * ({@link findBuildMemo}) while:
 * - every file and folder the build read has the same stat (mode, size, mtime and ctime to the
 *   nanosecond, inode, device): the context as the build walked it (a folder's mtime changes when an
 *   entry is added or removed), the Dockerfile and its ignore files, the folders on PATH (the
 *   executor a build picks depends on the tools there) and this module's own file (a new layerkit
 *   remembers nothing of an old one's builds);
 * - the store's `index.json` has the same bytes (every tag, the bases' included);
 * - the result's blobs are still in the store;
 * - it was written less than {@link BUILD_MEMO_MAX_AGE_MS} ago.
 * Removing any build cache record drops every memo.
 */
import type { BigIntStats } from 'node:fs';
import { localFs } from '#platform';
import { type Digest, digestHex, sha256 } from '../digest/digest.js';
import type { ImageIndex } from '../oci/types.js';
import { isStateFileProblem } from '../store/state.js';
import { parseIndexJson, resolveInIndex, withoutTag } from '../store/refs.js';
import type { Store } from '../store/store.js';
import { BUILD_MEMOS } from './build-memo-state.js';
import type { BuildResult } from './types.js';

/**
 * How long before a build's start a file must have last changed for its stat to vouch for its
 * content (the default; `LAYERKIT_BUILD_MEMO_RACY_MS` sets another, for filesystems with coarser
 * timestamps).
 */
export const BUILD_MEMO_RACY_MS = 2000;

/** What identifies a build request besides the files it reads ({@link buildMemoKey}). */
export interface BuildMemoRequest {
  /** The request's options as plain JSON data (never credentials: leave registry options out). */
  options: unknown;
  /** The working folder relative paths were resolved against. */
  cwd: string;
  /** The whole environment (build arguments and tools are taken from it). */
  env: Record<string, string | undefined>;
}

/** Options for {@link buildMemoKey}. */
export interface BuildMemoKeyOptions {
  store: Store;
  request: BuildMemoRequest;
}

/** The key of a build request's memo: a sha256 hex of everything that identifies it. */
export function buildMemoKey({ store, request }: BuildMemoKeyOptions): string {
  const env = Object.entries(request.env)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return digestHex(
    sha256(
      JSON.stringify({
        memo: 1,
        options: request.options,
        cwd: request.cwd,
        env,
        uid: process.getuid?.(),
        gid: process.getgid?.(),
        node: process.version,
        execPath: process.execPath,
        store: store.root,
      }),
    ),
  );
}

/** What a build's memo needs from before the build ({@link startBuildMemo}). */
export interface BuildMemoStart {
  /** When the build started (ms). */
  started: number;
  /** The store's `index.json` then. */
  index: string;
}

/** Notes what {@link saveBuildMemo} compares against: call it before the build reads anything. */
export function startBuildMemo({ store }: { store: Store }): BuildMemoStart {
  return { started: Date.now(), index: store.readIndexText() };
}

/** Options for {@link saveBuildMemo}. */
export interface SaveBuildMemoOptions {
  store: Store;
  /** {@link buildMemoKey} of the request. */
  key: string;
  start: BuildMemoStart;
  /** The build's result (its steps, image and {@link BuildResult.inputs}). */
  result: BuildResult;
  /** The tags the build wrote. */
  tags: string[];
  /** What the build printed, in order: `[1 | 2, text]` for standard output and error. */
  output: Array<[1 | 2, string]>;
  /** The racy window (default {@link BUILD_MEMO_RACY_MS}). */
  racyMs?: number | undefined;
}

/**
 * Writes the memo of a build that was served entirely from the cache, when the files it read and
 * the store's tags allow it (see the module comment). Returns whether it wrote one, and why not.
 */
export function saveBuildMemo(options: SaveBuildMemoOptions): { saved: true } | { saved: false; why: string } {
  const { store, key, start, result, tags } = options;
  const racyMs = options.racyMs ?? BUILD_MEMO_RACY_MS;
  if (result.inputs === undefined || result.inputs.length === 0 || localFs() === undefined)
    return { saved: false, why: 'the build read no local context' };
  const built = result.steps.find((s) => s.status === 'built' && !s.metadata);
  if (built !== undefined) return { saved: false, why: `a step was built: ${built.instruction}` };
  const image = result.image.descriptor.digest;
  const index = store.readIndexText();
  if (!onlyOwnTagsMoved({ before: start.index, after: index, tags, image, file: `${store.root}/index.json` }))
    return { saved: false, why: "another process changed the store's tags during the build" };
  const watched: Array<[string, string]> = [];
  const env = process.env.PATH ?? '';
  const paths = new Set([...result.inputs, ...env.split(':').filter((p) => p.startsWith('/')), ownFile()]);
  for (const path of paths) {
    const st = statOf(path);
    if (st !== undefined && Math.max(Number(st.mtimeMs), Number(st.ctimeMs)) > start.started - racyMs)
      return { saved: false, why: `${path} changed too recently to vouch for its content` };
    watched.push([path, signatureOf(st)]);
  }
  const { manifest, descriptor } = result.image;
  const name = key.slice(0, 32);
  dropOldestMemos(store, name);
  BUILD_MEMOS.write(store, name, {
    request: key,
    watched,
    index: { length: index.length, hash: digestHex(sha256(index)) },
    blobs: [
      [descriptor.digest, descriptor.size],
      [manifest.config.digest, manifest.config.size],
      ...manifest.layers.map((l): [string, number] => [l.digest, l.size]),
    ],
    output: options.output,
    image,
    finished: new Date().toISOString(),
  });
  return { saved: true };
}

/**
 * How many memos a store keeps: one per command line, folder and environment that built in it
 * lately; the least recently written go first.
 */
export const MAX_BUILD_MEMOS = 64;

/**
 * Makes room for memo `name`: removes the least recently written others until, with it, at most
 * {@link MAX_BUILD_MEMOS} are left (rewriting a memo that is there already removes none).
 */
function dropOldestMemos(store: Store, name: string): void {
  const names = BUILD_MEMOS.names(store).filter((n) => n !== name);
  const keep = MAX_BUILD_MEMOS - 1;
  if (names.length <= keep) return;
  const written = (n: string): number => {
    try {
      return store.fs.statSync(BUILD_MEMOS.path(store, n)).mtimeMs;
    } catch {
      return 0;
    }
  };
  const oldest = names.map((n) => ({ n, at: written(n) })).sort((a, b) => a.at - b.at);
  for (const { n } of oldest.slice(0, names.length - keep)) BUILD_MEMOS.remove(store, n);
}

/**
 * How long a memo answers after it was written. Then the builder runs once more, which marks the
 * build's cache records as used (what `gc --prune-cache` with `until` goes by) and writes a new memo:
 * a memo never keeps records looking unused for longer than this.
 */
export const BUILD_MEMO_MAX_AGE_MS = 10 * 60_000;

/** What a memo answers: what the build printed, its image and when it finished. */
export interface BuildMemoAnswer {
  output: Array<[1 | 2, string]>;
  image: string;
  finished: string;
}

/**
 * The memo of a build request, when nothing it depends on changed (see the module comment); else
 * undefined. A damaged memo answers nothing (the build runs, and its memo replaces it).
 */
export function findBuildMemo({ store, key }: { store: Store; key: string }): BuildMemoAnswer | undefined {
  let memo: ReturnType<typeof BUILD_MEMOS.read>;
  try {
    memo = BUILD_MEMOS.read(store, key.slice(0, 32));
  } catch (err) {
    if (isStateFileProblem(err)) return undefined;
    throw err;
  }
  if (memo === undefined || memo.request !== key) return undefined;
  // Too old, or from the future (the clock was set back): the builder runs and writes a new one.
  const age = Date.now() - Date.parse(memo.finished);
  if (!(age >= 0 && age <= BUILD_MEMO_MAX_AGE_MS)) return undefined;
  for (const [path, signature] of memo.watched) if (pathSignature(path) !== signature) return undefined;
  const index = store.readIndexText();
  if (index.length !== memo.index.length || digestHex(sha256(index)) !== memo.index.hash) return undefined;
  for (const [digest, size] of memo.blobs) if (store.blobs.stat(digest as Digest)?.size !== size) return undefined;
  return { output: memo.output, image: memo.image, finished: memo.finished };
}

function statOf(path: string): BigIntStats | undefined {
  const fs = localFs();
  // No local filesystem (a browser): nothing can be vouched for.
  if (fs === undefined) throw new Error('no local filesystem');
  try {
    return fs.lstatSync(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function signatureOf(st: BigIntStats | undefined): string {
  if (st === undefined) return '-';
  return `${st.mode}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
}

/** A path's stat as one string, `-` when it does not exist, `?` when it cannot be read now. */
function pathSignature(path: string): string {
  try {
    return signatureOf(statOf(path));
  } catch {
    return '?';
  }
}

/** This module's file (a file: URL's path; POSIX, as the rest of the memo). */
function ownFile(): string {
  const url = new URL(import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : url.href;
}

/**
 * True when the store's tags changed between the build's start and now only where the build moved
 * its own tags, and each of them names the image.
 */
function onlyOwnTagsMoved(o: { before: string; after: string; tags: string[]; image: string; file: string }): boolean {
  let before: ImageIndex;
  let after: ImageIndex;
  try {
    before = parseIndexJson(o.before, o.file);
    after = parseIndexJson(o.after, o.file);
  } catch {
    return false;
  }
  for (const tag of o.tags) if (resolveInIndex(after, tag)?.descriptor.digest !== o.image) return false;
  const rest = (index: ImageIndex): string =>
    JSON.stringify(o.tags.reduce((i, tag) => withoutTag(i, tag).index, index).manifests);
  return rest(before) === rest(after);
}
