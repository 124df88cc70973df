/** Images: load, write, import, export, list, remove, flatten, unpack. */
export * from './image.js';
export * from './platform.js';
export * from './write-image.js';
export * from './import.js';
export * from './export.js';
export * from './images.js';
export * from './listing.js';
export * from './unpack.js';
export * from './add-layer.js';
export * from './raw-manifest.js';
export * from './inspect.js';
export * from './image-filters.js';
export * from './resolve-image.js';
export * from './estargz-convert.js';
