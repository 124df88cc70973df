/**
 * The metadata file of a build (`docker buildx build --metadata-file`): buildx's keys for the
 * image written, and layerkit's own under `layerkit.*`.
 */
import { normalizeReference } from '../oci/reference.js';
import { formatWarning } from './events.js';
import type { BuildResult } from './types.js';

/** What {@link buildMetadata} returns: buildx's keys, then layerkit's. */
export interface BuildMetadata {
  /** The manifest digest. */
  'containerimage.digest': string;
  /** The config digest (the image ID). */
  'containerimage.config.digest': string;
  'containerimage.descriptor': { mediaType: string; digest: string; size: number };
  /** The names, fully qualified and comma-separated, as buildx writes them (absent without names). */
  'image.name'?: string;
  'layerkit.target': string;
  'layerkit.steps': { total: number; cached: number; built: number; skipped: number };
  'layerkit.warnings': string[];
  'layerkit.durationMs': number;
}

/** Options for {@link buildMetadata}. */
export interface BuildMetadataOptions {
  result: BuildResult;
  /** The names the image was given (`tags` of the build). */
  tags?: string[] | undefined;
}

/**
 * The metadata buildx writes with `--metadata-file`, for a finished build.
 * @example writeFileSync('meta.json', JSON.stringify(buildMetadata({ result, tags: ['app:1'] }), null, 2));
 */
export function buildMetadata({ result, tags = [] }: BuildMetadataOptions): BuildMetadata {
  const { image } = result;
  const count = (status: string) => result.steps.filter((s) => s.status === status).length;
  const names = tags.map((t) => {
    try {
      return normalizeReference(t);
    } catch {
      return t;
    }
  });
  return {
    'containerimage.digest': image.descriptor.digest,
    'containerimage.config.digest': image.manifest.config.digest,
    'containerimage.descriptor': {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
    },
    ...(names.length > 0 ? { 'image.name': names.join(',') } : {}),
    'layerkit.target': result.target,
    'layerkit.steps': {
      total: result.steps.length,
      cached: count('cached'),
      built: count('built'),
      skipped: count('skipped'),
    },
    'layerkit.warnings': result.warnings.map(formatWarning),
    'layerkit.durationMs': result.durationMs,
  };
}
