/**
 * `--show-logs`: the complete output of every step that printed something, after the build,
 * never clipped (the progress display only shows the last few lines of a running step).
 */
import type { StepRecord } from '../../builder/events.js';
import { numberSteps, stageTotals, stepLabel } from './explain.js';
import { VertexNumbers } from './model.js';
import { formatSeconds, paint } from './text.js';

/** Options for {@link formatStepLogs}. */
export interface StepLogsOptions {
  /** `BuildResult.steps`. */
  steps: readonly StepRecord[];
  color?: boolean | undefined;
  /** The progress renderer's numbering, so `#N` matches what was shown. */
  numbers?: VertexNumbers | undefined;
}

/**
 * Each step's output under a `#N [stage k/n] INSTRUCTION (built, 1.2s)` heading, exactly as the
 * step wrote it (a final newline added when missing), a blank line between steps.
 */
export function formatStepLogs(options: StepLogsOptions): string {
  const numbers = options.numbers ?? new VertexNumbers();
  numberSteps(options.steps, numbers);
  const totals = stageTotals(options.steps);
  const blocks: Array<{ id: number; text: string }> = [];
  for (const s of options.steps) {
    if (s.output === undefined || s.output === '') continue;
    const head = paint(
      options.color === true,
      'bold',
      `#${numbers.get(s.stage, s.step)} ${stepLabel(s, totals)} (${s.status}, ${formatSeconds(s.durationMs)})`,
    );
    blocks.push({
      id: numbers.get(s.stage, s.step),
      text: `${head}\n${s.output.endsWith('\n') ? s.output : `${s.output}\n`}`,
    });
  }
  if (blocks.length === 0) return 'No step wrote any output in this build (cached steps do not run).\n';
  blocks.sort((a, b) => a.id - b.id);
  return blocks.map((b) => b.text).join('\n');
}
