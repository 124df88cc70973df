/**
 * What a running build hands its stages and steps, in three parts a reader can hold apart: the
 * options (fixed for the whole build), the services (what the build works with) and the journal
 * (what it has done so far, the only part that changes).
 */
import type { Stage } from '../dockerfile/index.js';
import type { Lease, Store } from '../store/store.js';
import type { FingerprintCache } from './content-digest.js';
import type { BuildContext } from './context.js';
import type { NamedContext } from './named-contexts.js';
import type { BuildEvent, BuildWarning, StepRecord } from './events.js';
import type { Executor } from '../union/executor.js';
import type { StageState } from './state.js';
import type { BuildSecret } from './steps/run-mounts.js';
import type { BuildRegistryOptions, PullPolicy } from './base-image.js';
import type { CacheExport, CacheImport } from './remote-cache.js';

/** The fixed settings of a build: the Dockerfile, its arguments and what the caller asked for. */
export interface RunOptions {
  /** The Dockerfile's name, as messages and records show it. */
  file: string;
  /** The identity of this Dockerfile in this context (the cache's step positions are keyed by it). */
  dockerfileId: string;
  escapeToken: '\\' | '`';
  /** Every stage of the Dockerfile (`COPY --from` may name any of them). */
  stages: readonly Stage[];
  buildArgs: ReadonlyMap<string, string>;
  metaArgs: ReadonlyMap<string, string | undefined>;
  noCache: boolean;
  /** Entitlements the build was given (`network.host`, `security.insecure`). */
  allow: ReadonlySet<string>;
  /** The network of RUN steps without `--network` (or with `--network=default`). */
  network: 'default' | 'none' | 'host';
  /** Secrets for `RUN --mount=type=secret`. */
  secrets: Readonly<Record<string, BuildSecret>> | undefined;
  sourceDateEpoch: number | undefined;
  /** The target platform, `os/arch[/variant]`. */
  platform: string;
  /** When images the build reads are pulled from their registry. */
  pull: PullPolicy;
  /** Credentials, certificates and insecure hosts for those pulls. */
  registry: BuildRegistryOptions;
  /** Remote caches looked up after a local miss (`--cache-from`), in order. */
  cacheFrom: readonly CacheImport[];
  /** Where the build's cache records go (`--cache-to`). */
  cacheTo: readonly CacheExport[];
}

/** What the build works with: the store and its lease, the context, the executor, the clock. */
export interface RunServices {
  store: Store;
  /** Keeps every blob the build writes or reuses alive until the image is tagged. */
  lease: Lease;
  context: BuildContext;
  /** `--build-context` names (lower case): folders and image aliases `FROM` and `--from` read. */
  namedContexts: ReadonlyMap<string, NamedContext>;
  executor: Executor;
  fingerprints: FingerprintCache;
  /** Milliseconds since the epoch (injected, so tests never wait for real time to pass). */
  clock: () => number;
  signal: AbortSignal | undefined;
  emit: (e: BuildEvent) => void;
}

/** What the build has done so far. */
export interface RunJournal {
  /** Finished stages by index. */
  built: Map<number, StageState>;
  steps: StepRecord[];
  warnings: BuildWarning[];
}

/** Everything a stage needs from the build. */
export interface BuildRun {
  options: RunOptions;
  services: RunServices;
  journal: RunJournal;
}

/** The `created` time for history entries and configs: the source date epoch, else the clock. */
export function createdTime(run: BuildRun): string {
  const epoch = run.options.sourceDateEpoch;
  const ms = epoch !== undefined ? epoch * 1000 : run.services.clock();
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The `created` time of what adds no layer (a metadata step's history entry, the image config):
 * the source date epoch, else the time of the latest history entry before it (a layer's creation
 * time, which a cache hit keeps), as BuildKit's exporter fills it. So a build served entirely from
 * the cache gives the image it gave before, with the same digest, instead of a new one per run.
 * The clock only for a stage with no history at all.
 */
export function inheritedCreated(run: BuildRun, history: ReadonlyArray<{ created?: string | undefined }>): string {
  if (run.options.sourceDateEpoch !== undefined) return createdTime(run);
  for (let i = history.length - 1; i >= 0; i--) {
    const created = history[i]!.created;
    if (created !== undefined && created !== '') return created;
  }
  return createdTime(run);
}
