/**
 * Images a build reads (`FROM IMAGE`, `COPY --from=IMAGE`, `RUN --mount=from=IMAGE`): found in the
 * store, or pulled from their registry as `docker build --pull` / `podman build --pull` decide.
 */
import { loadImage, type Image } from '../image/image.js';
import type { Platform } from '../oci/types.js';
import { ErrorCodes, isLayerkitError, LayerkitError } from '../errors.js';
import type { RegistryOptions } from '../registry/client.js';
import type { BuildRun } from './build-run.js';

export { PULL_POLICIES, type PullPolicy } from './pull-policy.js';
import type { PullPolicy } from './pull-policy.js';

/** Pulls started by one build, by reference and platform: each image is resolved once per build. */
const pulls = new WeakMap<object, Map<string, Promise<Image>>>();

/**
 * The image a build reads under `ref` for `platform`, pulled when the policy says so.
 * @throws `ERR_BUILD_BASE_NOT_FOUND` when it is not in the store and may not or could not be pulled
 *   (the registry's error is the cause; `data.image` names the reference, `data.pull` the policy).
 */
export async function loadBuildImage(
  run: BuildRun,
  ref: string,
  where: { stage: string; index: number },
  platform?: Platform,
): Promise<Image> {
  const { store, signal } = run.services;
  const policy = run.options.pull;
  if (policy !== 'always') {
    try {
      return await loadImage({ store, image: ref, ...(platform ? { platform } : {}) });
    } catch (err) {
      if (!isLayerkitError(err, ErrorCodes.ERR_NOT_FOUND) || policy === 'never')
        throw notFound(ref, policy, 'no such image in the store', err);
    }
  }
  let started = pulls.get(run.services);
  if (!started) pulls.set(run.services, (started = new Map()));
  const key = `${ref}\0${platform ? `${platform.os}/${platform.architecture}/${platform.variant ?? ''}` : ''}`;
  let pulled = started.get(key);
  if (!pulled) {
    run.services.emit({ type: 'pull', ...where, ref, status: 'started' });
    // The registry client is loaded by the first build that pulls, not by every build.
    pulled = import('../registry/pull.js')
      .then(({ pullImage }) =>
        pullImage({
          ...run.options.registry,
          store,
          ref,
          ...(platform ? { platform } : {}),
          ...(signal ? { signal } : {}),
        }),
      )
      .then(
        (result) => {
          run.services.emit({ type: 'pull', ...where, ref, status: 'done', digest: result.image.descriptor.digest });
          return result.image;
        },
        (err: unknown) => {
          throw notFound(ref, policy, `pulling it failed: ${(err as Error).message}`, err);
        },
      );
    started.set(key, pulled);
  }
  return pulled;
}

function notFound(ref: string, pull: PullPolicy, why: string, cause: unknown): LayerkitError {
  if (isLayerkitError(cause) && cause.code === ErrorCodes.ERR_ABORTED) return cause;
  // What to do next is the CLI's hint (it knows the flags); the library says what happened.
  const advice = pull === 'never' ? ' and the pull policy is never' : '';
  return new LayerkitError(
    ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
    `${why}${advice}`,
    {
      image: ref,
      pull,
      ...(isLayerkitError(cause) && cause.code !== ErrorCodes.ERR_NOT_FOUND ? { registryCode: cause.code } : {}),
    },
    { cause },
  );
}

/** Registry settings a build passes to its pulls and pushes (credentials, certificates, insecure hosts). */
export type BuildRegistryOptions = Omit<RegistryOptions, 'signal'>;
