/** Store maintenance: gc and verify, each one entry point over every owner of store state. */
export { gcStore, type GcStoreOptions, type GcStoreReport, type PruneCachePolicy } from './gc-store.js';
export { verifyStore, type VerifyStoreOptions } from './verify-store.js';
