/** Mounting images from the store, committing changes, and containers (named writable layers). */
// Mounting and committing images live in union/ (below the builder); the public API names them here.
export * from '../union/commit-diff.js';
export * from '../union/mount-image.js';
export * from './containers.js';
export * from './squash.js';
export * from './list-view.js';
export * from './kernel-upper.js';
