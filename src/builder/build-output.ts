/**
 * Build outputs besides the store, as `docker buildx build --output` has them: the target
 * stage's files into a folder (`type=local`) or one tar (`type=tar`), or the image as an
 * oci-archive (`type=oci`) or docker-archive (`type=docker`).
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { exportImage, type ExportFormat } from '../image/export.js';
import type { Image } from '../image/image.js';
import type { Store } from '../store/store.js';

export { type BuildOutput, BuildOutputTypes } from './build-output-types.js';
import { type BuildOutput, BuildOutputTypes } from './build-output-types.js';

const FORMATS: Record<BuildOutput['type'], ExportFormat> = {
  local: 'rootfs',
  tar: 'tar',
  oci: 'oci-archive',
  docker: 'docker-archive',
};

/** Options for {@link writeBuildOutput}. */
export interface WriteBuildOutputOptions {
  store: Store;
  image: Image;
  output: BuildOutput;
  /** Names written into an `oci`/`docker` archive (default: `output.name`, else none). */
  names?: string[] | undefined;
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Writes a built image where `output` says. A `local` folder must not exist or be empty; what
 * it could not reproduce there (owners when not root, device files) comes back as warnings.
 * @example await writeBuildOutput({ store, image: result.image, output: { type: 'local', dest: './out' } });
 */
export async function writeBuildOutput(options: WriteBuildOutputOptions): Promise<{ warnings: string[] }> {
  const { store, image, output, signal } = options;
  if (!(BuildOutputTypes as readonly string[]).includes(output.type))
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `unknown build output type ${JSON.stringify(output.type)}: use one of ${BuildOutputTypes.join(', ')}`,
      { type: output.type },
    );
  if (output.type === 'local' && typeof output.dest !== 'string')
    throw new LayerkitError(ErrorCodes.ERR_USAGE, 'a local build output needs a folder path', {});
  const name = output.type === 'local' ? undefined : (output.name ?? options.names?.[0]);
  const result = await exportImage({
    store,
    image,
    format: FORMATS[output.type],
    output: output.dest,
    name,
    sourceDateEpoch: options.sourceDateEpoch,
    signal,
  });
  return { warnings: result.unpack?.warnings ?? [] };
}
