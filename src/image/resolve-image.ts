/**
 * What an image reference names, the way the docker CLI resolves it: a name, a manifest digest
 * (or a unique prefix of one), or an image ID: the config digest `docker images` and
 * `docker build -q` print (or a unique prefix). Images kept without a name (imported or built
 * untagged) answer to their digests and IDs as well.
 */
import { ErrorCodes, isLayerkitError, LayerkitError } from '../errors.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { digestPrefix, type Resolved } from '../store/refs.js';
import type { Store } from '../store/store.js';

/** The root kind untagged images are kept under (as `images.ts` names it). */
const UNTAGGED = 'untagged';

/** Options for {@link resolveImageRef}. */
export interface ResolveImageRefOptions {
  store: Store;
  /** A name, a manifest digest or image ID, or a unique prefix of either (at least 4 hex digits). */
  query: string;
}

/**
 * Resolves a reference to the descriptor in the store and the names pointing at it. Names and
 * manifest digests in `index.json` go first (`store.resolveRef`); then digests and IDs of every
 * image, named or not. `ERR_NOT_FOUND` when nothing answers; `ERR_AMBIGUOUS_REF` for a prefix
 * that several images share.
 * @example const { descriptor } = resolveImageRef({ store, query: '7365f52fd71a' });
 */
export function resolveImageRef({ store, query }: ResolveImageRefOptions): Resolved {
  try {
    return store.resolveRef(query);
  } catch (err) {
    const prefix = digestPrefix(query);
    if (prefix === undefined || !isLayerkitError(err, ErrorCodes.ERR_NOT_FOUND)) throw err;
    const candidates = new Map<string, { descriptor: Descriptor; names: string[] }>();
    for (const { name, descriptor } of store.listRefs()) {
      const c = candidates.get(descriptor.digest) ?? { descriptor, names: [] };
      c.names.push(name);
      candidates.set(descriptor.digest, c);
    }
    for (const root of store.listRoots()) {
      if (root.kind !== UNTAGGED) continue;
      for (const d of root.digests) {
        const size = store.blobs.stat(d)?.size;
        if (!candidates.has(d) && size !== undefined)
          candidates.set(d, { descriptor: { mediaType: '', digest: d, size }, names: [] });
      }
    }
    const matches = new Map<string, Resolved>();
    for (const { descriptor, names } of candidates.values()) {
      const ids = [descriptor.digest, ...configDigests(store, descriptor)];
      if (ids.some((d) => d.startsWith(prefix)))
        matches.set(descriptor.digest, { descriptor: typed(store, descriptor), names });
    }
    if (matches.size === 1) return [...matches.values()][0]!;
    if (matches.size > 1)
      throw new LayerkitError(
        ErrorCodes.ERR_AMBIGUOUS_REF,
        `${query} matches ${matches.size} images (${[...matches.keys()].map((d) => d.slice(7, 19)).join(', ')}); give more digits`,
        { ref: query, matches: [...matches.keys()] },
      );
    throw err;
  }
}

/** The config digests (image IDs) of a manifest, or of every manifest of an index. */
function configDigests(store: Store, descriptor: Descriptor): string[] {
  const value = readJson(store, descriptor.digest) as Partial<Manifest> & { manifests?: Descriptor[] };
  if (value === undefined) return [];
  if (typeof value.config?.digest === 'string') return [value.config.digest];
  if (Array.isArray(value.manifests))
    return value.manifests.flatMap((m) => {
      const inner = readJson(store, m.digest) as Partial<Manifest> | undefined;
      return typeof inner?.config?.digest === 'string' ? [inner.config.digest] : [];
    });
  return [];
}

/** A root-only descriptor gets its media type from the blob, as loading it needs. */
function typed(store: Store, descriptor: Descriptor): Descriptor {
  if (descriptor.mediaType) return descriptor;
  const value = readJson(store, descriptor.digest) as { mediaType?: string; manifests?: unknown } | undefined;
  const mediaType =
    value?.mediaType ??
    (value?.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
  return { ...descriptor, mediaType };
}

function readJson(store: Store, digest: string): unknown {
  try {
    const size = store.blobs.stat(digest as Descriptor['digest'])?.size ?? 0;
    if (size === 0 || size > 4 << 20) return undefined;
    return JSON.parse(store.fs.readFileSync(store.blobs.path(digest as Descriptor['digest']), 'utf8'));
  } catch {
    return undefined;
  }
}
