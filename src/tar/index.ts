/**
 * The tar codec: layerkit's own reader and writer for layer tars (the store needs each file's
 * data offset in the uncompressed stream, which no npm tar library exposes), plus path safety,
 * whiteout names and compression sniffing. Nothing here touches the filesystem.
 */
export * from './types.js';
export * from './path.js';
export * from './whiteout.js';
export * from './compression.js';
export * from './header.js';
export * from './name-encoding.js';
export * from './reader.js';
export * from './writer.js';
export * from './layer-writer.js';
