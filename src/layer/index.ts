/** Layers: the LayerReader contract, LayerIndex (built in one pass, kept in the store), flatten. */
export * from './types.js';
export * from './layer-index.js';
export * from './build-layer-index.js';
export * from './layer-store.js';
export * from './flatten.js';
export * from './memory-layer.js';
export * from './estargz-layer.js';
export * from './range-layer.js';
export * from './tar-range-layer.js';
