/**
 * Refs: the names in the layout's `index.json` (`org.opencontainers.image.ref.name`). layerkit
 * writes the full reference (`app:1`, `localhost/app:1`) and reads both that and a bare tag
 * (`1`, as containerd and Docker 25+ write). Descriptors it does not understand are kept as they
 * are when `index.json` is rewritten.
 */
import { isDigest, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { MediaTypes } from '../oci/media-types.js';
import { familiarReference, normalizeReference } from '../oci/reference.js';

/** The annotation that names a ref in `index.json`. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** A named entry of `index.json`. */
export interface RefEntry {
  /** The ref as written in `index.json`. */
  name: string;
  descriptor: Descriptor;
}

/** Parses `index.json` bytes; `ERR_STORE_CORRUPT` names the file when they are not an index. */
export function parseIndexJson(bytes: string, file: string): ImageIndex {
  let value: unknown;
  try {
    value = JSON.parse(bytes);
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_STORE_CORRUPT,
      `${file} is not valid JSON (${(err as Error).message}); restore it from a backup or re-create the store`,
      { path: file },
      { cause: err },
    );
  }
  const index = value as Partial<ImageIndex>;
  if (typeof value !== 'object' || value === null || index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw new LayerkitError(
      ErrorCodes.ERR_STORE_CORRUPT,
      `${file} is not an OCI image index (needs schemaVersion 2 and a manifests array)`,
      { path: file },
    );
  }
  return index as ImageIndex;
}

/** A fresh, empty `index.json`. */
export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
}

/** The named entries of an index, in file order (later duplicates win on lookup). */
export function refEntries(index: ImageIndex): RefEntry[] {
  const out: RefEntry[] = [];
  for (const descriptor of index.manifests) {
    const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
    if (typeof name === 'string' && name.length > 0) out.push({ name, descriptor });
  }
  return out;
}

function normalizedOrUndefined(name: string): string | undefined {
  try {
    return normalizeReference(name);
  } catch {
    return undefined;
  }
}

/** True when the ref `stored` (as found in index.json) answers to the user's `query`. */
export function refMatches(stored: string, query: string): boolean {
  if (stored === query) return true;
  const a = normalizedOrUndefined(stored);
  const b = normalizedOrUndefined(query);
  if (a !== undefined && b !== undefined && a === b) return true;
  // A bare tag (no '/', ':' or '@'), as containerd and Docker 25+ write, answers to itself only.
  return false;
}

/** How a ref query resolved. */
export interface Resolved {
  descriptor: Descriptor;
  /** The ref names pointing at this descriptor. */
  names: string[];
}

/**
 * Resolves a name, a full digest or a unique digest prefix (`sha256:ab12`, `ab12`, at least 4 hex
 * digits) against the index. Returns undefined when nothing matches; a prefix that matches several
 * digests throws `ERR_AMBIGUOUS_REF`.
 */
export function resolveInIndex(index: ImageIndex, query: string): Resolved | undefined {
  const entries = refEntries(index);
  const byName = entries.filter((e) => refMatches(e.name, query));
  if (byName.length > 0) {
    const last = byName[byName.length - 1]!;
    return { descriptor: last.descriptor, names: namesFor(entries, last.descriptor.digest) };
  }
  const prefix = digestPrefix(query);
  if (prefix === undefined) return undefined;
  const matches = new Map<string, Descriptor>();
  for (const d of index.manifests) if (d.digest.startsWith(prefix)) matches.set(d.digest, d);
  if (matches.size > 1) {
    throw new LayerkitError(
      ErrorCodes.ERR_AMBIGUOUS_REF,
      `${query} matches ${matches.size} images (${[...matches.keys()].map((d) => d.slice(7, 19)).join(', ')}); give more digits`,
      {
        ref: query,
        matches: [...matches.keys()],
      },
    );
  }
  const only = [...matches.values()][0];
  return only === undefined ? undefined : { descriptor: only, names: namesFor(entries, only.digest) };
}

/** `sha256:<hex prefix>` for a query that looks like a digest or a hex prefix, else undefined. */
export function digestPrefix(query: string): string | undefined {
  if (isDigest(query)) return query;
  const m = /^(?:sha256:)?([a-f0-9]{4,64})$/.exec(query);
  return m ? `sha256:${m[1]}` : undefined;
}

function namesFor(entries: RefEntry[], digest: Digest): string[] {
  return entries.filter((e) => e.descriptor.digest === digest).map((e) => e.name);
}

/**
 * A new index with `name` pointing at `descriptor`: earlier entries answering to the same name
 * are removed; the new entry is appended with the full (familiar) reference as its name.
 */
export function withTag(index: ImageIndex, name: string, descriptor: Descriptor): ImageIndex {
  const written = familiarReference(name);
  const manifests = index.manifests.filter((d) => {
    const n = d.annotations?.[REF_NAME_ANNOTATION];
    return n === undefined || !refMatches(n, written);
  });
  const annotations = { ...(descriptor.annotations ?? {}), [REF_NAME_ANNOTATION]: written };
  const entry: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    annotations,
  };
  if (descriptor.platform) entry.platform = descriptor.platform;
  if (descriptor.artifactType) entry.artifactType = descriptor.artifactType;
  return { ...index, manifests: [...manifests, entry] };
}

/** A new index without the entries answering to `name`, and how many were removed. */
export function withoutTag(index: ImageIndex, name: string): { index: ImageIndex; removed: number } {
  const manifests = index.manifests.filter((d) => {
    const n = d.annotations?.[REF_NAME_ANNOTATION];
    return n === undefined || !refMatches(n, name);
  });
  return { index: { ...index, manifests }, removed: index.manifests.length - manifests.length };
}
