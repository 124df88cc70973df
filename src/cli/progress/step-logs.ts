/**
 * `--show-logs`: the complete output of every step that printed something, after the build,
 * never clipped (the progress display only shows the last few lines of a running step).
 */
import type { StepRecord } from '../../builder/events.js';
import type { BuildStage } from '../../builder/types.js';
import { labelContext, numberRows, reportRows, stepLabel } from './explain.js';
import { VertexNumbers } from './model.js';
import { formatSeconds, paint } from './text.js';

/** Options for {@link formatStepLogs}. */
export interface StepLogsOptions {
  /** `BuildResult.steps`. */
  steps: readonly StepRecord[];
  /** `BuildResult.stages` (each stage's M and FROM vertex, so `#K` matches the progress). */
  stages?: readonly BuildStage[] | undefined;
  color?: boolean | undefined;
  /** The progress renderer's numbering, so `#N` matches what was shown. */
  numbers?: VertexNumbers | undefined;
}

/**
 * Each step's output under a `#K [stage N/M] INSTRUCTION (built, 1.2s)` heading, exactly as the
 * step wrote it (a final newline added when missing), a blank line between steps.
 */
export function formatStepLogs(options: StepLogsOptions): string {
  const numbers = options.numbers ?? new VertexNumbers();
  numberRows(reportRows(options.steps, options.stages), numbers);
  const ctx = labelContext(options.steps, options.stages);
  const blocks: Array<{ id: number; text: string }> = [];
  for (const s of options.steps) {
    if (s.output === undefined || s.output === '') continue;
    const id = numbers.get(s.stage, s.index);
    const head = paint(
      options.color === true,
      'bold',
      `#${id} ${stepLabel(s, ctx)} (${s.status}, ${formatSeconds(s.durationMs)})`,
    );
    blocks.push({
      id,
      text: `${head}\n${s.output.endsWith('\n') ? s.output : `${s.output}\n`}`,
    });
  }
  if (blocks.length === 0) return 'No step wrote any output in this build (cached steps do not run).\n';
  blocks.sort((a, b) => a.id - b.id);
  return blocks.map((b) => b.text).join('\n');
}
