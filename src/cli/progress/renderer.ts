/**
 * The one small interface every progress renderer implements (tty, plain, json), and what they
 * are built from: a writer and a clock, injected, so a recorded event stream renders the same
 * bytes every time.
 */
import type { BuildEvent } from '../../builder/events.js';
import type { BuildResult } from '../../builder/types.js';

/** Where a renderer writes: only `write`, so a test can collect the text. */
export interface ProgressWriter {
  write(text: string): unknown;
}

/** Milliseconds from any fixed origin (`Date.now`, `performance.now`, or a test's fake). */
export type Clock = () => number;

/** How a build ended, as `finish()` learns it. */
export type BuildOutcome = { result: BuildResult } | { error: unknown };

/** Renders a build's events as they arrive, then its end. */
export interface ProgressRenderer {
  /** Takes one event, in the order the build emits them. */
  onEvent(event: BuildEvent): void;
  /**
   * Called once, after the build resolved or threw: draws the final state, the warnings and,
   * after a failure, the failing step's log. Writes nothing after it returns.
   */
  finish(outcome: BuildOutcome): void;
}

/** The progress modes `--progress` accepts. */
export const ProgressModes = ['auto', 'tty', 'plain', 'json'] as const;

/** One of {@link ProgressModes}. */
export type ProgressMode = (typeof ProgressModes)[number];
