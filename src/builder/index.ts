/** The Dockerfile builder: build(), its events and results, the cache and executors. */
export * from './build.js';
export * from './types.js';
export * from './events.js';
// The executor and fs contracts live in union/ (below the shell and the runtime); the builder's API names them.
export type { Executor, ExecRequest, ExecResult, ExecMount, ExecSeccomp } from '../union/executor.js';
export type { ExecutorFs, ExecutorStats, ExecutorDirent } from '../union/fs-contract.js';
export {
  explainMiss,
  cacheKey,
  missReasonLines,
  type KeyComponents,
  type MissFileChange,
  type MissKind,
  type MissReason,
  type CacheRecord,
} from './cache.js';
export type { BuildSecret } from './steps/run-mounts.js';
export { pruneBuildCache, type PruneBuildCacheOptions, type PruneBuildCacheReport } from './prune-cache.js';
export {
  openContext,
  type BuildContext,
  type ContextEntry,
  type ContextFs,
  type ContextSource,
  type ContextStats,
} from './context.js';
export * from './build-record.js';
export {
  fetchRemoteContext,
  parseRemoteContext,
  redactUrl,
  type FetchedContext,
  type FetchRemoteContextOptions,
  type RemoteContext,
} from './remote-context.js';
export { stepPrefix, vertexLabel, type StepPrefixOptions, type VertexName } from './step-numbers.js';
export { linuxExecutor, linuxExecutorUnavailable, type LinuxExecutorOptions } from './executors/linux.js';
export { functionExecutor } from './executors/function.js';
export { autoExecutor, type AutoExecutorOptions } from './executors/auto.js';
export { PULL_POLICIES, type PullPolicy, type BuildRegistryOptions } from './base-image.js';
export {
  cacheHitText,
  parseCacheExport,
  parseCacheImport,
  type CacheExport,
  type CacheHitSource,
  type CacheImport,
} from './remote-cache.js';
export type { CacheFs } from '../registry/cache-local.js';
export {
  writeBuildOutput,
  BuildOutputTypes,
  type BuildOutput,
  type WriteBuildOutputOptions,
} from './build-output.js';
export { buildMetadata, type BuildMetadata, type BuildMetadataOptions } from './build-metadata.js';
