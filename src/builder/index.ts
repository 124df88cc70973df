/** The Dockerfile builder: build(), its events and results, the cache and executors. */
export * from './build.js';
export * from './types.js';
export * from './events.js';
export type { Executor, ExecRequest, ExecResult, ExecutorFs, ExecutorStats, ExecutorDirent } from './executor.js';
export { explainMiss, cacheKey, type KeyComponents, type MissReason, type CacheRecord } from './cache.js';
export type { BuildSecret } from './steps/run-mounts.js';
export type { ExecMount } from './executor.js';
export { pruneBuildCache, type PruneBuildCacheOptions, type PruneBuildCacheReport } from './prune-cache.js';
export { openContext, type BuildContext, type ContextEntry } from './context.js';
export * from './build-record.js';
export { linuxExecutor, linuxExecutorUnavailable, type LinuxExecutorOptions } from './executors/linux.js';
export { functionExecutor } from './executors/function.js';
