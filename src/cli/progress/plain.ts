/**
 * Progress for logs, as BuildKit's plain mode writes it: a `#N [stage k/n] INSTRUCTION` header
 * when a step starts, its output lines as `#N 0.123 text` (seconds since the step started),
 * then `#N CACHED` or `#N DONE 0.4s`; a blank line between steps. Never an escape sequence.
 */
import type { BuildEvent } from '../../builder/events.js';
import {
  missMessages,
  ProgressModel,
  warningText,
  type ModelChange,
  type Vertex,
  type VertexNumbers,
} from './model.js';
import type { BuildOutcome, Clock, ProgressRenderer, ProgressWriter } from './renderer.js';
import { formatSeconds } from './text.js';

/** Options for {@link PlainRenderer}. */
export interface PlainRendererOptions {
  writer: ProgressWriter;
  clock: Clock;
  /** Print each miss reason (`#N MISS ...`) before the step's DONE line. */
  explain?: boolean | undefined;
  numbers?: VertexNumbers | undefined;
}

/** Renders build events as append-only log lines. */
export class PlainRenderer implements ProgressRenderer {
  readonly #o: PlainRendererOptions;
  readonly #model: ProgressModel;
  #current: number | undefined;
  #wrote = false;
  #finished = false;

  constructor(options: PlainRendererOptions) {
    this.#o = options;
    this.#model = new ProgressModel({ clock: options.clock, numbers: options.numbers });
  }

  /** Prints what the event changed. */
  onEvent(event: BuildEvent): void {
    if (this.#finished) return;
    this.#print(this.#model.apply(event));
  }

  /** Ends running steps (ERROR / CANCELED) after a failure, then prints the warnings. */
  finish(outcome: BuildOutcome): void {
    if (this.#finished) return;
    if ('error' in outcome) this.#print(this.#model.fail(outcome.error));
    this.#finished = true;
    const { warnings } = this.#model;
    const lines: string[] = [];
    if (warnings.length > 0) {
      lines.push(`${warnings.length} warning${warnings.length === 1 ? '' : 's'} found:`);
      for (const w of warnings) lines.push(` - ${warningText(w)}`);
    }
    // As BuildKit's plain output ends: the failed step's output again, in one box.
    lines.push(...this.#model.failureBox());
    if (lines.length > 0) this.#write(lines, true);
  }

  #print(changes: ModelChange[]): void {
    for (const c of changes) {
      const v = c.vertex;
      if (c.kind === 'start') {
        this.#header(v);
        continue;
      }
      if (this.#current !== v.id) this.#header(v);
      if (c.kind === 'log') {
        this.#write([`#${v.id} ${(c.line.at / 1000).toFixed(3)} ${c.line.text}`]);
        continue;
      }
      const lines: string[] = [];
      switch (v.state) {
        case 'cached':
          lines.push(`#${v.id} CACHED${v.cacheSource ? ` ${v.cacheSource}` : ''}`);
          break;
        case 'built':
          if (this.#o.explain) for (const msg of missMessages(v)) lines.push(`#${v.id} MISS ${msg}`);
          lines.push(`#${v.id} DONE ${formatSeconds(this.#model.elapsed(v))}`);
          break;
        case 'skipped':
          lines.push(`#${v.id} SKIPPED`);
          break;
        case 'error':
          lines.push(`#${v.id} ERROR: ${v.error ?? 'failed'}`);
          break;
        case 'canceled':
          lines.push(`#${v.id} CANCELED`);
          break;
        case 'running':
          break;
      }
      this.#write(lines);
    }
  }

  #header(v: Vertex): void {
    this.#write([`#${v.id} ${this.#model.label(v)}`], true);
    this.#current = v.id;
  }

  #write(lines: string[], separate = false): void {
    if (lines.length === 0) return;
    this.#o.writer.write(`${separate && this.#wrote ? '\n' : ''}${lines.join('\n')}\n`);
    this.#wrote = true;
  }
}
