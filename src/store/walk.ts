/**
 * Walks the blob graph from a descriptor: index → manifests → config and layers. Shared by `gc`
 * (marking) and `verify` (checking). Unknown media types are visited but not descended into,
 * as the image-spec asks.
 */
import type { Digest } from '../digest/digest.js';
import { isConfigMediaType, isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest } from '../oci/types.js';
import type { BlobStore } from './blobs.js';

/** What the walker reports for each blob it reaches. */
export interface WalkVisit {
  descriptor: Descriptor;
  /** Where the descriptor came from (`index.json`, or the digest of the parent blob). */
  parent: string;
}

/** Options for {@link walkGraph}. */
export interface WalkOptions {
  blobs: BlobStore;
  roots: Array<{ descriptor: Descriptor; parent: string }>;
  /** Called once per reached blob (first time only); return false to not descend. */
  visit: (visit: WalkVisit) => boolean | void;
  /** Called with each config's diffIDs. */
  onDiffIds?: (diffIds: Digest[], config: Digest) => void;
  /** Called when a JSON blob cannot be read or parsed. */
  onError?: (descriptor: Descriptor, error: unknown) => void;
}

const JSON_LIMIT = 16 << 20;

/** Walks every blob reachable from the roots, each once. */
export async function walkGraph(options: WalkOptions): Promise<void> {
  const { blobs, visit, onDiffIds, onError } = options;
  const seen = new Set<string>();
  const queue = [...options.roots];
  while (queue.length > 0) {
    const { descriptor, parent } = queue.shift()!;
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    if (visit({ descriptor, parent }) === false) continue;
    const type = descriptor.mediaType;
    const isJsonGraph =
      isIndexMediaType(type) || isManifestMediaType(type) || isConfigMediaType(type) || type === undefined;
    if (!isJsonGraph || descriptor.size > JSON_LIMIT || !blobs.has(descriptor.digest)) continue;
    let value: unknown;
    try {
      value = (await blobs.readJson<unknown>(descriptor.digest, { size: descriptor.size })).value;
    } catch (err) {
      onError?.(descriptor, err);
      continue;
    }
    if (isConfigMediaType(type)) {
      const diffIds = (value as Partial<ImageConfig>).rootfs?.diff_ids;
      if (Array.isArray(diffIds)) onDiffIds?.(diffIds, descriptor.digest);
      continue;
    }
    const asIndex = value as Partial<ImageIndex>;
    const asManifest = value as Partial<Manifest>;
    if (Array.isArray(asIndex.manifests)) {
      for (const child of asIndex.manifests)
        if (isDescriptor(child)) queue.push({ descriptor: child, parent: descriptor.digest });
    } else if (isDescriptor(asManifest.config)) {
      const config = asManifest.config;
      queue.push({
        descriptor: { ...config, mediaType: config.mediaType ?? 'application/octet-stream' },
        parent: descriptor.digest,
      });
      for (const layer of asManifest.layers ?? [])
        if (isDescriptor(layer)) queue.push({ descriptor: layer, parent: descriptor.digest });
    }
    if (isDescriptor(asIndex.subject)) queue.push({ descriptor: asIndex.subject, parent: descriptor.digest });
  }
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | undefined;
  return typeof d === 'object' && d !== null && typeof d.digest === 'string' && typeof d.size === 'number';
}
