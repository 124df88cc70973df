/**
 * Pulling an image: the tag is resolved with a HEAD (a version check, not a pull, on Docker Hub),
 * the manifest fetched by digest only when the store lacks it, an index narrowed to one platform
 * (attestations skipped) unless every platform is wanted, and only the blobs the store lacks are
 * downloaded: in parallel (bounded per registry), each digest once, every byte verified while it
 * streams into the store, an interrupted download resumed with `Range`. Layers are indexed
 * on first use (by whatever reads them), not here. A failed or cancelled pull leaves the store exactly as it was.
 */
import { Digester, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { loadFromBlobs, type Image } from '../image/image.js';
import { hostPlatform, isAttestation, parsePlatform, selectManifest } from '../image/platform.js';
import { isIndexMediaType, isManifestMediaType, MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest, Platform } from '../oci/types.js';
import type { PutResult } from '../store/blobs.js';
import { withTag } from '../store/refs.js';
import type { Lease, Store } from '../store/store.js';
import {
  header,
  isTransient,
  openRegistry,
  statusError,
  type RegistryClient,
  type RegistryOptions,
  type RegistryResponse,
} from './client.js';
import { ProgressTracker, type TransferProgress, type TransferStatus } from './progress.js';
import { manifestReference, parseRegistryReference, type RegistryReference } from './reference.js';
import { rememberBlobSources } from './sources.js';
import { withRef } from './with-ref.js';
import { mirrorsFor } from './mirrors.js';

/** Every manifest type layerkit reads, for `Accept` (schema 1 is refused on purpose). */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
].join(', ');

/** Bytes a download hands to the store at once. */
const PIECE = 1 << 20;

/** Manifests larger than this are refused (regclient's pull limit). */
export const MANIFEST_LIMIT = 8 << 20;

/** Options for {@link pullImage}. */
export interface PullImageOptions extends RegistryOptions {
  store: Store;
  /** What to pull: `alpine`, `alpine:3.20`, `127.0.0.1:5000/app:1`, `name@sha256:...`. */
  ref: string;
  /** The platform to pick from an index (`linux/arm64` or an object; default: this machine's). */
  platform?: Platform | string | undefined;
  /** Keep the whole index: every platform's manifest and blobs (attestations included). */
  allPlatforms?: boolean | undefined;
  /** Name to tag the image with in the store (default: the reference, normalised). */
  tag?: string | undefined;
  /** Names to tag the image with, all at once (with `tag`, if given, first). */
  tags?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: TransferProgress) => void) | undefined;
}

/** What {@link pullImage} did. */
export interface PullResult {
  /** The reference, normalised. */
  ref: RegistryReference;
  /** What the reference names on the registry: an index or a manifest. */
  resolved: Descriptor;
  /** The image for the platform asked for (the platform manifest, not the index). */
  image: Image;
  /** The (first) name it is tagged with in the store. */
  tag: string;
  /** Every name it is tagged with in the store. */
  tags: string[];
  /** Blob bytes moved over the network. */
  bytesDownloaded: number;
  /** Each blob and what happened to it. */
  blobs: Array<{ digest: Digest; status: TransferStatus; size: number }>;
}

/** Blob downloads in flight per store: the same digest is never fetched twice at once. */
const inflight = new WeakMap<Store, Map<Digest, Promise<PutResult>>>();

/**
 * Pulls an image from a registry into the store and tags it.
 * @example const { image } = await pullImage({ store, ref: '127.0.0.1:5000/app:1' });
 * @throws `ERR_REGISTRY`, `ERR_REGISTRY_AUTH`, `ERR_REGISTRY_TLS`, `EINTEGRITY`/`EBADSIZE` (a blob
 *   whose bytes do not match; data names ref, registry and blob), `ERR_UNSUPPORTED_MEDIA_TYPE`,
 *   `ERR_NO_MATCHING_PLATFORM`, `ERR_ABORTED`.
 */
export async function pullImage(options: PullImageOptions): Promise<PullResult> {
  const { signal } = options;
  const ref = parseRegistryReference(options.ref);
  const platform =
    typeof options.platform === 'string' ? parsePlatform(options.platform) : (options.platform ?? hostPlatform());
  throwIfAborted(signal);
  const hosts = mirrorsFor(ref.registry, options.env ?? process.env);
  let lastError: unknown;
  for (const [i, host] of hosts.entries()) {
    const insecure = host.insecure ? withInsecure(options.insecure, host.host) : options.insecure;
    const client = await openRegistry({ ...options, insecure, registry: host.registry, host: host.host });
    try {
      return await pullFrom(client, ref, platform, options);
    } catch (err) {
      lastError = err;
      // A mirror that fails for a reason other than the image itself hands over to the next host.
      const last = i === hosts.length - 1;
      if (last || !isMirrorMiss(err)) throw err;
    } finally {
      await client.close();
    }
  }
  throw lastError;
}

function withInsecure(list: RegistryOptions['insecure'], host: string): RegistryOptions['insecure'] {
  if (list === true) return true;
  return [...(Array.isArray(list) ? list : []), host];
}

function isMirrorMiss(err: unknown): boolean {
  return (
    err instanceof LayerkitError &&
    (err.code === ErrorCodes.ERR_REGISTRY ||
      err.code === ErrorCodes.ERR_REGISTRY_TLS ||
      err.code === ErrorCodes.ERR_NOT_FOUND) &&
    err.data['blob'] === undefined
  );
}

interface PullState {
  client: RegistryClient;
  ref: RegistryReference;
  store: Store;
  lease: Lease;
  progress: ProgressTracker;
  signal: AbortSignal | undefined;
  /** Blobs this pull created (removed again when it fails). */
  added: Set<Digest>;
  blobs: Map<Digest, { status: TransferStatus; size: number }>;
  scopes: string[];
  retries: number;
  retryDelayMs: number;
}

async function pullFrom(
  client: RegistryClient,
  ref: RegistryReference,
  platform: Platform,
  options: PullImageOptions,
): Promise<PullResult> {
  const { store, signal } = options;
  return store.withLease(async (lease) => {
    const state: PullState = {
      client,
      ref,
      store,
      lease,
      progress: new ProgressTracker(options.onProgress),
      signal,
      added: new Set(),
      blobs: new Map(),
      scopes: [`repository:${ref.repository}:pull`],
      retries: options.retries ?? 4,
      retryDelayMs: options.retryDelayMs ?? 400,
    };
    try {
      const resolved = await resolveManifest(state, manifestReference(ref));
      const top = await fetchManifest(state, resolved);
      let chosen: Descriptor = resolved;
      const images: Descriptor[] = [];
      if (isIndexMediaType(resolved.mediaType)) {
        const index = top as ImageIndex;
        if (options.allPlatforms) {
          for (const child of index.manifests) {
            if (!isManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) continue;
            await fetchManifest(state, child);
            if (isManifestMediaType(child.mediaType)) {
              await fetchManifestBlobs(state, child);
              if (!isAttestation(child)) images.push(child);
            }
          }
          chosen = selectManifest(index.manifests, platform, ref.full);
        } else {
          chosen = selectManifest(index.manifests, platform, ref.full);
          if (!isManifestMediaType(chosen.mediaType)) {
            throw new LayerkitError(
              ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
              `${ref.full}: the index entry for ${chosen.digest} has media type ${chosen.mediaType}, not an image manifest`,
              { ref: ref.full, registry: client.registry, digest: chosen.digest, mediaType: chosen.mediaType },
            );
          }
          await fetchManifest(state, chosen);
          await fetchManifestBlobs(state, chosen);
          images.push(chosen);
        }
      } else {
        await fetchManifestBlobs(state, resolved);
        images.push(resolved);
      }
      // Layers are not indexed here: every reader (flatten, mount, FROM, export, history) opens
      // a layer's index on first use and builds it from the blob then, checking the diffID the
      // config claims. A pull moves and verifies bytes, as skopeo does, and nothing more.
      let image: Image | undefined;
      for (const descriptor of images) {
        const loaded = await loadFromBlobs({ blobs: store.blobs, descriptor, platform, where: ref.full });
        if (descriptor.digest === chosen.digest) image = loaded;
      }
      image ??= await loadFromBlobs({ blobs: store.blobs, descriptor: chosen, platform, where: ref.full });
      throwIfAborted(signal);
      const tags = [...new Set([...(options.tag !== undefined ? [options.tag] : []), ...(options.tags ?? [])])];
      if (tags.length === 0) tags.push(ref.familiar);
      const tag = tags[0]!;
      const tagged = options.allPlatforms && isIndexMediaType(resolved.mediaType) ? resolved : image.descriptor;
      // All names in one index update: a bad name tags nothing.
      await store.updateIndex((index) => ({
        index: tags.reduce((next, name) => withTag(next, name, tagged), index),
        result: undefined,
      }));
      rememberBlobSources(store, [...state.blobs.keys()], ref.registry, ref.repository);
      return {
        ref,
        resolved,
        image: { ...image, names: tags },
        tag,
        tags,
        bytesDownloaded: state.progress.totals.bytes,
        blobs: [...state.blobs].map(([digest, b]) => ({ digest, ...b })),
      };
    } catch (err) {
      for (const d of state.added) store.blobs.delete(d);
      throw withRef(err, ref.full);
    }
  });
}

/** Resolves a tag (or digest) to a descriptor: HEAD first; a GET when the registry's HEAD says too little. */
async function resolveManifest(state: PullState, reference: string): Promise<Descriptor> {
  const { client, ref } = state;
  const what = `manifest ${ref.full}`;
  const res = await client.send({
    method: 'HEAD',
    url: `/v2/${ref.repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: state.scopes,
    what,
    signal: state.signal,
  });
  await res.body.dump().catch(() => undefined);
  if (res.status === 404) throw notFound(state, what);
  const digest = header(res, 'docker-content-digest');
  const mediaType = mediaTypeOf(header(res, 'content-type'));
  const length = Number(header(res, 'content-length'));
  if (res.status === 200 && digest && /^sha256:[a-f0-9]{64}$/.test(digest) && mediaType && length > 0) {
    if (ref.digest && digest !== ref.digest) {
      throw new LayerkitError(
        ErrorCodes.EINTEGRITY,
        `${what}: the registry ${client.registry} says its digest is ${digest}, not the ${ref.digest} asked for`,
        { ref: ref.full, registry: client.registry, digest: ref.digest, found: digest },
      );
    }
    return { mediaType, digest: digest as Digest, size: length };
  }
  if (res.status !== 200 && res.status !== 405 && res.status !== 400)
    throw await statusError(client, res, what, { ref: ref.full });
  // No usable HEAD: GET the manifest and hash it ourselves.
  const got = await getManifest(state, reference, undefined);
  return got.descriptor;
}

function notFound(state: PullState, what: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_NOT_FOUND,
    `${what}: not found on ${state.client.registry} (no such repository or tag)`,
    { ref: state.ref.full, registry: state.client.registry },
  );
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim() || undefined;
}

/** GETs a manifest by tag or digest; verifies its bytes, media type and size. */
async function getManifest(
  state: PullState,
  reference: string,
  expected: Descriptor | undefined,
): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const { client, ref } = state;
  const what = `manifest ${expected?.digest ?? ref.full}`;
  const res = await client.send({
    method: 'GET',
    url: `/v2/${ref.repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: state.scopes,
    what,
    signal: state.signal,
  });
  if (res.status === 404) {
    await res.body.dump().catch(() => undefined);
    throw notFound(state, what);
  }
  if (res.status !== 200) throw await statusError(client, res, what, { ref: ref.full });
  const bytes = await readLimited(res, MANIFEST_LIMIT, what, state);
  const digester = new Digester();
  digester.update(bytes);
  const digest = digester.digest();
  const wanted = expected?.digest ?? (reference.startsWith('sha256:') ? (reference as Digest) : undefined);
  if (wanted !== undefined && digest !== wanted) {
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `${what} from ${client.registry} (${ref.full}): the registry sent bytes that hash to ${digest}; nothing was stored`,
      { ref: ref.full, registry: client.registry, blob: wanted, digest: wanted, found: digest },
    );
  }
  const claimed = header(res, 'docker-content-digest');
  if (wanted === undefined && claimed && claimed.startsWith('sha256:') && claimed !== digest) {
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `${what} from ${client.registry}: Docker-Content-Digest says ${claimed} but the bytes hash to ${digest}`,
      { ref: ref.full, registry: client.registry, blob: claimed, digest: claimed, found: digest },
    );
  }
  const mediaType = checkManifestType(state, bytes, mediaTypeOf(header(res, 'content-type')), digest);
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
}

async function readLimited(res: RegistryResponse, limit: number, what: string, state: PullState): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw new LayerkitError(
        ErrorCodes.ERR_LIMIT_EXCEEDED,
        `${what}: the manifest from ${state.client.registry} is larger than ${limit} bytes`,
        { ref: state.ref.full, registry: state.client.registry, limit },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The manifest's media type: `Content-Type` and the `mediaType` field must agree, and be one layerkit reads. */
function checkManifestType(state: PullState, bytes: Buffer, contentType: string | undefined, digest: Digest): string {
  const { ref, client } = state;
  let parsed: { mediaType?: unknown; manifests?: unknown; config?: unknown; schemaVersion?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${ref.full}: manifest ${digest} from ${client.registry} is not valid JSON`,
      { ref: ref.full, registry: client.registry, blob: digest, digest },
      { cause: err },
    );
  }
  const field = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  let mediaType = field ?? contentType;
  if (mediaType === undefined || mediaType === 'application/json' || mediaType === 'application/octet-stream')
    mediaType = Array.isArray(parsed.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
  if (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) {
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
      `${ref.full}: manifest ${digest} from ${client.registry} has media type ${mediaType}, which is neither an image manifest nor an index (layerkit reads OCI and Docker v2 schema 2)`,
      { ref: ref.full, registry: client.registry, blob: digest, digest, mediaType },
    );
  }
  if (field !== undefined && contentType !== undefined && isKnown(contentType) && contentType !== field) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${ref.full}: manifest ${digest} from ${client.registry} is served as ${contentType} but says it is ${field}`,
      { ref: ref.full, registry: client.registry, blob: digest, digest },
    );
  }
  return mediaType;
}

function isKnown(mediaType: string): boolean {
  return isIndexMediaType(mediaType) || isManifestMediaType(mediaType);
}

/** Makes sure a manifest's bytes are in the store; returns it parsed. */
async function fetchManifest(state: PullState, descriptor: Descriptor): Promise<Manifest | ImageIndex> {
  const { store } = state;
  const stat = store.blobs.stat(descriptor.digest);
  let bytes: Buffer;
  if (stat !== undefined && stat.size === descriptor.size) {
    bytes = await store.blobs.read(descriptor.digest, { size: descriptor.size });
    checkManifestType(state, bytes, descriptor.mediaType, descriptor.digest);
    state.lease.add(descriptor.digest);
  } else {
    if (descriptor.size > MANIFEST_LIMIT) {
      throw new LayerkitError(
        ErrorCodes.ERR_LIMIT_EXCEEDED,
        `${state.ref.full}: manifest ${descriptor.digest} is ${descriptor.size} bytes, more than the ${MANIFEST_LIMIT} layerkit reads`,
        { ref: state.ref.full, registry: state.client.registry, blob: descriptor.digest },
      );
    }
    const got = await getManifest(state, descriptor.digest, descriptor);
    bytes = got.bytes;
    const put = await store.blobs.put(bytes, { expected: { digest: descriptor.digest, size: descriptor.size } });
    state.lease.add(put.digest);
    if (put.created) state.added.add(put.digest);
  }
  state.progress.emit({
    kind: 'manifest',
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    bytes: bytes.length,
    status: stat ? 'exists' : 'pulled',
  });
  return JSON.parse(bytes.toString('utf8')) as Manifest | ImageIndex;
}

/** Downloads the config and layers of one manifest that the store lacks, in parallel. */
async function fetchManifestBlobs(state: PullState, descriptor: Descriptor): Promise<void> {
  const { value } = await state.store.blobs.readJson<Manifest>(descriptor.digest, { size: descriptor.size });
  if (typeof value.config !== 'object' || !Array.isArray(value.layers)) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${state.ref.full}: manifest ${descriptor.digest} has no config or layers`,
      { ref: state.ref.full, registry: state.client.registry, blob: descriptor.digest },
    );
  }
  const blobs = [value.config, ...value.layers];
  for (const b of blobs) {
    if (typeof b?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(b.digest) || !(b.size >= 0)) {
      throw new LayerkitError(
        ErrorCodes.ERR_INVALID_MANIFEST,
        `${state.ref.full}: manifest ${descriptor.digest} has a blob descriptor without a sha256 digest and size`,
        { ref: state.ref.full, registry: state.client.registry, blob: descriptor.digest },
      );
    }
    state.progress.plan(b.digest, b.size);
  }
  const failures: unknown[] = [];
  await Promise.all(
    blobs.map(async (blob) => {
      try {
        await fetchBlob(state, blob);
      } catch (err) {
        failures.push(err);
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
}

async function fetchBlob(state: PullState, d: Descriptor): Promise<void> {
  const { store, progress } = state;
  const stat = store.blobs.stat(d.digest);
  if (stat !== undefined && stat.size === d.size) {
    state.lease.add(d.digest);
    if (!state.blobs.has(d.digest)) {
      state.blobs.set(d.digest, { status: 'exists', size: d.size });
      progress.emit({
        kind: 'blob',
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        bytes: 0,
        status: 'exists',
      });
    }
    return;
  }
  let running = inflight.get(store);
  if (!running) inflight.set(store, (running = new Map()));
  const already = running.get(d.digest);
  if (already) {
    await already;
    state.lease.add(d.digest);
    return;
  }
  const promise = state.client.transfers.run(() => download(state, d));
  running.set(d.digest, promise);
  try {
    const put = await promise;
    state.lease.add(put.digest);
    if (put.created) state.added.add(put.digest);
    state.blobs.set(d.digest, { status: 'pulled', size: d.size });
    progress.emit({
      kind: 'blob',
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      bytes: d.size,
      status: 'pulled',
    });
  } finally {
    running.delete(d.digest);
  }
}

/** Streams one blob into the store, verified; resumes with `Range` after a cut connection. */
async function download(state: PullState, d: Descriptor): Promise<PutResult> {
  const { client, ref, store, progress, signal } = state;
  const what = `blob ${d.digest}`;
  let have = 0;
  const emit = (status: TransferStatus, moved: number): void =>
    progress.emit({ kind: 'blob', digest: d.digest, mediaType: d.mediaType, size: d.size, bytes: have, status }, moved);
  const piece = Buffer.allocUnsafe(PIECE);
  let length = 0;
  let moved = 0;
  async function* bytes(): AsyncGenerator<Buffer> {
    for (let failures = 0; ; ) {
      const res = await client.send({
        method: 'GET',
        url: `/v2/${ref.repository}/blobs/${d.digest}`,
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
        scopes: state.scopes,
        what,
        signal,
      });
      if (res.status === 404) {
        await res.body.dump().catch(() => undefined);
        throw new LayerkitError(
          ErrorCodes.ERR_NOT_FOUND,
          `${what} of ${ref.full}: not found on ${client.registry} (the manifest names a blob the registry lacks)`,
          { ref: ref.full, registry: client.registry, blob: d.digest, digest: d.digest },
        );
      }
      // A 200 to a Range request restarts from zero: the bytes we have are skipped, not re-counted.
      let skip = 0;
      if (res.status === 206 && have > 0) {
        const range = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
        if (!range || Number(range[1]) !== have) {
          await res.body.dump().catch(() => undefined);
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY,
            `${what} of ${ref.full}: ${client.registry} answered a resume from byte ${have} with range ${header(res, 'content-range') ?? '(none)'}`,
            { ref: ref.full, registry: client.registry, blob: d.digest },
          );
        }
      } else if (res.status === 200) {
        skip = have;
      } else {
        throw await statusError(client, res, `${what} of ${ref.full}`, { ref: ref.full, blob: d.digest });
      }
      emit(have > 0 ? 'retrying' : 'downloading', 0);
      try {
        for await (const raw of res.body) {
          let chunk = raw as Buffer;
          if (skip > 0) {
            const n = Math.min(skip, chunk.length);
            skip -= n;
            chunk = chunk.subarray(n);
            if (chunk.length === 0) continue;
          }
          have += chunk.length;
          moved += chunk.length;
          // Network chunks (16–64 KiB) are copied into one reused 1 MiB piece, in the one loop
          // that reads them: fewer writes, hash calls and awaits per byte, and no garbage. The
          // store has written and hashed a piece before it asks for the next one.
          while (chunk.length > 0) {
            const n = chunk.copy(piece, length);
            length += n;
            chunk = chunk.subarray(n);
            if (length === PIECE) {
              emit('downloading', moved);
              moved = 0;
              length = 0;
              yield piece;
            }
          }
        }
        if (length > 0) {
          emit('downloading', moved);
          moved = 0;
          const last = piece.subarray(0, length);
          length = 0;
          yield last;
        }
        return;
      } catch (err) {
        res.body.destroy();
        if (signal?.aborted || err instanceof LayerkitError) throw err;
        if (!isTransient(err) || ++failures > state.retries) {
          const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY,
            `${what} of ${ref.full}: the download from ${client.registry} broke at byte ${have} of ${d.size} (${reason}), ${failures} time${failures === 1 ? '' : 's'}; nothing was stored`,
            { ref: ref.full, registry: client.registry, blob: d.digest, reason },
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, state.retryDelayMs * 2 ** (failures - 1)));
      }
    }
  }
  try {
    return await store.blobs.put(bytes(), {
      expected: { digest: d.digest, size: d.size },
      offloadDigest: () => false,
      signal,
    });
  } catch (err) {
    if (err instanceof LayerkitError && (err.code === ErrorCodes.EINTEGRITY || err.code === ErrorCodes.EBADSIZE)) {
      throw new LayerkitError(
        err.code,
        `${what} of ${ref.full} from ${client.registry}: ${err.code === ErrorCodes.EINTEGRITY ? `the registry sent bytes that hash to ${String(err.data['found'])}` : `the registry sent ${String(err.data['found'])} bytes where the manifest says ${d.size}`}; nothing was stored`,
        { ...err.data, ref: ref.full, registry: client.registry, blob: d.digest, digest: d.digest },
        { cause: err },
      );
    }
    if (err instanceof LayerkitError && err.data['blob'] === undefined && err.code !== ErrorCodes.ERR_ABORTED) {
      throw new LayerkitError(
        err.code,
        `${err.message} (${what} of ${ref.full})`,
        { ...err.data, ref: ref.full, blob: d.digest },
        { cause: err },
      );
    }
    if (!(err instanceof LayerkitError) && signal?.aborted) {
      throw new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal.reason });
    }
    throw err;
  }
}
