/**
 * The per-process cache of lazily read layers: a layer (an eStargz one's verified TOC, an
 * uncompressed one's headers, and the chunks fetched so far) is opened once per blob and diffID,
 * and every later lazy mount of an image holding it reuses it, reading through that mount's own
 * connection.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { RangeLayer, RangeSource } from '../layer/range-layer.js';

interface Held {
  layer: Promise<RangeLayer>;
  /** The sources of the mounts holding the layer; reads go through the latest one still open. */
  sources: RangeSource[];
}

/** Options for {@link LazyRangeCache.open}. */
export interface LazyRangeCacheOpenOptions {
  /** Blob digest and diffID. */
  key: string;
  /** The descriptor's TOC annotation ('' when it has none, or the layer is not eStargz). */
  tocDigest: string;
  source: RangeSource;
  /** Opens the layer over a source (called once per key). */
  open: (source: RangeSource) => Promise<RangeLayer>;
}

/** Layers by blob and diffID, for the life of the process. */
export class LazyRangeCache {
  readonly #held = new Map<string, Held>();

  /**
   * The layer for `key`: the cached one (reading through `source` from now on), or a new one.
   * `release` (when the mount closes) stops reads going through `source`.
   */
  async open(o: LazyRangeCacheOpenOptions): Promise<{ layer: RangeLayer; release: () => void }> {
    const hit = this.#held.get(o.key);
    if (hit) {
      hit.sources.push(o.source);
      const release = (): void => {
        hit.sources = hit.sources.filter((s) => s !== o.source);
      };
      let layer: RangeLayer;
      try {
        layer = await hit.layer;
      } catch (err) {
        release();
        throw err;
      }
      const found = (layer as { tocDigest?: string }).tocDigest;
      if (o.tocDigest !== '' && o.tocDigest !== found) {
        throw new LayerkitError(
          ErrorCodes.EINTEGRITY,
          `eStargz blob ${layer.blob}: its TOC hashes to ${found ?? '(no TOC)'}, not ${o.tocDigest} as the layer's annotation says`,
          { digest: layer.blob, expected: o.tocDigest, found },
        );
      }
      return { layer, release };
    }
    const held: Held = { sources: [o.source], layer: Promise.resolve(undefined as unknown as RangeLayer) };
    const shared: RangeSource = {
      size: o.source.size,
      read: (start, end, signal) => {
        const source = held.sources.at(-1);
        if (source === undefined) {
          throw new LayerkitError(
            ErrorCodes.ERR_ABORTED,
            'the lazy mount was closed: mount the image again to read it',
            {
              key: o.key,
            },
          );
        }
        return source.read(start, end, signal);
      },
    };
    held.layer = o.open(shared);
    this.#held.set(o.key, held);
    held.layer.catch(() => this.#held.delete(o.key));
    const release = (): void => {
      held.sources = held.sources.filter((s) => s !== o.source);
    };
    return { layer: await held.layer, release };
  }

  /** True when a layer of this blob is held (whatever its diffID). */
  holds(blob: string): boolean {
    for (const key of this.#held.keys()) if (key.startsWith(`${blob} `)) return true;
    return false;
  }

  /** Forgets every layer (their fetched chunks go with them). */
  clear(): void {
    this.#held.clear();
  }
}

/** The process's cache. */
export const lazyRangeCache = new LazyRangeCache();
