/**
 * Squash: an image's flattened tree as a one-layer image. The config is kept (same execution
 * defaults); its history entries are kept but marked `empty_layer`, and one new entry names the
 * squash, so history and diff_ids stay in step as Docker requires.
 */
import { resolveImage, type Image, type ImageLike } from '../image/image.js';
import { addLayer } from '../image/add-layer.js';
import { flattenImage } from '../image/listing.js';
import { flatTarEntries } from '../image/unpack.js';
import { writeImage } from '../image/write-image.js';
import type { ImageConfig } from '../oci/types.js';
import type { Store } from '../store/store.js';

/** Options for {@link squashImage}. */
export interface SquashImageOptions {
  store: Store;
  /** The image: a ref name, digest (or unique prefix), descriptor, or a loaded image. */
  image: ImageLike;
  tags?: string[] | undefined;
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Writes the image's flattened tree as a new one-layer image. */
export async function squashImage({
  store,
  image: which,
  tags = [],
  sourceDateEpoch,
  signal,
}: SquashImageOptions): Promise<Image> {
  const image = await resolveImage({ store, image: which });
  const flat = await flattenImage({ store, image, signal });
  return store.withLease(async (lease) => {
    const layer = await addLayer({ store, entries: flatTarEntries({ flat, signal }), sourceDateEpoch, lease, signal });
    const previous = JSON.parse(image.configBytes.toString('utf8')) as ImageConfig;
    const created = new Date(sourceDateEpoch !== undefined ? sourceDateEpoch * 1000 : Date.now())
      .toISOString()
      .replace('.000Z', 'Z');
    const config: ImageConfig = {
      ...previous,
      created,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [
        ...(previous.history ?? []).map((h) => ({ ...h, empty_layer: true })),
        {
          created,
          created_by: `layerkit squash ${image.descriptor.digest}`,
          comment: `${image.layers.length} layers squashed into one`,
        },
      ],
    };
    return writeImage({ store, config, layers: [layer.descriptor], tags, lease });
  });
}
