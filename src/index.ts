/**
 * layerkit: Docker's storage and build layers, in-process. This file is the one public API;
 * the CLI uses nothing else.
 */
export * from './errors.js';
export * from './digest/index.js';
export * from './oci/index.js';
export * from './store/index.js';
export * from './tar/index.js';
export * from './layer/index.js';
export * from './image/index.js';
export {
  createUnionFS,
  createUnionCore,
  UnionFS,
  type CreateUnionFSOptions,
  UpperLayer,
  type Inode,
  type InodeType,
  type UpperRecord,
  serializeUpper,
  deserializeUpper,
  UPPER_FORMAT_VERSION,
  type SerializedUpper,
  type SerializedUpperMeta,
  type SerializedInode,
  type DiffEntry,
  type DiffHeader,
  type UnionChange,
  UnionStats,
  UnionDirent,
  UnionFileHandle,
  type ReadOptions,
  type UnionReadStreamOptions,
  type UnionWriteStreamOptions,
} from './union/index.js';
export * from './container/index.js';
export * from './runtime/index.js';
/** Every container with its state (running, paused, exited, created): `docker ps -a`. */
export { listContainerStates as listContainers } from './runtime/index.js';
export * from './registry/index.js';
export * from './builder/index.js';
export * from './maintenance/index.js';
export * from './dockerfile/index.js';
export * from './report/index.js';
export {
  createVirtualShell,
  runShellScript,
  SUPPORTED_UTILITIES,
  type VirtualShellOptions,
  type RunShellScriptOptions,
} from './shell/index.js';
