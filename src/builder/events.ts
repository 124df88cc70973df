/**
 * What a build reports while it runs (`onEvent`) and what it returns per step. The CLI renders
 * these as BuildKit-like progress on a terminal, as plain lines, or as one JSON object per line.
 */
import type { Digest } from '../digest/digest.js';
import type { Warning } from '../dockerfile/types.js';
import type { Descriptor } from '../oci/types.js';
import type { MissReason } from './cache.js';

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
  /** 1-based position of the instruction in its stage (0 is the FROM). */
  step: number;
  /** The instruction as written, canonical (`COPY . /app`). */
  instruction: string;
  /** The Dockerfile line it starts on. */
  line: number;
  status: StepStatus;
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
  /** RUN output (stdout and stderr interleaved), complete, never clipped. */
  output?: string;
}

/** Events a build emits, in order. */
export type BuildEvent =
  | {
      type: 'build';
      stages: Array<{ stage: string; index: number; reachable: boolean }>;
      target: string;
      dockerfile: string;
    }
  | { type: 'stage'; stage: string; status: 'started' | 'done' | 'skipped'; base?: string }
  | ({ type: 'step-start' } & Pick<StepRecord, 'stage' | 'step' | 'instruction' | 'line'>)
  | ({ type: 'step' } & StepRecord)
  | { type: 'log'; stage: string; step: number; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'warning'; warning: BuildWarning }
  /** An image the build reads is being pulled from its registry (`--pull`), for the step that reads it. */
  | { type: 'pull'; stage: string; step: number; ref: string; status: 'started' | 'done'; digest?: Digest }
  | { type: 'result'; digest: Digest; tags: string[]; durationMs: number };
