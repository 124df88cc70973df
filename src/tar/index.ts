/**
 * The tar codec: layerkit's own reader and writer for layer tars (the store needs each file's
 * data offset in the uncompressed stream, which no npm tar library exposes), plus path safety,
 * whiteout names and compression sniffing. Nothing here touches the filesystem. The low-level
 * block codec (`header.ts`) and name encoding stay internal.
 */
export type { TarEntryHeader, TarEntryInput } from './types.js';
export {
  PATH_LIMITS,
  baseName,
  compareTarPaths,
  joinPath,
  normalizeEntryPath,
  normalizeLinkTarget,
  parentPath,
  type NormalizePathOptions,
} from './path.js';
export {
  AUFS_META_PREFIX,
  OPAQUE_MARKER,
  WHITEOUT_PREFIX,
  classifyWhiteout,
  opaqueMarkerFor,
  whiteoutPathFor,
  type WhiteoutKind,
} from './whiteout.js';
export {
  SNIFF_BYTES,
  compressStream,
  decompressStream,
  sniffCompression,
  type CompressOptions,
  type Compression,
  type DecompressOptions,
} from './compression.js';
export { TAR_LIMITS, TarParser, type TarParserHandlers, type TarParserOptions } from './reader.js';
export { readTarEntries, type ReadTarEntriesOptions, type TarEntry } from './read-tar-entries.js';
export { TarWriter, type TarWriterOptions } from './writer.js';
export { writeLayer, type LayerEntryInput, type LayerWriteResult, type WriteLayerOptions } from './layer-writer.js';
export * from './estargz.js';
export { EstargzWriter, type EstargzWriteResult, type EstargzWriterOptions, tocEntryOf } from './estargz-writer.js';
