/**
 * The union view: an image's layers under one writable upper layer, overlayfs semantics,
 * `node:fs/promises`-shaped API, and the changes a commit turns into a layer.
 */
export { createUnionFS, createUnionCore, UnionFS, type CreateUnionFSOptions } from './union-fs.js';
export { UpperLayer, type Inode, type InodeType, type UpperRecord } from './upper-layer.js';
export {
  serializeUpper,
  deserializeUpper,
  UPPER_FORMAT_VERSION,
  type SerializedUpper,
  type SerializedUpperMeta,
  type SerializedInode,
} from './upper-serialize.js';
export type { DiffEntry, DiffHeader, UnionChange } from './changes.js';
export { UnionStats, UnionDirent } from './stats.js';
export { UnionFileHandle, type ReadOptions } from './file-handle.js';
export type { UnionReadStreamOptions, UnionWriteStreamOptions } from './streams.js';
