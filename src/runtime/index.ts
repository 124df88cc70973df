/**
 * Containers that run: `runContainer` on runc (spec generator, snapshotter, monitor, lifecycle
 * derived from runc and the exit record, cgroup limits and stats). runc does the isolation.
 */
export * from './cgroups.js';
export * from './lifecycle.js';
export * from './run-container.js';
export * from './runc.js';
export * from './snapshotter.js';
export * from './spec.js';
export * from './state.js';
export * from './users.js';
export { type LayerStack, lookupCommand, readInRoot, resolveInRoot, type RootfsView } from './rootfs-read.js';
export { MONITOR_SOURCE, type MonitorConfig } from './monitor.js';
