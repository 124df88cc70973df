/**
 * The manifests of a pull: a tag resolved with a HEAD (a GET when the HEAD says too little), a
 * manifest fetched by digest only when the store lacks it, its bytes, size and media type checked.
 */
import { Digester, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { isIndexMediaType, isManifestMediaType, MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import { header, statusError, type RegistryResponse } from './client.js';
import { notFound, type PullState } from './pull-state.js';

/** Every manifest type layerkit reads, for `Accept` (schema 1 is refused on purpose). */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
].join(', ');

/** Manifests larger than this are refused (regclient's pull limit). */
export const MANIFEST_LIMIT = 8 << 20;

/** Resolves a tag (or digest) to a descriptor: HEAD first; a GET when the registry's HEAD says too little. */
export async function resolveManifest(state: PullState, reference: string): Promise<Descriptor> {
  const { client, ref } = state;
  const what = `manifest ${ref.full}`;
  // A digest names the bytes: when the store has them there is nothing to ask the registry.
  if (reference.startsWith('sha256:')) {
    const stat = state.store.blobs.stat(reference as Digest);
    if (stat !== undefined && stat.size <= MANIFEST_LIMIT) {
      const bytes = await state.store.blobs.read(reference as Digest, { size: stat.size });
      return {
        mediaType: checkManifestType(state, bytes, undefined, reference as Digest),
        digest: reference as Digest,
        size: stat.size,
      };
    }
  }
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

/**
 * GETs the manifest `reference` (a tag or a digest) names in one request, verified as
 * {@link fetchManifest} verifies it, and stores it: for callers that need its bytes anyway (a lazy
 * mount), where {@link resolveManifest}'s HEAD first would cost a round trip more.
 */
export async function getAndStoreManifest(
  state: PullState,
  reference: string,
): Promise<{ descriptor: Descriptor; value: Manifest | ImageIndex }> {
  const { store } = state;
  // getManifest reads at most MANIFEST_LIMIT bytes and verifies the digest.
  const { descriptor, bytes } = await getManifest(state, reference, undefined);
  const had = store.blobs.stat(descriptor.digest) !== undefined;
  await storeManifest(state, descriptor, bytes);
  emitManifest(state, descriptor, bytes, had);
  return { descriptor, value: JSON.parse(bytes.toString('utf8')) as Manifest | ImageIndex };
}

/** Stores a fetched manifest's bytes (verified against its descriptor) under the pull's lease. */
async function storeManifest(state: PullState, descriptor: Descriptor, bytes: Buffer): Promise<void> {
  const put = await state.store.blobs.put(bytes, { expected: { digest: descriptor.digest, size: descriptor.size } });
  state.lease.add(put.digest);
  if (put.created) state.added.add(put.digest);
}

/** Reports a manifest to the pull's progress: already in the store, or pulled now. */
function emitManifest(state: PullState, descriptor: Descriptor, bytes: Buffer, had: boolean): void {
  state.progress.emit({
    kind: 'manifest',
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    bytes: bytes.length,
    status: had ? 'exists' : 'pulled',
  });
}

function tooLarge(state: PullState, descriptor: Descriptor): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_LIMIT_EXCEEDED,
    `${state.ref.full}: manifest ${descriptor.digest} is ${descriptor.size} bytes, more than the ${MANIFEST_LIMIT} layerkit reads`,
    { ref: state.ref.full, registry: state.client.registry, blob: descriptor.digest },
  );
}

/** Makes sure a manifest's bytes are in the store; returns it parsed. */
export async function fetchManifest(state: PullState, descriptor: Descriptor): Promise<Manifest | ImageIndex> {
  const { store } = state;
  const stat = store.blobs.stat(descriptor.digest);
  let bytes: Buffer;
  if (stat !== undefined && stat.size === descriptor.size) {
    bytes = await store.blobs.read(descriptor.digest, { size: descriptor.size });
    checkManifestType(state, bytes, descriptor.mediaType, descriptor.digest);
    state.lease.add(descriptor.digest);
  } else {
    if (descriptor.size > MANIFEST_LIMIT) throw tooLarge(state, descriptor);
    const got = await getManifest(state, descriptor.digest, descriptor);
    bytes = got.bytes;
    await storeManifest(state, descriptor, bytes);
  }
  emitManifest(state, descriptor, bytes, stat !== undefined);
  return JSON.parse(bytes.toString('utf8')) as Manifest | ImageIndex;
}
