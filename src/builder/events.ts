/**
 * What a build reports while it runs (`onEvent`) and what it returns per step. The CLI renders
 * these as BuildKit-like progress on a terminal, as plain lines, or as one JSON object per line.
 */
import type { Digest } from '../digest/digest.js';
import type { Warning } from '../dockerfile/types.js';
import type { Descriptor } from '../oci/types.js';
import type { MissReason } from './cache.js';
import type { CacheHitSource } from './remote-cache.js';
import type { ExecSeccomp } from '../union/executor.js';

/** A warning of a build: a Dockerfile lint rule broken at a line (BuildKit's rule names). */
export type BuildWarning = Warning;

/**
 * A warning as one line: `file:line: message (rule: detail)`. Records written by layerkit 0.1
 * kept warnings as these lines already; they are shown as they are.
 */
export function formatWarning(warning: BuildWarning | string): string {
  if (typeof warning === 'string') return warning;
  return `${warning.file}:${warning.line}: ${warning.message} (${warning.rule}: ${warning.detail})`;
}

/** How a step ended. */
export type StepStatus = 'cached' | 'built' | 'skipped';

/** One step of a build, as the result lists it and the `step` event reports it. */
export interface StepRecord {
  /** The stage's name (`builder`) or `stage-N`. */
  stage: string;
  /**
   * BuildKit's N of `[stage N/M]` (the `step` of `--progress json`, plain and tty progress,
   * `explain` and the build record): FROM an image is 1, then each ADD, COPY, RUN and WORKDIR
   * in order. Absent for what BuildKit shows no vertex for: metadata instructions (ENV, CMD…)
   * and a WORKDIR that resolves to `/`. See docs/step-numbers.md.
   */
  step?: number;
  /** BuildKit's M: the steps its stage counts (see {@link StepRecord.step}). */
  total: number;
  /**
   * Where the instruction sits in its stage, whatever its kind: 1 for the first instruction
   * after FROM, -1, -2… for the base image's ONBUILD triggers. Stable between builds of the
   * same Dockerfile (the cache's positions use it); never shown as a step number.
   */
  index: number;
  /** The instruction as written, canonical (`COPY . /app`). */
  instruction: string;
  /** The Dockerfile line it starts on. */
  line: number;
  status: StepStatus;
  /** A cached step: where the hit came from (this store, or a registry's cache). */
  cacheSource?: CacheHitSource;
  /** True for instructions that only change the config (no layer, no cache lookup). */
  metadata: boolean;
  /** The cache key (filesystem steps). */
  key?: Digest;
  /** The layer produced or reused. */
  layer?: Descriptor;
  diffId?: Digest;
  durationMs: number;
  /** Why the step missed the cache: one line. */
  reason?: string;
  /** Why, structured. */
  explanation?: MissReason[];
  /** RUN: the executor that ran the command (or whose layer the cache reused): `linux`, `virtual-shell`... */
  executor?: string;
  /**
   * RUN, when the command ran in a real process: the seccomp filter it ran under
   * (`docker-default`, `unconfined` for `--security=insecure`, `none` for the chroot isolation).
   */
  seccomp?: ExecSeccomp;
  /** RUN output (stdout and stderr interleaved), complete, never clipped. */
  output?: string;
}

/**
 * The vertex BuildKit shows for a stage's FROM: step 1 for an image (`[builder 1/4] FROM
 * alpine`), or, for a named context (`--build-context`), an unnumbered `[context NAME] ...`
 * (`name` is then the text after the prefix). FROM `scratch` or an earlier stage has none.
 */
export interface StageFrom {
  /** 1 for an image; absent for a named context. */
  step?: number;
  /** `FROM alpine:3.20`, or for a named context `load from client`, `docker-image://REF`... */
  name: string;
  /** The named context's name, for its `[context NAME]` prefix. */
  context?: string;
}

/** Events a build emits, in order. */
export type BuildEvent =
  | {
      type: 'build';
      /** Every stage of the Dockerfile, with its M (known before any step runs). */
      stages: Array<{ stage: string; index: number; reachable: boolean; total: number }>;
      target: string;
      dockerfile: string;
    }
  | {
      type: 'stage';
      stage: string;
      status: 'started' | 'done' | 'skipped';
      /** What FROM names, after ARG expansion (`started`). */
      base?: string;
      /** The stage's M (`started`; ONBUILD triggers of the base add to it on their steps). */
      total?: number;
      /** The vertex BuildKit shows for the FROM (`started`), if any: see {@link StageFrom}. */
      from?: StageFrom;
    }
  | ({ type: 'step-start' } & Pick<StepRecord, 'stage' | 'step' | 'total' | 'index' | 'instruction' | 'line'>)
  | ({ type: 'step' } & StepRecord)
  | { type: 'log'; stage: string; index: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'warning'; warning: BuildWarning }
  /** An image the build reads is being pulled from its registry (`--pull`), for the step that reads it. */
  | { type: 'pull'; stage: string; index: number; ref: string; status: 'started' | 'done'; digest?: Digest }
  /**
   * The build's cache records were exported (`--cache-to`): to a registry (`ref` the cache
   * reference) or a folder (`type=local`, `ref` the folder); `bytesUploaded` counts the blob bytes
   * sent or written (0 when the target had them all).
   */
  | { type: 'cache-export'; exporter: 'registry' | 'local'; ref: string; records: number; bytesUploaded: number }
  | { type: 'result'; digest: Digest; tags: string[]; durationMs: number };
