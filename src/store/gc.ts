/**
 * Garbage collection: mark every blob reachable from `index.json`, the store's roots (`roots/`),
 * live leases and what each state owner says it keeps (the `roots` list); sweep the rest, temp
 * files left by dead processes, and each owner's leftovers (its `sweep`). The store knows no
 * owner: layer indexes, build records and the build cache come in through `roots`.
 *
 * Safe against other processes: gc holds the gc gate exclusively (see `leases.ts`), so no other
 * process is writing while it marks and sweeps, and it re-reads `index.json` before deleting. It
 * first yields to writers that wait for the gate, so gc in a loop cannot starve them.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { isProcessAlive, tempNamePid } from './atomic.js';
import { readLeases, waitForForeignLeases, withGcGate } from './leases.js';
import { readRoots } from './roots.js';
import type { Store } from './store.js';
import { walkGraph } from './walk.js';

/** What a state owner keeps alive. */
export interface GcMarks {
  digests?: Iterable<Digest>;
  diffIds?: Iterable<Digest>;
  /** Damaged files found while reading (gc then removes nothing and reports them). */
  damaged?: LayerkitError[];
}

/** What is still alive once every blob is marked: an owner's sweep keeps what these name. */
export interface GcLive {
  blobs: ReadonlySet<Digest>;
  diffIds: ReadonlySet<Digest>;
}

/** What an owner's sweep removed (or would remove). */
export interface GcSwept {
  removed: string[];
  freedBytes: number;
}

/** One kind of state taking part in gc: what it keeps alive, and how it sweeps its own leftovers. */
export interface GcRoot {
  /** The kind of state (`layer indexes`): the key of its sweep in {@link GcReport.swept}. */
  name: string;
  /** What it keeps alive (read while gc holds the gate). */
  mark?(store: Store): GcMarks;
  /** Removes its own leftovers that nothing alive needs (nothing when `dryRun`). */
  sweep?(store: Store, live: GcLive, dryRun: boolean): GcSwept;
}

/** What `gc` removed. */
export interface GcReport {
  removedBlobs: Digest[];
  removedTempFiles: number;
  /** Each owner's sweep, by its name. */
  swept: Record<string, string[]>;
  freedBytes: number;
}

/** Options for {@link collectGarbage}. */
export interface GcOptions {
  store: Store;
  /** The state owners taking part (see {@link GcRoot}). */
  roots?: readonly GcRoot[] | undefined;
  /** Report what would go without removing anything. */
  dryRun?: boolean | undefined;
  /** Only these blobs may go (a failed writer's rollback); temp files are left alone. */
  only?: ReadonlySet<Digest> | undefined;
  /** With `only`: only these diffIDs' owner state may go (the rest counts as alive). */
  onlyDiffIds?: ReadonlySet<Digest> | undefined;
  /** How long to wait for other processes' leases to end (default: as long as it takes) before `ERR_LOCKED`. */
  leaseWaitMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called with progress (blobs swept so far, total). */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Store roots (`roots/<kind>/<name>`) to count as gone (what a dry run of removing them would free). */
  ignoreRoot?: ((kind: string, name: string) => boolean) | undefined;
}

/**
 * Removes every blob nothing references, and each owner's leftovers. A damaged state file is
 * `ERR_STORE_CORRUPT` naming it (nothing is removed: gc cannot know what it kept).
 */
export async function collectGarbage(options: GcOptions): Promise<GcReport> {
  const { store, dryRun = false, signal, onProgress, ignoreRoot, only, onlyDiffIds, roots = [] } = options;
  // The gate, fairly: whoever waits for it goes first, so gc run back to back keeps no one out.
  return withGcGate(store, { signal, timeoutMs: options.leaseWaitMs }, async () => {
    await waitForForeignLeases(store, { signal, timeoutMs: options.leaseWaitMs });
    const marked = new Set<Digest>();
    const diffIds = new Set<Digest>();
    const damaged: LayerkitError[] = [];
    const starts: Digest[] = [];
    const stored = readRoots(store);
    damaged.push(...stored.damaged);
    for (const root of stored.roots) {
      if (ignoreRoot?.(root.kind, root.name)) continue;
      starts.push(...root.digests);
      for (const d of root.diffIds) diffIds.add(d);
    }
    for (const owner of roots) {
      const marks = owner.mark?.(store) ?? {};
      starts.push(...(marks.digests ?? []));
      for (const d of marks.diffIds ?? []) diffIds.add(d);
      damaged.push(...(marks.damaged ?? []));
    }
    if (damaged.length > 0) throw damagedState(damaged);
    const walk = async (descriptors: Array<{ digest: Digest; mediaType: string; size: number }>) =>
      walkGraph({
        blobs: store.blobs,
        roots: descriptors.filter((d) => !marked.has(d.digest)).map((descriptor) => ({ descriptor, parent: 'gc' })),
        visit: ({ descriptor }) => {
          if (marked.has(descriptor.digest)) return false;
          marked.add(descriptor.digest);
          return true;
        },
        onDiffIds: (ids) => {
          for (const d of ids) diffIds.add(d);
        },
      });
    await walk(store.readIndex().manifests);
    await walk(starts.map((d) => sniffed(store, d)));
    // Leases of this process (other processes' have ended: they wait for gc before starting).
    const leased = new Set<Digest>();
    for (const l of readLeases(store)) for (const d of l.digests) leased.add(d);
    // index.json again, right before deleting: a tag this process wrote meanwhile counts.
    await walk(store.readIndex().manifests);
    throwIfAborted(signal);
    const report: GcReport = { removedBlobs: [], removedTempFiles: 0, swept: {}, freedBytes: 0 };
    // From here to the end nothing awaits: this process's writers cannot slip in between.
    for (const d of store.activeLeaseDigests()) leased.add(d);
    const all = store.blobs.list();
    let done = 0;
    for (const digest of all) {
      if (!marked.has(digest) && !leased.has(digest) && (only === undefined || only.has(digest))) {
        report.freedBytes += store.blobs.stat(digest)?.size ?? 0;
        report.removedBlobs.push(digest);
        if (!dryRun) store.blobs.delete(digest);
      }
      onProgress?.(++done, all.length);
    }
    const keptDiffIds: ReadonlySet<Digest> =
      only === undefined ? diffIds : everythingBut(new Set([...(onlyDiffIds ?? [])].filter((d) => !diffIds.has(d))));
    const live: GcLive = { blobs: new Set([...marked, ...leased]), diffIds: keptDiffIds };
    for (const owner of roots) {
      if (!owner.sweep) continue;
      const swept = owner.sweep(store, live, dryRun);
      report.swept[owner.name] = swept.removed;
      report.freedBytes += swept.freedBytes;
    }
    if (only !== undefined) return report;
    for (const name of store.listState('tmp')) {
      const pid = tempNamePid(name);
      if (pid !== undefined && isProcessAlive(pid)) continue;
      report.removedTempFiles += 1;
      if (!dryRun) store.removeState(`tmp/${name}`);
    }
    return report;
  });
}

/** A set holding every digest except `gone` (what a rollback counts as alive). */
function everythingBut(gone: ReadonlySet<Digest>): ReadonlySet<Digest> {
  const all = new Set<Digest>();
  all.has = (d: Digest) => !gone.has(d);
  return all;
}

/** One error for every damaged state file gc or verify found. */
export function damagedState(damaged: LayerkitError[]): LayerkitError {
  if (damaged.length === 1) return damaged[0]!;
  return new LayerkitError(
    ErrorCodes.ERR_STORE_CORRUPT,
    `${damaged.length} state files are damaged:\n${damaged.map((e) => `  ${e.message}`).join('\n')}`,
    { path: String(damaged[0]!.data.path), files: damaged.map((e) => e.data.path) },
  );
}

/** A root given by digest alone: find its media type by looking at the blob. */
function sniffed(store: Store, digest: Digest) {
  const size = store.blobs.stat(digest)?.size ?? 0;
  let mediaType = 'application/octet-stream';
  if (size > 0 && size < 16 << 20) {
    try {
      const value = JSON.parse(store.fs.readFileSync(store.blobs.path(digest), 'utf8')) as {
        mediaType?: string;
        manifests?: unknown;
        config?: unknown;
        rootfs?: unknown;
      };
      if (typeof value.mediaType === 'string') mediaType = value.mediaType;
      else if (value.manifests) mediaType = 'application/vnd.oci.image.index.v1+json';
      else if (value.config) mediaType = 'application/vnd.oci.image.manifest.v1+json';
      else if (value.rootfs) mediaType = 'application/vnd.oci.image.config.v1+json';
    } catch {
      // not JSON: a layer or other blob, kept but not descended into
    }
  }
  return { mediaType, digest, size };
}

/** The bytes of the files under a state folder (0 when it is gone). */
export function stateDirSize(store: Store, relative: string): number {
  let total = 0;
  const walk = (path: string): void => {
    for (const name of store.fs.readdirSync(path) as string[]) {
      const p = `${path}/${name}`;
      const st = store.fs.lstatSync(p);
      if (st.isDirectory()) walk(p);
      else total += st.size;
    }
  };
  try {
    walk(store.statePath(relative));
  } catch {
    // gone meanwhile
  }
  return total;
}
