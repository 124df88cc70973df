/** When a build pulls the images it reads: the policies, light enough for a command line's parser (./base-image.ts pulls). */

/**
 * When a build pulls an image it reads (podman's `--pull` values): `missing` (the default) pulls
 * only what the store lacks; `always` resolves every tag again on the registry and downloads the
 * blobs the store lacks; `never` only reads the store.
 */
export type PullPolicy = 'missing' | 'always' | 'never';

/** The pull policies, for option checks. */
export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];
