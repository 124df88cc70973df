/**
 * Progress for tools: every build event as one line of `JSON.stringify(event)`, the `result`
 * event last. A failed build ends with one `{"type":"error","code":...,"message":...}` line
 * instead. An event about a step also carries the numbers the other screens show (BuildKit's):
 * `vertex`, the `#K` of plain and explain output, and `stageStep`, the N of `[stage N/M]`
 * (the event's `step` is 0 for FROM, so `stageStep` is `step + 1`).
 */
import type { BuildEvent } from '../../builder/events.js';
import { isFsError, isLayerkitError } from '../../index.js';
import { VertexNumbers } from './model.js';
import type { BuildOutcome, ProgressRenderer, ProgressWriter } from './renderer.js';

/** The last line of a failed build's JSON stream. */
export interface JsonErrorLine {
  type: 'error';
  /** A LayerkitError code, a Node fs error code, or `ERR_INTERNAL`. */
  code: string;
  message: string;
}

/** Options for {@link JsonRenderer}. */
export interface JsonRendererOptions {
  writer: ProgressWriter;
  /** The vertex numbers the explain report shares (assigned in event order, as the other renderers do). */
  numbers?: VertexNumbers | undefined;
}

/** Renders build events as JSON lines. */
export class JsonRenderer implements ProgressRenderer {
  readonly #writer: ProgressWriter;
  readonly #numbers: VertexNumbers;
  #result = false;
  #finished = false;

  constructor(options: JsonRendererOptions) {
    this.#writer = options.writer;
    this.#numbers = options.numbers ?? new VertexNumbers();
  }

  /** Writes the event as one JSON line. */
  onEvent(event: BuildEvent): void {
    if (this.#finished) return;
    if (event.type === 'result') this.#result = true;
    const numbered = this.#number(event);
    this.#writer.write(`${JSON.stringify(numbered)}\n`);
  }

  /** The event with its vertex numbers, assigned in the order the plain and tty models assign them. */
  #number(event: BuildEvent): BuildEvent & { vertex?: number; stageStep?: number } {
    if (event.type === 'stage') {
      // A started stage is its FROM (step 0, BuildKit's `1/n`); a skipped one is one vertex of its own.
      if (event.status === 'started' && event.base !== undefined)
        return { ...event, vertex: this.#numbers.get(event.stage, 0), stageStep: 1 };
      if (event.status === 'skipped') return { ...event, vertex: this.#numbers.get(event.stage, undefined) };
      return event;
    }
    const e = event as { stage?: unknown; step?: unknown; status?: unknown };
    // The steps of a skipped stage are not vertices of their own (the stage's one vertex stands for them).
    if (typeof e.stage !== 'string' || typeof e.step !== 'number' || e.status === 'skipped') return event;
    return { ...event, vertex: this.#numbers.get(e.stage, e.step), ...(e.step >= 0 ? { stageStep: e.step + 1 } : {}) };
  }

  /**
   * After a failure, writes the error line. After a success whose `result` event never came,
   * writes one made from the result, so the stream always ends with it.
   */
  finish(outcome: BuildOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    if ('error' in outcome) {
      const { error } = outcome;
      const code = isLayerkitError(error) ? error.code : isFsError(error) ? (error.code ?? 'EIO') : 'ERR_INTERNAL';
      const line: JsonErrorLine = {
        type: 'error',
        code,
        message: error instanceof Error ? error.message : String(error),
      };
      this.#writer.write(`${JSON.stringify(line)}\n`);
      return;
    }
    if (this.#result) return;
    const { result } = outcome;
    const event: BuildEvent = {
      type: 'result',
      digest: result.image.descriptor.digest,
      tags: result.image.names,
      durationMs: result.durationMs,
    };
    this.#writer.write(`${JSON.stringify(event)}\n`);
  }
}
