/**
 * Progress for tools: every build event as one line of `JSON.stringify(event)`, the `result`
 * event last. A failed build ends with one `{"type":"error","code":...,"message":...}` line
 * instead. An event about a vertex also carries `vertex`, the `#K` of plain and explain
 * output; its `step` and `total` are BuildKit's N and M of `[stage N/M]`, as everywhere else.
 */
import type { BuildEvent } from '../../builder/events.js';
import { isFsError, isLayerkitError } from '../../errors.js';
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

  /** The event with its vertex number, assigned in the order the plain and tty models assign them. */
  #number(event: BuildEvent): BuildEvent & { vertex?: number } {
    switch (event.type) {
      case 'stage':
        // A started stage's FROM is a vertex when BuildKit shows one; a skipped stage is one vertex of its own.
        if (event.status === 'started' && event.from !== undefined)
          return { ...event, vertex: this.#numbers.get(event.stage, 0) };
        if (event.status === 'skipped') return { ...event, vertex: this.#numbers.get(event.stage, undefined) };
        return event;
      case 'step-start':
      case 'step':
        // Steps of a skipped stage are not vertices of their own; metadata steps are none at all.
        if (event.step === undefined || (event.type === 'step' && event.status === 'skipped')) return event;
        return { ...event, vertex: this.#numbers.get(event.stage, event.index) };
      case 'log':
      case 'pull': {
        const vertex = this.#numbers.peek(event.stage, event.index);
        return vertex === undefined ? event : { ...event, vertex };
      }
      default:
        return event;
    }
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
