/** The messages between the page and its build worker. */
import type { BuildEvent, ContainerConfig, StepRecord } from '../../src/index.js';
import type { FolderFile } from './cache-folder.js';
import type { BuildRequest } from './engine.js';

/**
 * The worker keeps two machines, each its own in-memory store: `a`, where the page's builds run,
 * and `b`, a second machine that starts empty and can only reuse what `a` exported to the shared
 * cache folder ({@link CACHE_FOLDER}).
 */
export type Machine = 'a' | 'b';

/** The folder the machines share their build cache through (`type=local,dest=/cache` / `src=/cache`). */
export const CACHE_FOLDER = '/cache';

/**
 * Page → worker: `reset` opens a fresh store for the machine (no cache; answered by `ready`),
 * `build` builds on the machine's store as it is (answered by `event`s, then `done` or `error`):
 * with `exportCache`, its records go to the cache folder (`--cache-to type=local,mode=max`); with
 * `importCache`, a local miss asks the folder (`--cache-from type=local`). The worker handles the
 * messages in order.
 */
export type PageMessage =
  | { type: 'reset'; machine?: Machine }
  | {
      type: 'build';
      id: number;
      request: BuildRequest;
      machine?: Machine;
      exportCache?: boolean;
      importCache?: boolean;
    }
  /** The last image machine `a` built, as an OCI archive (answered by `archive`). */
  | { type: 'save' };

/** Worker → page. */
export type WorkerMessage =
  /** The library is loaded and a fresh store open, with the base image in it (`ms` after it was asked for). */
  | { type: 'ready'; ms: number; machine: Machine }
  | { type: 'event'; id: number; event: BuildEvent }
  | {
      type: 'done';
      id: number;
      machine: Machine;
      steps: StepRecord[];
      durationMs: number;
      html: string;
      /** The image ID and what a container of it starts with. */
      image: { id: string; config: ContainerConfig };
      /** The files of the shared cache folder after the build. */
      folder: FolderFile[];
    }
  | { type: 'error'; id: number; error: { code: string; message: string } }
  /** The image as an OCI archive, as `podman load` reads it. */
  | { type: 'archive'; blob: Blob };
