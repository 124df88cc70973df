/**
 * Pushing an image: blobs first (a HEAD skips what the registry has; a cross-repository mount
 * where the store remembers the blob in another repository of the same registry; a monolithic
 * upload for small blobs and chunks above a threshold), then manifests byte-exact, children
 * before the index, the tag last, so a failed push leaves nothing tagged on the registry.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, isLayerkitError, LayerkitError, throwIfAborted } from '../errors.js';
import { convertIndexToEstargz } from '../image/estargz-convert.js';
import { isLoadedImage, type ImageLike } from '../image/image.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import type { Store } from '../store/store.js';
import type { Http1BodyReader } from './http1.js';
import {
  header,
  mergeScopes,
  openRegistry,
  statusError,
  type RegistryClient,
  type RegistryOptions,
  type RegistryResponse,
} from './client.js';
import { ProgressTracker, type TransferProgress, type TransferStatus } from './progress.js';
import { apiHost, parseRegistryReference, type RegistryReference } from './reference.js';
import { blobSources, rememberBlobSources } from './sources.js';
import { withRef } from './with-ref.js';

/** Blobs larger than this are uploaded in chunks (default 100 MiB). */
export const DEFAULT_CHUNK_THRESHOLD = 100 << 20;

/** Chunk sizes per registry, as they are known to need (GHCR refuses chunks over 4 MiB; ECR wants 5 MB+). */
export const REGISTRY_CHUNK_SIZES: Readonly<Record<string, number>> = {
  'ghcr.io': (4 << 20) - 1,
  default: 8 << 20,
};

/** Options for {@link pushImage}. */
export interface PushImageOptions extends RegistryOptions {
  store: Store;
  /** The image in the store: a name, digest (prefix), descriptor or loaded image. */
  image: ImageLike;
  /** Where to push (`127.0.0.1:5000/app:1`); default: the image's own name. */
  ref?: string | undefined;
  /** Blobs larger than this go in chunks (default {@link DEFAULT_CHUNK_THRESHOLD}). */
  chunkThreshold?: number | undefined;
  /** Chunk size (default per registry: {@link REGISTRY_CHUNK_SIZES}). */
  chunkSize?: number | undefined;
  /** `'estargz'`: push the image with its layers converted to eStargz (see `convertToEstargz`). */
  compression?: 'estargz' | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: TransferProgress) => void) | undefined;
}

/** What {@link pushImage} did. */
export interface PushResult {
  ref: RegistryReference;
  /** The top manifest or index pushed (its digest is the image's digest on the registry). */
  descriptor: Descriptor;
  /** Blob bytes sent over the network. */
  bytesUploaded: number;
  /** Each blob and what happened to it. */
  blobs: Array<{ digest: Digest; status: TransferStatus; size: number }>;
}

interface PushState {
  client: RegistryClient;
  store: Store;
  ref: RegistryReference;
  scopes: string[];
  progress: ProgressTracker;
  signal: AbortSignal | undefined;
  blobs: Map<Digest, { status: TransferStatus; size: number }>;
  chunkThreshold: number;
  chunkSize: number;
}

/**
 * Pushes an image (or a multi-platform index) from the store to a registry.
 * @example await pushImage({ store, image: 'app:1', ref: '127.0.0.1:5000/app:1' });
 * @throws `ERR_NOT_FOUND` (not in the store), `ERR_REGISTRY`, `ERR_REGISTRY_AUTH`, `ERR_REGISTRY_TLS`, `ERR_ABORTED`.
 */
export async function pushImage(options: PushImageOptions): Promise<PushResult> {
  const { store, signal } = options;
  throwIfAborted(signal);
  if (options.compression === 'estargz') {
    const converted = await convertIndexToEstargz({ store, image: options.image, signal });
    const ref = options.ref ?? (isLoadedImage(options.image) ? options.image.names[0] : undefined);
    const name =
      typeof options.image === 'string' ? (store.resolveRef(options.image).names[0] ?? options.image) : undefined;
    return pushImage({ ...options, compression: undefined, image: converted, ref: ref ?? name });
  }
  let top: Descriptor;
  let name: string | undefined;
  if (isLoadedImage(options.image)) {
    top = options.image.descriptor;
    name = options.image.names[0];
  } else if (typeof options.image === 'string') {
    const resolved = store.resolveRef(options.image);
    top = resolved.descriptor;
    name = resolved.names[0] ?? options.image;
  } else top = options.image;
  const target = options.ref ?? name;
  if (target === undefined) {
    throw new LayerkitError(ErrorCodes.ERR_USAGE, `say where to push ${top.digest}: pass ref (REGISTRY/NAME:TAG)`, {
      digest: top.digest,
    });
  }
  const ref = parseRegistryReference(target);
  if (ref.digest !== undefined && ref.digest !== top.digest) {
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `cannot push ${top.digest} as ${ref.full}: the reference pins another digest`,
      { ref: ref.full, digest: top.digest },
    );
  }
  const graph = await collectGraph(store, { ...top, mediaType: top.mediaType }, ref);
  // One token for everything: push here, pull where blobs may be mounted from.
  const mountFrom = new Set<string>();
  for (const b of graph.blobs.values()) for (const src of mountCandidates(store, b.digest, ref)) mountFrom.add(src);
  const scopes = mergeScopes(
    [`repository:${ref.repository}:pull,push`],
    [...mountFrom].map((repo) => `repository:${repo}:pull`),
  );
  const client = await openRegistry({ ...options, registry: ref.registry, host: apiHost(ref.registry) });
  try {
    const state: PushState = {
      client,
      store,
      ref,
      scopes,
      progress: new ProgressTracker(options.onProgress),
      signal,
      blobs: new Map(),
      chunkThreshold: options.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD,
      chunkSize: options.chunkSize ?? REGISTRY_CHUNK_SIZES[ref.registry] ?? REGISTRY_CHUNK_SIZES.default!,
    };
    for (const b of graph.blobs.values()) state.progress.plan(b.digest, b.size);
    // A registry holds a manifest only with every blob it names: when the image is already in
    // this repository (a re-push, a new tag), one HEAD replaces a HEAD per blob.
    if (await manifestPresent(state, top)) {
      for (const b of graph.blobs.values()) done(state, b, 'exists', 0);
    } else {
      const failures: unknown[] = [];
      await Promise.all(
        [...graph.blobs.values()].map((b) =>
          client.transfers
            .run(() => pushBlob(state, b))
            .catch((err: unknown) => {
              failures.push(err);
            }),
        ),
      );
      if (failures.length > 0) throw failures[0];
      for (const child of graph.children)
        await putManifest(state, child.descriptor, child.bytes, child.descriptor.digest, true);
    }
    await putManifest(state, top, graph.topBytes, ref.digest ?? ref.tag ?? 'latest', false);
    rememberBlobSources(store, graph.blobs.keys(), ref.registry, ref.repository);
    return {
      ref,
      descriptor: { mediaType: top.mediaType, digest: top.digest, size: top.size },
      bytesUploaded: state.progress.totals.bytes,
      blobs: [...state.blobs].map(([digest, b]) => ({ digest, ...b })),
    };
  } catch (err) {
    throw withRef(err, ref.full);
  } finally {
    await client.close();
  }
}

interface Graph {
  topBytes: Buffer;
  /** Child manifests of an index, in index order. */
  children: Array<{ descriptor: Descriptor; bytes: Buffer }>;
  blobs: Map<Digest, Descriptor>;
}

async function collectGraph(store: Store, top: Descriptor, ref: RegistryReference): Promise<Graph> {
  const blobs = new Map<Digest, Descriptor>();
  const children: Graph['children'] = [];
  const read = async (d: Descriptor): Promise<Buffer> => {
    if (!store.blobs.has(d.digest)) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `cannot push ${ref.full}: ${d.mediaType} ${d.digest} is not in the store${isManifestMediaType(d.mediaType) ? ' (pull the image with --all-platforms to push every platform)' : ''}`,
        { ref: ref.full, blob: d.digest, digest: d.digest },
      );
    }
    return store.blobs.read(d.digest, { size: d.size });
  };
  const addManifest = (bytes: Buffer): void => {
    const m = JSON.parse(bytes.toString('utf8')) as Manifest;
    for (const b of [m.config, ...(m.layers ?? [])]) if (b && !blobs.has(b.digest)) blobs.set(b.digest, b);
  };
  const topBytes = await read(top);
  if (isIndexMediaType(top.mediaType)) {
    const index = JSON.parse(topBytes.toString('utf8')) as ImageIndex;
    for (const child of index.manifests) {
      if (!isManifestMediaType(child.mediaType)) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
          `cannot push ${ref.full}: index ${top.digest} lists ${child.digest} of media type ${child.mediaType}; layerkit pushes indexes of manifests`,
          { ref: ref.full, digest: child.digest, mediaType: child.mediaType },
        );
      }
      const bytes = await read(child);
      children.push({ descriptor: child, bytes });
      addManifest(bytes);
    }
  } else addManifest(topBytes);
  for (const b of blobs.values()) {
    if (store.blobs.stat(b.digest)?.size !== b.size) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `cannot push ${ref.full}: ${b.mediaType} ${b.digest} (${b.size} bytes) is not in the store; run 'layerkit verify'`,
        { ref: ref.full, blob: b.digest, digest: b.digest },
      );
    }
  }
  return { topBytes, children, blobs };
}

function mountCandidates(store: Store, digest: Digest, ref: RegistryReference): string[] {
  const prefix = `${ref.registry}/`;
  return blobSources(store, digest)
    .filter((s) => s.startsWith(prefix) && s.slice(prefix.length) !== ref.repository)
    .map((s) => s.slice(prefix.length));
}

function done(state: PushState, d: Descriptor, status: TransferStatus, bytes: number): void {
  state.blobs.set(d.digest, { status, size: d.size });
  state.progress.emit({ kind: 'blob', digest: d.digest, mediaType: d.mediaType, size: d.size, bytes, status });
}

async function pushBlob(state: PushState, d: Descriptor): Promise<void> {
  const { client, ref, signal } = state;
  const blobUrl = `/v2/${ref.repository}/blobs/${d.digest}`;
  const what = `blob ${d.digest} of ${ref.full}`;
  const head = await client.send({ method: 'HEAD', url: blobUrl, scopes: state.scopes, what, signal });
  await head.body.dump().catch(() => undefined);
  if (head.status === 200) return done(state, d, 'exists', 0);
  if (head.status !== 404) throw await statusError(client, head, what, { ref: ref.full, blob: d.digest });
  let session: string | undefined;
  for (const from of mountCandidates(state.store, d.digest, ref)) {
    const res = await client
      .send({
        method: 'POST',
        url: `/v2/${ref.repository}/blobs/uploads/?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`,
        headers: { 'content-length': '0' },
        scopes: state.scopes,
        what,
        signal,
      })
      .catch((err: unknown) => {
        if (signal?.aborted) throw err;
        return undefined; // any failure of a mount falls back to an upload
      });
    if (!res) continue;
    await res.body.dump().catch(() => undefined);
    if (res.status === 201) return done(state, d, 'mounted', 0);
    const location = header(res, 'location');
    if (res.status === 202 && location) {
      session = new URL(location, res.url).toString();
      break;
    }
  }
  session ??= await startUpload(state, what);
  // An upload that fails after its own retries starts once more from a new session: a broken
  // session (a cut PUT, DIGEST_INVALID from a registry that drops it) is not retried in place.
  for (let attempt = 0; ; attempt++) {
    try {
      if (d.size > state.chunkThreshold) await uploadChunked(state, d, session, what);
      else await uploadMonolithic(state, d, session, what);
      break;
    } catch (err) {
      if (attempt >= 1 || signal?.aborted || !isLayerkitError(err, ErrorCodes.ERR_REGISTRY)) throw err;
      state.progress.emit({
        kind: 'blob',
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        bytes: 0,
        status: 'retrying',
      });
      session = await startUpload(state, what);
    }
  }
  done(state, d, 'pushed', d.size);
}

async function startUpload(state: PushState, what: string): Promise<string> {
  const { client, ref } = state;
  const res = await client.send({
    method: 'POST',
    url: `/v2/${ref.repository}/blobs/uploads/`,
    headers: { 'content-length': '0' },
    scopes: state.scopes,
    what,
    signal: state.signal,
  });
  const location = header(res, 'location');
  if (res.status !== 202 || !location)
    throw await statusError(client, res, `${what}: starting an upload`, { ref: ref.full });
  await res.body.dump().catch(() => undefined);
  return new URL(location, res.url).toString();
}

function withDigest(location: string, digest: Digest): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/**
 * A stored blob's bytes (`start`..`end` exclusive), counted: progress sees every chunk. As a
 * stream (`open`) for a caller's undici dispatcher, or read into the transport's reused buffers
 * (`reader`, http1.ts).
 */
function blobBody(state: PushState, d: Descriptor, start: number, end: number) {
  const { store, progress } = state;
  const path = store.blobs.path(d.digest);
  const sentUpTo = (sent: number, moved: number): void =>
    progress.emit(
      { kind: 'blob', digest: d.digest, mediaType: d.mediaType, size: d.size, bytes: sent, status: 'uploading' },
      moved,
    );
  return {
    length: end - start,
    open: async function* (): AsyncGenerator<Uint8Array> {
      // Not re-hashed here: the registry hashes what it receives and refuses a digest that does
      // not match (then the store's copy is checked, so a corrupt blob is named as such).
      const source = store.fs.createReadStream(path, {
        start,
        end: Math.max(start, end - 1),
        highWaterMark: 1 << 20,
      });
      let sent = start;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        sent += chunk.length;
        sentUpTo(sent, chunk.length);
        yield chunk;
      }
    },
    reader: (): Http1BodyReader => {
      let handle: Promise<FileHandle> | undefined;
      let at = start;
      return {
        async read(into: Buffer): Promise<number> {
          if (at >= end) return 0;
          handle ??= store.fs.promises.open(path, 'r') as Promise<FileHandle>;
          const { bytesRead } = await (await handle).read(into, 0, Math.min(into.length, end - at), at);
          if (bytesRead === 0) return 0;
          at += bytesRead;
          sentUpTo(at, bytesRead);
          return bytesRead;
        },
        async close(): Promise<void> {
          if (handle) await (await handle).close();
        },
      };
    },
  };
}

async function uploadMonolithic(state: PushState, d: Descriptor, session: string, what: string): Promise<void> {
  const res = await state.client.send({
    method: 'PUT',
    url: withDigest(session, d.digest),
    headers: { 'content-type': 'application/octet-stream' },
    body: blobBody(state, d, 0, d.size),
    scopes: state.scopes,
    what,
    signal: state.signal,
  });
  await finishUpload(state, d, res, what);
}

/** How many times one chunked upload asks the registry where it stands and carries on. */
const CHUNK_RECOVERIES = 5;

async function uploadChunked(state: PushState, d: Descriptor, session: string, what: string): Promise<void> {
  const { client } = state;
  let location = session;
  let offset = 0;
  let recoveries = 0;
  while (offset < d.size) {
    const end = Math.min(d.size, offset + state.chunkSize);
    let failure: unknown;
    try {
      const res = await client.send({
        method: 'PATCH',
        url: location,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}` },
        body: blobBody(state, d, offset, end),
        scopes: state.scopes,
        what,
        signal: state.signal,
        retry: false,
      });
      // 202 is the spec's answer; ECR answers 201.
      if (res.status === 202 || res.status === 201) {
        await res.body.dump().catch(() => undefined);
        const next = header(res, 'location');
        if (next) location = new URL(next, res.url).toString();
        offset = end;
        continue;
      }
      failure = await statusError(client, res, `${what}: chunk ${offset}-${end - 1}`, {
        ref: state.ref.full,
        blob: d.digest,
      });
    } catch (err) {
      failure = err;
    }
    // A chunk that failed (a cut connection, a 5xx past the retries, a 416): ask the registry how
    // much of the upload it holds and carry on from there, with the Location it gives.
    if (state.signal?.aborted || ++recoveries > CHUNK_RECOVERIES) throw failure;
    const status = await uploadStatus(state, location, what);
    if (status === undefined) throw failure; // the session is gone: the caller starts a new one
    state.progress.emit({
      kind: 'blob',
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      bytes: status.offset,
      status: 'retrying',
    });
    location = status.location;
    offset = status.offset;
  }
  const res = await client.send({
    method: 'PUT',
    url: withDigest(location, d.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': '0' },
    scopes: state.scopes,
    what,
    signal: state.signal,
  });
  await finishUpload(state, d, res, what);
}

/**
 * Where an upload session stands: `GET <location>` answers 204 with `Range: 0-<last byte>` and a
 * fresh Location; undefined when the session is gone (404) or the answer is unusable.
 */
async function uploadStatus(
  state: PushState,
  location: string,
  what: string,
): Promise<{ offset: number; location: string } | undefined> {
  const res = await state.client
    .send({ method: 'GET', url: location, scopes: state.scopes, what: `${what}: upload status`, signal: state.signal })
    .catch((err: unknown) => {
      if (state.signal?.aborted) throw err;
      return undefined;
    });
  if (!res) return undefined;
  await res.body.dump().catch(() => undefined);
  const range = /^(?:bytes[= ])?0-(\d+)$/.exec(header(res, 'range')?.trim() ?? '');
  if ((res.status !== 204 && res.status !== 200) || !range) return undefined;
  // distribution says 0-0 for an empty upload as for one byte; chunks are never one byte long.
  const last = Number(range[1]);
  const next = header(res, 'location');
  return { offset: last === 0 ? 0 : last + 1, location: next ? new URL(next, res.url).toString() : location };
}

async function finishUpload(state: PushState, d: Descriptor, res: RegistryResponse, what: string): Promise<void> {
  if (res.status !== 201 && res.status !== 204) {
    const err = await statusError(state.client, res, `${what}: finishing the upload`, {
      ref: state.ref.full,
      blob: d.digest,
    });
    // The bytes are not hashed on the way out: when the registry refuses them, the store's copy
    // is checked, so a corrupt local blob is named as such rather than blamed on the registry.
    if (res.status === 400) {
      const corrupt = await state.store.blobs.check(d.digest, { size: d.size });
      if (corrupt)
        throw new LayerkitError(
          corrupt.code,
          `${what}: the store's copy is corrupt (${corrupt.message}); run \`layerkit verify\``,
          { ...corrupt.data, ref: state.ref.full, blob: d.digest, digest: d.digest },
          { cause: corrupt },
        );
    }
    throw err;
  }
  await res.body.dump().catch(() => undefined);
  checkDigestHeader(state, res, d.digest, what);
}

function checkDigestHeader(state: PushState, res: RegistryResponse, digest: Digest, what: string): void {
  const said = header(res, 'docker-content-digest');
  if (said !== undefined && said !== digest) {
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `${what}: ${state.client.registry} stored it as ${said}, not ${digest}`,
      { ref: state.ref.full, registry: state.client.registry, blob: digest, digest, found: said },
    );
  }
}

/** True when the repository already has this manifest (by digest). */
async function manifestPresent(state: PushState, d: Descriptor): Promise<boolean> {
  const res = await state.client.send({
    method: 'HEAD',
    url: `/v2/${state.ref.repository}/manifests/${d.digest}`,
    headers: { accept: d.mediaType },
    scopes: state.scopes,
    what: `manifest ${d.digest} of ${state.ref.full}`,
    signal: state.signal,
  });
  await res.body.dump().catch(() => undefined);
  return res.status === 200 && header(res, 'docker-content-digest') === d.digest;
}

async function putManifest(
  state: PushState,
  d: Descriptor,
  bytes: Buffer,
  reference: string,
  skipIfPresent: boolean,
): Promise<void> {
  const { client, ref, signal } = state;
  const url = `/v2/${ref.repository}/manifests/${reference}`;
  const what = `manifest ${d.digest} of ${ref.full}`;
  if (skipIfPresent) {
    const head = await client.send({
      method: 'HEAD',
      url,
      headers: { accept: d.mediaType },
      scopes: state.scopes,
      what,
      signal,
    });
    await head.body.dump().catch(() => undefined);
    if (head.status === 200 && header(head, 'docker-content-digest') === d.digest) {
      state.progress.emit({
        kind: 'manifest',
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        bytes: 0,
        status: 'exists',
      });
      return;
    }
  }
  const res = await client.send({
    method: 'PUT',
    url,
    headers: { 'content-type': d.mediaType },
    body: bytes,
    scopes: state.scopes,
    what,
    signal,
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202)
    throw await statusError(client, res, what, { ref: ref.full, blob: d.digest });
  await res.body.dump().catch(() => undefined);
  checkDigestHeader(state, res, d.digest, what);
  state.progress.emit({
    kind: 'manifest',
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    bytes: bytes.length,
    status: 'pushed',
  });
}
