/** The store: an OCI image layout (blobs, refs) plus layerkit's private state, on disk or in memory. */
export * from './backend.js';
export * from './blobs.js';
export * from './refs.js';
export * from './store.js';
export * from './gc.js';
export * from './verify.js';
export { walkGraph, type WalkOptions, type WalkVisit } from './walk.js';
