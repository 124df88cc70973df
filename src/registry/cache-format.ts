/**
 * The format of layerkit's remote build cache, apart from the code that moves it: the config key
 * and annotations its records carry, a record as it travels, and how a cache reference names its
 * index and record tags. The builder parses `--cache-from`/`--cache-to` with this alone, so a build
 * that uses no remote cache never loads the registry client (cache-remote.ts).
 */
import { digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { parseRegistryReference, type RegistryReference } from './reference.js';

/** The config key (and annotation prefix) of layerkit's cache records. */
export const CACHE_CONFIG_KEY = 'dev.layerkit.cache.v1';
/** The manifest annotation naming a record's key. */
export const CACHE_KEY_ANNOTATION = 'dev.layerkit.cache.key';
/** The index annotation naming a record's Dockerfile position (`FILE#STAGE#STEP`). */
export const CACHE_POSITION_ANNOTATION = 'dev.layerkit.cache.position';
/** The tag a cache ref gets when it names none. */
export const DEFAULT_CACHE_TAG = 'cache';

/** One cache record as it travels: what a step produced and what its key was made of. */
export interface RemoteCacheEntry {
  key: Digest;
  layer: Descriptor;
  diffId: Digest;
  created: string;
  durationMs: number;
  /** Where the step stands (`Dockerfile#stage#step`): explains a miss on a machine that never built it. */
  position: string;
  /** The key's components (as the builder's `KeyComponents`), for explanations only: never used to compute a key. */
  components: Record<string, unknown>;
  /** The history line of the step. */
  createdBy: string;
}

/** What a lookup found. */
export type RemoteLookup =
  | { status: 'hit'; entry: RemoteCacheEntry; repository: string }
  | { status: 'absent' }
  /** The source has a record for the key, but it does not verify (or the source could not be read). */
  | { status: 'invalid'; reason: string };

/**
 * Where a build reads cache records from: a cache repository or an image with an inline cache on a
 * registry (cache-remote.ts), or a cache folder (cache-local.ts).
 */
export interface CacheRecordSource {
  /** The source as the user named it (what progress, history and explain show). */
  readonly ref: string;
  /** Looks up the record of a key computed by this build. */
  lookup(key: Digest): Promise<RemoteLookup>;
  /** The components the source recorded for a Dockerfile position (to explain a miss), if any. */
  componentsAt(position: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Brings a hit's layer into the store, verified; returns the bytes read from the source.
   * `repository` is where a registry found the record.
   */
  fetchLayer(o: { store: Store; lease: Lease; entry: RemoteCacheEntry; repository: string }): Promise<number>;
  close(): Promise<void>;
}

/** A record of an inline cache (in an image config): its layer is the image's layer at `layer`. */
export interface InlineCacheRecord {
  key: Digest;
  layer: number;
  position: string;
  components: Record<string, unknown>;
}

/** A cache reference, parsed: the repository, the index tag, and the tag of each record. */
export interface CacheReference {
  ref: RegistryReference;
  /** The tag of the index (and the prefix of the record tags). */
  tag: string;
}

/**
 * Parses a `--cache-to`/`--cache-from` reference (`127.0.0.1:5000/app-cache`, `…/app:buildcache`).
 * @throws `ERR_INVALID_REFERENCE`, `ERR_USAGE` (a digest, or a tag too long to prefix a key).
 */
export function parseCacheReference(input: string): CacheReference {
  const last = input.slice(input.lastIndexOf('/') + 1);
  if (input.includes('@'))
    throw new LayerkitError(ErrorCodes.ERR_USAGE, `cache ref ${input}: name a repository (and a tag), not a digest`, {
      ref: input,
    });
  const explicit = last.includes(':');
  const ref = parseRegistryReference(explicit ? input : `${input}:${DEFAULT_CACHE_TAG}`);
  const tag = ref.tag ?? DEFAULT_CACHE_TAG;
  if (tag.length > 128 - 65)
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `cache ref ${input}: the tag ${tag} is longer than 63 characters (record tags are TAG-<64 hex>)`,
      { ref: input },
    );
  return { ref, tag };
}

/** The tag of the record for `key` under a cache reference. */
export function cacheRecordTag(cache: CacheReference, key: Digest): string {
  return `${cache.tag}-${digestHex(key)}`;
}
