/**
 * layerkit: Docker's storage and build layers, in-process. This file is the public API, chosen
 * name by name: what a user of docker, podman, buildx or crane reaches for (a store, images,
 * import and export, the union view, containers, the builder, reports), and the types that appear
 * in those signatures. The codecs and building blocks under them (tar, layer indexes, canonical
 * JSON, the Dockerfile lexer, the union core...) are in `layerkit/low-level` (src/low-level.ts).
 *
 * A change here is a change of the public surface: tests/package/exports.test.ts snapshots the
 * list and says how to accept a change.
 */

// Errors: every failure is a LayerkitError with a stable `code`, or a node:fs-shaped FsError.
export {
  type ErrorCode,
  ErrorCodes,
  errorLocation,
  FsError,
  type FsErrorCode,
  isFsError,
  isLayerkitError,
  LayerkitError,
  type LocatedErrorData,
  type SourceLocation,
} from './errors.js';

// Digests and OCI data.
export { chainId, type Digest, isDigest, parseDigest, sha256 } from './digest/index.js';
export {
  type ContainerConfig,
  type Descriptor,
  familiarReference,
  type HealthConfig,
  type History,
  type ImageConfig,
  type ImageIndex,
  isValidTag,
  type Manifest,
  type MediaType,
  MediaTypes,
  normalizeReference,
  parseReference,
  type Platform,
  type Reference,
} from './oci/index.js';

// The store.
export {
  type BlobInfo,
  type BlobSource,
  type BlobStore,
  defaultStorePath,
  type Lease,
  openStore,
  type OpenStoreOptions,
  type PutBlobOptions,
  type PutResult,
  type RefEntry,
  type Resolved,
  type Store,
  type VerifyProblem,
  type VerifyReport,
} from './store/index.js';

// Images: import, export, inspect, list, flatten, unpack, write, maintain.
export {
  type AddedLayer,
  addLayer,
  type AddLayerOptions,
  type ArchiveFormat,
  type ExportFormat,
  ExportFormats,
  exportImage,
  type ExportImageOptions,
  type ExportResult,
  type FilterableImage,
  type FlatImage,
  flattenImage,
  formatPlatform,
  hostPlatform,
  type Image,
  type ImageFilters,
  type ImageInspect,
  type ImageInspectConfig,
  type ImageLike,
  type ImageSummary,
  type ImportedImage,
  importImage,
  type ImportImageOptions,
  type ImportResult,
  inspectImage,
  type InspectImageOptions,
  isLoadedImage,
  type ListedEntry,
  listFlat,
  listImages,
  type ListImagesOptions,
  loadImage,
  type LoadImageOptions,
  matchImageFilters,
  parseImageFilters,
  parsePlatform,
  platformMatches,
  type RawManifest,
  readFlatFile,
  readRawManifest,
  type ReadRawManifestOptions,
  removeImage,
  type RemoveImageOptions,
  resolveImage,
  resolveImageRef,
  type SaveFormat,
  SaveFormats,
  saveImages,
  type SaveImagesOptions,
  type SaveResult,
  type UnpackReport,
  unpackRootfs,
  type UnpackRootfsOptions,
  writeImage,
  type WriteImageOptions,
} from './image/index.js';

// Store maintenance: gc and verify over every owner of store state.
export {
  gcStore,
  type GcStoreOptions,
  type GcStoreReport,
  type PruneCachePolicy,
  verifyStore,
  type VerifyStoreOptions,
} from './maintenance/index.js';

// The union view over an image, and what RUN executors see of it.
export {
  createUnionFS,
  type CreateUnionFSOptions,
  type ReadOptions,
  type UnionChange,
  UnionDirent,
  UnionFileHandle,
  UnionFS,
  type UnionReadStreamOptions,
  UnionStats,
  type UnionWriteStreamOptions,
} from './union/index.js';
export type {
  ExecMount,
  ExecRequest,
  ExecResult,
  Executor,
  ExecutorDirent,
  ExecutorFs,
  ExecutorStats,
} from './builder/index.js';
export {
  type CommitOptions,
  ImageFS,
  mountImage,
  type MountImageOptions,
} from './container/index.js';

// Containers: a named, writable view kept in the store.
export {
  commitContainer,
  type ContainerFS,
  type ContainerInfo,
  createContainer,
  type CreateContainerOptions,
  diffContainer,
  getContainer,
  hasContainer,
  openContainer,
  removeContainer,
  squashImage,
  type SquashImageOptions,
} from './container/index.js';

// Running containers (runc): run, start, stop, kill, pause, wait, logs, stats, inspect.
/** Every container with its state (running, paused, exited, created): `docker ps -a`. */
export { listContainerStates as listContainers } from './runtime/index.js';
export {
  assertRuntime,
  type BindMount,
  type ContainerDetails,
  type ContainerExit,
  type ContainerHandle,
  containerLogs,
  type ContainerRef,
  type ContainerStats,
  containerStats,
  containerStatus,
  type ContainerStatus,
  type ContainerSummary,
  execContainer,
  type ExecContainerOptions,
  inspectContainer,
  killContainer,
  type LogLine,
  pauseContainer,
  readCreateOptions,
  removeRuntime,
  resumeContainer,
  runContainer,
  type RunContainerOptions,
  type RunResources,
  type RunSpecOptions,
  runtimeUnavailable,
  setCreateOptions,
  startContainer,
  type StartContainerOptions,
  stopContainer,
  waitContainer,
} from './runtime/index.js';

// Registries: pull, push, login (OCI distribution), with credentials and progress.
export {
  type CredentialSources,
  loginRegistry,
  type LoginOptions,
  logoutRegistry,
  parseRegistryReference,
  pullImage,
  type PullImageOptions,
  type PullResult,
  pushImage,
  type PushImageOptions,
  type PushResult,
  type RegistryCredentials,
  type RegistryOptions,
  type RegistryReference,
  type TransferProgress,
  type TransferStatus,
  TransferStatuses,
  type TransferTotals,
} from './registry/index.js';

// Dockerfiles.
export {
  type ParsedDockerfile,
  parseDockerfile,
  type ParseOptions,
  type Position,
  type SourceRange,
  type Stage,
  type Stages,
  toStages,
  type Warning,
} from './dockerfile/index.js';

// The builder.
export {
  autoExecutor,
  type AutoExecutorOptions,
  build,
  type BuildEvent,
  buildMetadata,
  type BuildMetadata,
  type BuildMetadataOptions,
  type BuildOptions,
  type BuildOutput,
  BuildOutputTypes,
  type BuildRecord,
  type BuildResult,
  type BuildSecret,
  type BuildStage,
  type BuildWarning,
  formatWarning,
  functionExecutor,
  linuxExecutor,
  type LinuxExecutorOptions,
  linuxExecutorUnavailable,
  loadBuildRecord,
  type LoadBuildRecordOptions,
  type MissFileChange,
  type MissKind,
  type MissReason,
  missReasonLines,
  pruneBuildCache,
  type PruneBuildCacheOptions,
  type PruneBuildCacheReport,
  PULL_POLICIES,
  type BuildRegistryOptions,
  type PullPolicy,
  type StepRecord,
  type StepStatus,
  writeBuildOutput,
  type WriteBuildOutputOptions,
} from './builder/index.js';

// Reports: history, explain, analysis.
export {
  analyzeImage,
  type AnalyzeImageOptions,
  type BuildAnalysis,
  type BuildStepReason,
  type BuildStepRef,
  type BuildStepReport,
  type CacheStatus,
  type CopyFate,
  type DeleteCause,
  diskUsage,
  type DiskUsage,
  type DiskUsageCacheEntry,
  type DiskUsageContainer,
  type DiskUsageImage,
  type DiskUsageOptions,
  type DiskUsageSummary,
  type FileChange,
  type FileCopy,
  formatAgo,
  formatHistoryJson,
  formatHistoryTable,
  type FormatHistoryTableOptions,
  formatPercent,
  formatSize,
  type HistoryRow,
  humanDuration,
  type ImageAnalysis,
  type ImageHistory,
  type LayerAnalysis,
  readImageHistory,
  type ReadImageHistoryOptions,
  renderExplainHtml,
  type RenderExplainHtmlOptions,
  renderExplainText,
  type RenderExplainTextOptions,
  type ReportImage,
  type StageEdge,
  type StageNode,
  type WasteAnalysis,
  type WastedPath,
} from './report/index.js';

// The virtual shell: the default RUN executor.
export {
  createVirtualShell,
  runShellScript,
  type RunShellScriptOptions,
  SUPPORTED_UTILITIES,
  type VirtualShellOptions,
} from './shell/index.js';
