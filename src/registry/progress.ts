/** Progress of a pull or push: one event per change of a blob's (or manifest's) state, with running totals. */
import type { Digest } from '../digest/digest.js';

/** What is happening to one blob or manifest. */
export const TransferStatuses = {
  /** Queued behind the parallel-transfer limit. */
  waiting: 'waiting',
  downloading: 'downloading',
  uploading: 'uploading',
  /** A transfer failed and is tried again (resumed with Range where possible). */
  retrying: 'retrying',
  /** Already there: in the store (pull) or on the registry (push). */
  exists: 'exists',
  /** Mounted from another repository of the same registry (push). */
  mounted: 'mounted',
  pulled: 'pulled',
  pushed: 'pushed',
} as const;

/** One of {@link TransferStatuses}. */
export type TransferStatus = (typeof TransferStatuses)[keyof typeof TransferStatuses];

/** A progress event. */
export interface TransferProgress {
  kind: 'blob' | 'manifest';
  digest: Digest;
  mediaType: string;
  /** The blob's size. */
  size: number;
  /** Bytes moved so far for this blob (0 for `exists`/`mounted`). */
  bytes: number;
  status: TransferStatus;
  /** Totals over the whole operation so far. */
  total: TransferTotals;
}

/** Running totals of a pull or push. */
export interface TransferTotals {
  /** Blobs (config and layers) the operation covers. */
  blobs: number;
  /** Of those, how many are done (transferred, found or mounted). */
  done: number;
  /** Bytes of all those blobs. */
  size: number;
  /** Bytes actually moved over the network so far. */
  bytes: number;
}

/** Keeps the totals and forwards events. */
export class ProgressTracker {
  readonly totals: TransferTotals = { blobs: 0, done: 0, size: 0, bytes: 0 };
  readonly #listener: ((event: TransferProgress) => void) | undefined;
  readonly #seen = new Set<string>();

  constructor(listener: ((event: TransferProgress) => void) | undefined) {
    this.#listener = listener;
  }

  /** Counts a blob into the totals (once per digest). */
  plan(digest: Digest, size: number): void {
    if (this.#seen.has(digest)) return;
    this.#seen.add(digest);
    this.totals.blobs++;
    this.totals.size += size;
  }

  /** Reports a state change; `moved` bytes are added to the total moved. */
  emit(event: Omit<TransferProgress, 'total'>, moved = 0): void {
    this.totals.bytes += moved;
    if (
      event.kind === 'blob' &&
      (event.status === 'exists' ||
        event.status === 'mounted' ||
        event.status === 'pulled' ||
        event.status === 'pushed')
    )
      this.totals.done++;
    this.#listener?.({ ...event, total: { ...this.totals } });
  }
}
