/**
 * The per-process cache of lazily read eStargz layers: a layer (its verified TOC and the chunks
 * fetched so far) is opened once per blob and diffID, and every later lazy mount of an image
 * holding it reuses it, reading through that mount's own connection.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { EstargzLayer, RangeSource } from '../layer/estargz-layer.js';

interface Held {
  layer: Promise<EstargzLayer>;
  /** The source reads go through: the latest mount's. */
  current: RangeSource;
}

/** Options for {@link LazyRangeCache.open}. */
export interface LazyRangeCacheOpenOptions {
  /** Blob digest and diffID. */
  key: string;
  /** The descriptor's TOC annotation ('' when it has none). */
  tocDigest: string;
  source: RangeSource;
  /** Opens the layer over a source (called once per key). */
  open: (source: RangeSource) => Promise<EstargzLayer>;
}

/** Layers by blob and diffID, for the life of the process. */
export class LazyRangeCache {
  readonly #held = new Map<string, Held>();

  /** The layer for `key`: the cached one (reading through `source` from now on), or a new one. */
  async open(o: LazyRangeCacheOpenOptions): Promise<EstargzLayer> {
    const hit = this.#held.get(o.key);
    if (hit) {
      hit.current = o.source;
      const layer = await hit.layer;
      if (o.tocDigest !== '' && o.tocDigest !== layer.tocDigest) {
        throw new LayerkitError(
          ErrorCodes.EINTEGRITY,
          `eStargz blob ${layer.blob}: its TOC hashes to ${layer.tocDigest}, not ${o.tocDigest} as the layer's annotation says`,
          { digest: layer.blob, expected: o.tocDigest, found: layer.tocDigest },
        );
      }
      return layer;
    }
    const held: Held = { current: o.source, layer: Promise.resolve(undefined as unknown as EstargzLayer) };
    const shared: RangeSource = {
      size: o.source.size,
      read: (start, end, signal) => held.current.read(start, end, signal),
    };
    held.layer = o.open(shared);
    this.#held.set(o.key, held);
    held.layer.catch(() => this.#held.delete(o.key));
    return held.layer;
  }

  /** Forgets every layer (their fetched chunks go with them). */
  clear(): void {
    this.#held.clear();
  }
}

/** The process's cache. */
export const lazyRangeCache = new LazyRangeCache();
