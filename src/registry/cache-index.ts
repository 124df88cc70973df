/**
 * The remote cache's index (an OCI index of the per-key record manifests at the cache tag),
 * rewritten safely when several machines export at once.
 *
 * Registries do not agree on conditional manifest PUTs: the spec names the race, a registry that
 * honours `If-Match` answers 412 to a stale one, and distribution 2.8 ignores the header. So the
 * rewrite is read, merge, PUT (with `If-Match` on the ETag read, or `If-None-Match: *` when there
 * was no index, for registries that honour them: a 412 means "read again"), and then, after a
 * pause longer than it took us to read and write, read again and check that every entry we wrote
 * is there. An entry lost to another machine's PUT (both read the same index, the other wrote
 * last) is merged in again. The pause makes the other machine's PUT land before our check, so
 * the two converge: whoever is missing entries writes last, with everyone's. Bounded; a record
 * stays reachable by its own tag whatever happens to the index (reference §7.4).
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { header, sleep, statusError, type RegistryClient } from './client.js';
import { MANIFEST_ACCEPT, MANIFEST_LIMIT } from './pull-manifest.js';
import { mergeCacheEntries, sha256Of } from './cache-record.js';

/** Options for {@link mergeCacheIndex}. */
export interface MergeCacheIndexOptions {
  client: RegistryClient;
  repository: string;
  /** The index's tag. */
  tag: string;
  /** For messages: the cache reference as the user gave it. */
  ref: string;
  scopes: string[];
  /** Entries to have in the index, by cache key (each a manifest descriptor annotated with its key). */
  entries: ReadonlyMap<string, Descriptor>;
  /** The annotation holding an entry's key. */
  keyAnnotation: string;
  /** Top-level annotations that mark the index as a cache index (`{ 'dev.layerkit.cache.v1': 'index' }`). */
  annotations: Record<string, string>;
  /** Rounds of read-merge-write before giving up (default 8). */
  attempts?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Merges `entries` into the index at the tag and returns the digest of an index that holds them
 * all, as read back from the registry. An unchanged index is not written.
 * @throws `ERR_REGISTRY` (the index kept changing for every attempt, or a registry error),
 *   `ERR_REGISTRY_AUTH`, `ERR_ABORTED`.
 */
export async function mergeCacheIndex(options: MergeCacheIndexOptions): Promise<Digest> {
  const { client, repository, tag, signal } = options;
  const attempts = options.attempts ?? 8;
  const url = `/v2/${repository}/manifests/${tag}`;
  const what = `the cache index ${options.ref}`;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const t0 = Date.now();
    const current = await readIndex(options, url, what);
    // The first round writes our entries over the same keys' old ones; later rounds only add the
    // keys someone else's write dropped (a key is a key: two machines' records for it are both
    // good, and fighting over which one the index names would never end).
    const merged = merge(options, current?.manifests ?? [], attempt === 0);
    const bytes = canonicalJsonBytes(merged);
    const digest = sha256Of(bytes);
    if (current !== undefined && (current.digest === digest || (attempt > 0 && holdsAll(options, current.manifests))))
      return current.digest;
    const conditional: Record<string, string> =
      current === undefined ? { 'if-none-match': '*' } : current.etag ? { 'if-match': current.etag } : {};
    const res = await client.send({
      method: 'PUT',
      url,
      headers: { 'content-type': MediaTypes.ociIndex, ...conditional },
      body: bytes,
      scopes: options.scopes,
      what,
      signal,
    });
    if (res.status === 412) {
      // Someone wrote since we read, and this registry says so: read again.
      await res.body.dump().catch(() => undefined);
      await sleep(backoff(attempt, 0), signal);
      continue;
    }
    if (res.status !== 201 && res.status !== 200) throw await statusError(client, res, what, { ref: options.ref });
    await res.body.dump().catch(() => undefined);
    const written = header(res, 'docker-content-digest');
    if (written !== undefined && written !== digest)
      throw new LayerkitError(ErrorCodes.ERR_REGISTRY, `${what}: the registry stored ${written}, not ${digest}`, {
        registry: client.registry,
        ref: options.ref,
      });
    // Another machine that read the index before our PUT may write after it. Wait longer than a
    // read-merge-write takes, then check (the next round's read) that our entries survived.
    await sleep(backoff(attempt, Date.now() - t0), signal);
  }
  throw new LayerkitError(
    ErrorCodes.ERR_REGISTRY,
    `${what}: other exports kept rewriting the index through ${attempts} attempts; the records are pushed and each is still found by its own tag`,
    { registry: client.registry, ref: options.ref },
  );
}

interface ReadIndex {
  manifests: Descriptor[];
  digest: Digest;
  etag: string | undefined;
}

async function readIndex(options: MergeCacheIndexOptions, url: string, what: string): Promise<ReadIndex | undefined> {
  const { client } = options;
  const res = await client.send({
    method: 'GET',
    url,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: options.scopes,
    what,
    signal: options.signal,
  });
  if (res.status === 404) {
    await res.body.dump().catch(() => undefined);
    return undefined;
  }
  if (res.status !== 200) throw await statusError(client, res, what, { ref: options.ref });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > MANIFEST_LIMIT)
      throw new LayerkitError(ErrorCodes.ERR_LIMIT_EXCEEDED, `${what} is larger than ${MANIFEST_LIMIT} bytes`, {
        limit: MANIFEST_LIMIT,
      });
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const digest = sha256Of(bytes);
  let manifests: Descriptor[] = [];
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<ImageIndex>;
    // Something else at the tag (not a cache index) is replaced, as before: only cache entries are kept.
    const marked = Object.entries(options.annotations).every(([k, v]) => parsed.annotations?.[k] === v);
    if (marked && Array.isArray(parsed.manifests)) manifests = parsed.manifests;
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${what} is not valid JSON (${(err as Error).message})`,
      { ref: options.ref },
      { cause: err },
    );
  }
  return { manifests, digest, etag: header(res, 'etag') };
}

function keyOf(options: MergeCacheIndexOptions, d: Descriptor): string | undefined {
  const key = d.annotations?.[options.keyAnnotation];
  return typeof key === 'string' ? key : undefined;
}

/** The index with every entry of `existing` (by key) and ours (over theirs, or only where missing), sorted by key. */
function merge(options: MergeCacheIndexOptions, existing: readonly Descriptor[], oursWin: boolean): ImageIndex {
  const { entries, keyAnnotation, annotations } = options;
  return mergeCacheEntries({ existing, entries, keyAnnotation, annotations, oursWin });
}

function holdsAll(options: MergeCacheIndexOptions, manifests: readonly Descriptor[]): boolean {
  const have = new Set<string>();
  for (const d of manifests) {
    const key = keyOf(options, d);
    if (key !== undefined) have.add(key);
  }
  for (const key of options.entries.keys()) if (!have.has(key)) return false;
  return true;
}

/** Longer than the last round took, growing, with jitter (two machines must not keep colliding). */
function backoff(attempt: number, roundMs: number): number {
  const base = Math.max(50, 2 * roundMs) * 1.5 ** attempt;
  return Math.min(5_000, base * (0.75 + Math.random() * 0.5));
}
