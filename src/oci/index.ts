/** The OCI data model: media types, descriptor/manifest/index/config types, canonical JSON, references. */
export * from './media-types.js';
export * from './types.js';
export * from './canonical-json.js';
export * from './reference.js';
