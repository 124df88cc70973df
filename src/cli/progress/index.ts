/**
 * Build progress for the CLI: picks a renderer for `--progress auto|tty|plain|json`, wires the
 * tty renderer's redraw ticker, and re-exports the renderers and the after-build reports.
 */
import type { BuildEvent } from '../../builder/events.js';
import { JsonRenderer } from './json.js';
import type { VertexNumbers } from './model.js';
import { PlainRenderer } from './plain.js';
import type { BuildOutcome, Clock, ProgressMode, ProgressRenderer, ProgressWriter } from './renderer.js';
import { TtyRenderer } from './tty.js';

export {
  ProgressModes,
  type BuildOutcome,
  type Clock,
  type ProgressMode,
  type ProgressRenderer,
  type ProgressWriter,
} from './renderer.js';
export { TtyRenderer, type TtyRendererOptions, type TerminalSize } from './tty.js';
export { PlainRenderer, type PlainRendererOptions } from './plain.js';
export { JsonRenderer, type JsonErrorLine, type JsonRendererOptions } from './json.js';
export { VertexNumbers } from './model.js';
export { formatExplainReport, type ExplainReportOptions } from './explain.js';
export { formatStepLogs, type StepLogsOptions } from './step-logs.js';
export { formatDockerfileExcerpt, type DockerfileExcerptOptions } from './excerpt.js';

/** A stream the progress may be drawn on. */
export type ProgressStream = ProgressWriter & { isTTY?: boolean; columns?: number; rows?: number };

/**
 * The renderer `auto` stands for: `tty` when stderr is a terminal (and `TERM` is not `dumb`),
 * else `plain`. Other modes are returned as they are.
 */
export function resolveProgressMode(options: {
  mode: ProgressMode;
  stream: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}): Exclude<ProgressMode, 'auto'> {
  if (options.mode !== 'auto') return options.mode;
  return options.stream.isTTY === true && options.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/**
 * Whether progress on `stream` may be coloured: never when `NO_COLOR` is set to anything but
 * the empty string (no-color.org), always when `FORCE_COLOR` is set and not `0`, else only on a
 * terminal.
 */
export function progressColor(options: { stream: { isTTY?: boolean }; env: NodeJS.ProcessEnv }): boolean {
  const { env } = options;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return options.stream.isTTY === true && env.TERM !== 'dumb';
}

/** Options for {@link createProgressRenderer}. */
export interface CreateProgressRendererOptions {
  /** `auto` must be resolved first ({@link resolveProgressMode}). */
  mode: Exclude<ProgressMode, 'auto'>;
  /** Where tty and plain progress go (stderr). */
  err: ProgressStream;
  /** Where JSON lines go (stdout). */
  out: ProgressWriter;
  color: boolean;
  /** Show miss reasons in the progress. */
  explain?: boolean | undefined;
  numbers?: VertexNumbers | undefined;
  /** Default `performance.now`. */
  clock?: Clock | undefined;
  /** How often the tty display redraws at most, in ms (default 100). */
  interval?: number | undefined;
}

/**
 * A renderer for a live build. For `tty`, a timer redraws every `interval` ms (it does not keep
 * the process alive) until `finish()`.
 */
export function createProgressRenderer(options: CreateProgressRendererOptions): ProgressRenderer {
  const clock = options.clock ?? (() => performance.now());
  if (options.mode === 'json') return new JsonRenderer({ writer: options.out, numbers: options.numbers });
  if (options.mode === 'plain')
    return new PlainRenderer({ writer: options.err, clock, explain: options.explain, numbers: options.numbers });
  const interval = options.interval ?? 100;
  const { err } = options;
  const tty = new TtyRenderer({
    writer: err,
    clock,
    color: options.color,
    explain: options.explain,
    numbers: options.numbers,
    interval,
    size: () => ({
      ...(err.columns !== undefined ? { columns: err.columns } : {}),
      ...(err.rows !== undefined ? { rows: err.rows } : {}),
    }),
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    onEvent(event: BuildEvent) {
      if (timer === undefined) {
        timer = setInterval(() => tty.tick(), interval);
        timer.unref();
      }
      tty.onEvent(event);
    },
    finish(outcome: BuildOutcome) {
      if (timer !== undefined) clearInterval(timer);
      tty.finish(outcome);
    },
  };
}
