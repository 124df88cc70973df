/** @internal What one pull carries from step to step, and its not-found error. */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Lease, Store } from '../store/store.js';
import type { RegistryClient } from './client.js';
import type { ProgressTracker, TransferStatus } from './progress.js';
import type { RegistryReference } from './reference.js';

/** One pull in progress (internal to the registry module; the package does not export it). */
export interface PullState {
  client: RegistryClient;
  ref: RegistryReference;
  store: Store;
  lease: Lease;
  progress: ProgressTracker;
  signal: AbortSignal | undefined;
  /** Blobs this pull created (removed again when it fails). */
  added: Set<Digest>;
  blobs: Map<Digest, { status: TransferStatus; size: number }>;
  scopes: string[];
  retries: number;
  retryDelayMs: number;
}

/** @internal The coded error for a manifest or repository the registry does not have. */
export function notFound(state: PullState, what: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_NOT_FOUND,
    `${what}: not found on ${state.client.registry} (no such repository or tag)`,
    { ref: state.ref.full, registry: state.client.registry },
  );
}
