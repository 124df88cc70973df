/**
 * Garbage collection: mark every blob reachable from `index.json`, layerkit's own roots
 * (containers, build cache) and live leases; sweep the rest, along with layer state whose diffID
 * nothing references and temp files left by dead processes.
 */
import { isDigest, type Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import { isProcessAlive, tempNamePid } from './atomic.js';
import type { Store } from './store.js';
import { walkGraph } from './walk.js';

/** The folder (under the private state) holding per-layer state, one folder per diffID hex. */
export const LAYERS_STATE = 'layers';

/**
 * The build cache's state, named here so the builder and `gcStore({ pruneCache })` agree on it:
 * gc roots of each kind, each standing for the state file `<folder>/<root name>.json`, and
 * folders the builder keeps without roots (miss explanations, context file hashes).
 */
export const BUILD_CACHE_STATE = {
  /** Step results (`build-cache` roots) and `RUN --mount=type=cache` directories (`cache-mount` roots). */
  roots: { 'build-cache': 'cache/records', 'cache-mount': 'cache-mounts' },
  positions: 'cache/positions',
  contextHashes: 'cache/context-hashes',
} as const;

/** What `gc` removed. */
export interface GcReport {
  removedBlobs: Digest[];
  removedLayerStates: Digest[];
  removedTempFiles: number;
  freedBytes: number;
}

/** Options for {@link collectGarbage}. */
export interface GcOptions {
  store: Store;
  /** Report what would go without removing anything. */
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Called with progress (blobs swept so far, total). */
  onProgress?: (done: number, total: number) => void;
  /** Roots to count as gone (what a dry run of removing them would free). */
  ignoreRoot?: ((kind: string, name: string) => boolean) | undefined;
}

/** Removes every blob and every layer state nothing references. Safe against concurrent writers that hold leases. */
export async function collectGarbage({
  store,
  dryRun = false,
  signal,
  onProgress,
  ignoreRoot,
}: GcOptions): Promise<GcReport> {
  return store.withLock('gc', async () => {
    const marked = new Set<string>();
    const diffIds = new Set<string>();
    const roots = store.readIndex().manifests.map((descriptor) => ({ descriptor, parent: 'index.json' }));
    for (const root of store.listRoots()) {
      if (ignoreRoot?.(root.kind, root.name)) continue;
      for (const d of root.digests)
        roots.push({
          descriptor: { mediaType: 'application/octet-stream', digest: d, size: -1 },
          parent: `${root.kind}/${root.name}`,
        });
      for (const d of root.diffIds) diffIds.add(d);
    }
    for (const d of leaseDigests(store)) marked.add(d);
    await walkGraph({
      blobs: store.blobs,
      roots: roots.map((r) => (r.descriptor.size < 0 ? { ...r, descriptor: sniffed(store, r.descriptor.digest) } : r)),
      visit: ({ descriptor }) => {
        marked.add(descriptor.digest);
      },
      onDiffIds: (ids) => {
        for (const d of ids) diffIds.add(d);
      },
    });
    throwIfAborted(signal);
    const report: GcReport = { removedBlobs: [], removedLayerStates: [], removedTempFiles: 0, freedBytes: 0 };
    const all = store.blobs.list();
    let done = 0;
    for (const digest of all) {
      throwIfAborted(signal);
      if (!marked.has(digest)) {
        report.freedBytes += store.blobs.stat(digest)?.size ?? 0;
        report.removedBlobs.push(digest);
        if (!dryRun) store.blobs.delete(digest);
      }
      onProgress?.(++done, all.length);
    }
    for (const hex of store.listState(LAYERS_STATE)) {
      const diffId = `sha256:${hex}`;
      if (isDigest(diffId) && !diffIds.has(diffId)) {
        report.removedLayerStates.push(diffId);
        report.freedBytes += dirSize(store, `${LAYERS_STATE}/${hex}`);
        if (!dryRun) store.removeState(`${LAYERS_STATE}/${hex}`);
      }
    }
    for (const name of store.listState('tmp')) {
      const pid = tempNamePid(name);
      if (pid !== undefined && isProcessAlive(pid)) continue;
      report.removedTempFiles += 1;
      if (!dryRun) store.removeState(`tmp/${name}`);
    }
    return report;
  });
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

function leaseDigests(store: Store): Set<Digest> {
  const out = store.activeLeaseDigests();
  for (const file of store.listState('leases')) {
    const bytes = store.readState(`leases/${file}`);
    if (!bytes) continue;
    try {
      const lease = JSON.parse(bytes.toString('utf8')) as { pid: number; digests: Digest[] };
      if (!isProcessAlive(lease.pid)) {
        store.removeState(`leases/${file}`);
        continue;
      }
      for (const d of lease.digests) out.add(d);
    } catch {
      // a lease being written right now: its owner is alive; it will be complete next time
    }
  }
  return out;
}

function dirSize(store: Store, relative: string): number {
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
