/**
 * The builder's public options and result.
 */
import type { Image } from '../image/image.js';
import type { Platform } from '../oci/types.js';
import type { Store } from '../store/store.js';
import type { BuildEvent, BuildWarning, StageFrom, StepRecord } from './events.js';
import type { Executor } from '../union/executor.js';
import type { BuildSecret } from './steps/run-mounts.js';
import type { BuildOutput } from './build-output.js';
import type { BuildRegistryOptions, PullPolicy } from './base-image.js';
import type { ContextSource } from './context.js';
import type { CacheExport, CacheImport } from './remote-cache.js';

/** Options for `build()`. */
export interface BuildOptions {
  store: Store;
  /**
   * The context: a folder path (on Node), or `{ fs, dir }`, a folder in an injected filesystem
   * (a subset of `fs.promises`, as isomorphic-git injects one: memfs, LightningFS, a page's own).
   */
  context: ContextSource;
  /** The Dockerfile, relative to the context (default `Dockerfile`), or an absolute path. */
  dockerfile?: string | undefined;
  /** The Dockerfile's text, when it is not a file (then `dockerfile` is only its name in messages). */
  dockerfileText?: string | undefined;
  /** Names for the built image. */
  tags?: string[] | undefined;
  /** The stage to build (default: the last). */
  target?: string | undefined;
  /** `--build-arg` values. */
  buildArgs?: Record<string, string> | undefined;
  /** Rebuild every filesystem step (the cache is still written). */
  noCache?: boolean | undefined;
  /**
   * How RUN steps run. Default `auto`: the Linux executor where the host can run it (Linux, root,
   * overlayfs, util-linux) and the image has a shell, the virtual shell otherwise (always for an
   * in-memory store).
   */
  executor?: Executor | undefined;
  /**
   * The network of RUN steps (as `docker build --network`): `default` (a network: see the
   * executor), `none` (loopback only), `host` (needs the `network.host` entitlement). A step's
   * `RUN --network=none|host` overrides it.
   */
  network?: 'default' | 'none' | 'host' | undefined;
  /** Entitlements, as `docker buildx build --allow`: `network.host` for `RUN --network=host`, `security.insecure` for `RUN --security=insecure`. */
  allow?: Array<'network.host' | 'security.insecure'> | undefined;
  /**
   * Secrets for `RUN --mount=type=secret,id=ID` (as `docker build --secret id=ID,src=FILE`): a
   * file, an environment variable of this process, or the bytes. Never in a layer or a cache key.
   */
  secrets?: Record<string, BuildSecret> | undefined;
  /** Seconds since the epoch: image and history `created`, and the clamp of every file mtime. */
  sourceDateEpoch?: number | undefined;
  /**
   * `'estargz'`: the image's layers are written in eStargz (gzip that registries and runtimes
   * read as usual, lazily pullable). The steps' cached layers stay gzip; the image converts them.
   */
  compression?: 'estargz' | undefined;
  /** The target platform (default: this machine's). */
  platform?: Platform | undefined;
  /**
   * When images the build reads (`FROM`, `COPY --from`, `RUN --mount=from=`) are pulled from their
   * registry: `missing` (default) pulls what the store lacks, `always` resolves tags again,
   * `never` only reads the store. The cache key sees the platform manifest's digest either way.
   */
  pull?: PullPolicy | undefined;
  /**
   * Credentials, certificates, insecure registries and proxies for those pulls (and the remote
   * cache); its `env` and `proxy` also route a context given as an HTTP(S) URL.
   */
  registry?: BuildRegistryOptions | undefined;
  /**
   * Remote caches to reuse steps from after a local miss (`docker buildx build --cache-from`): a
   * cache repository written by `cacheTo`, or an image built with an inline cache. Keys are always
   * computed here; a record is only looked up by key and used when its bytes verify.
   */
  cacheFrom?: CacheImport[] | undefined;
  /**
   * Where to export the build's cache records (`--cache-to`): a cache repository
   * (`{ type: 'registry', ref, mode: 'min' | 'max' }`) or `{ type: 'inline' }` (into the image's config).
   */
  cacheTo?: CacheExport[] | undefined;
  /**
   * Milliseconds since the epoch (default `Date.now`): durations, record times, `created` when no
   * `sourceDateEpoch` is given, and the racy window of the context's file hashes.
   */
  clock?: (() => number) | undefined;
  /** Labels added to the image's config (`docker build --label`), over the Dockerfile's LABELs. */
  labels?: Record<string, string> | undefined;
  /**
   * Where the result goes besides the store (`docker buildx build --output`): the target stage's
   * files into a folder (`local`) or one tar (`tar`), or the image as an `oci` or `docker`
   * archive. Several outputs are written in order, as buildx ≥ 0.13 does (at most one may be a
   * stream). The image is written to the store in every case (untagged without `tags`).
   */
  output?: BuildOutput | BuildOutput[] | undefined;
  /**
   * Named contexts (`docker buildx build --build-context NAME=VALUE`): `FROM NAME`,
   * `COPY --from=NAME` and `RUN --mount=from=NAME` read them. A value is a folder, or
   * `docker-image://REF` for an image (from the store, else pulled as FROM pulls). A stage of the same name wins.
   */
  buildContexts?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /** Receives progress events as they happen. */
  onEvent?: ((event: BuildEvent) => void) | undefined;
}

/** One stage of a build, as `build()` reports it and the build record keeps it. */
export interface BuildStage {
  /** The stage id: its name, or `stage-N`. */
  stage: string;
  index: number;
  status: 'built' | 'skipped';
  /** What FROM names: an earlier stage (its id), or an image reference (`scratch` included), after ARG expansion. */
  base?: { stage: string } | { image: string };
  /** What its `COPY --from` steps read: stage ids, or image references. */
  copyFrom?: string[];
  /** BuildKit's M for the stage (records written before layerkit 0.2 lack it: it is computed on load). */
  total?: number;
  /** The vertex BuildKit shows for the FROM, when the stage ran and has one (see {@link StageFrom}). */
  from?: StageFrom;
}

/** What `build()` returns. */
export interface BuildResult {
  image: Image;
  /** Every step of every stage, in the order they ran (skipped stages' steps included). */
  steps: StepRecord[];
  /** Stages: built or skipped, with what each starts FROM and reads with `COPY --from`. */
  stages: BuildStage[];
  /** The stage that became the image. */
  target: string;
  /** Dockerfile lint warnings, as data ({@link formatWarning} gives the line a terminal shows). */
  warnings: BuildWarning[];
  /** What the first `output` wrote, and what it could not reproduce there (owners when not root, devices). */
  output?: { type: BuildOutput['type']; warnings: string[] };
  /** Each `output`, in order: its type and warnings. */
  outputs?: Array<{ type: BuildOutput['type']; warnings: string[] }>;
  /**
   * The local files and folders the build read, absolute: the context as it was walked (ignored
   * entries and the folders themselves included: a folder's mtime changes when an entry is added
   * or removed), the Dockerfile and the ignore files it may use, present or not. What to watch to
   * know whether the same build would read the same things. Absent for a fetched (git or HTTP)
   * context and for a context in an injected filesystem.
   */
  inputs?: string[];
  durationMs: number;
}
