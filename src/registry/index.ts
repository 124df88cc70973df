/**
 * The registry client (OCI distribution): pull, push, login, with auth, credentials, TLS,
 * retries and mirrors. The only module that knows the network exists.
 */
export { pullImage, MANIFEST_ACCEPT, type PullImageOptions, type PullResult } from './pull.js';
export { pullAllTags, type PullAllTagsOptions, type PullAllTagsResult } from './pull-all-tags.js';
export { listTags, TAGS_PAGE_SIZE, type ListTagsOptions } from './tags.js';
export {
  pushImage,
  DEFAULT_CHUNK_THRESHOLD,
  REGISTRY_CHUNK_SIZES,
  type PushImageOptions,
  type PushResult,
} from './push.js';
export { loginRegistry, logoutRegistry, type LoginOptions } from './login.js';
export type { RegistryOptions } from './client.js';
export {
  findCredentials,
  authKey,
  dockerConfigPath,
  type RegistryCredentials,
  type CredentialSources,
} from './credentials.js';
export { parseRegistryReference, type RegistryReference } from './reference.js';
export { parseChallenges, type Challenge } from './challenge.js';
export {
  TransferStatuses,
  type TransferStatus,
  type TransferProgress,
  type TransferTotals,
} from './progress.js';
export { parseRegistriesConf, mirrorsFor, type RegistryHost } from './mirrors.js';
export {
  LazyImageFS,
  type LazyMountImageOptions,
  mountImage,
  type MountImageOptions,
} from './lazy-mount.js';
export { registryRangeSource, type RegistryRangeSourceOptions } from './lazy-range.js';
