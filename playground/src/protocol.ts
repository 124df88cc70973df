/** The messages between the page and its build worker. */
import type { StepRecord } from '../../src/index.js';
import type { BuildEvent } from '../../src/index.js';
import type { BuildRequest } from './engine.js';

/**
 * Page → worker: `reset` opens a fresh store (no cache; answered by `ready`), `build` builds on the
 * store as it is (answered by `event`s, then `done` or `error`). The worker handles them in order.
 */
export type PageMessage =
  | { type: 'reset' }
  | { type: 'build'; id: number; request: BuildRequest }
  /** The last built image as an OCI archive (answered by `archive`). */
  | { type: 'save' };

/** Worker → page. */
export type WorkerMessage =
  /** The library is loaded and a fresh store open, with the base image in it (`ms` after it was asked for). */
  | { type: 'ready'; ms: number }
  | { type: 'event'; id: number; event: BuildEvent }
  | { type: 'done'; id: number; steps: StepRecord[]; durationMs: number; html: string }
  | { type: 'error'; id: number; error: { code: string; message: string } }
  /** The image as an OCI archive, as `podman load` reads it. */
  | { type: 'archive'; blob: Blob };
