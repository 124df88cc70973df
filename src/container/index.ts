/** Mounting images from the store, committing changes, and containers (named writable layers). */
export * from './commit.js';
export * from './mount.js';
export * from './containers.js';
export * from './squash.js';
export * from './list-view.js';
