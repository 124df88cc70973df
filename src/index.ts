/**
 * layerkit: Docker's storage and build layers, in-process. This file is the one public API.
 */
export * from './errors.js';
export * from './digest/index.js';
export * from './oci/index.js';
