/**
 * Progress for tools: every build event as one line of `JSON.stringify(event)`, exactly the
 * event object, the `result` event last. A failed build ends with one
 * `{"type":"error","code":...,"message":...}` line instead.
 */
import type { BuildEvent } from '../../builder/events.js';
import { isFsError, isLayerkitError } from '../../index.js';
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
}

/** Renders build events as JSON lines. */
export class JsonRenderer implements ProgressRenderer {
  readonly #writer: ProgressWriter;
  #result = false;
  #finished = false;

  constructor(options: JsonRendererOptions) {
    this.#writer = options.writer;
  }

  /** Writes the event as one JSON line. */
  onEvent(event: BuildEvent): void {
    if (this.#finished) return;
    if (event.type === 'result') this.#result = true;
    this.#writer.write(`${JSON.stringify(event)}\n`);
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
