/**
 * What a build reports while it runs (`onEvent`) and what it returns per step. The CLI renders
 * these as BuildKit-like progress on a terminal, as plain lines, or as one JSON object per line.
 */
import type { Digest } from '../digest/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { MissReason } from './cache.js';

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
  | { type: 'warning'; message: string; line?: number }
  | { type: 'result'; digest: Digest; tags: string[]; durationMs: number };
