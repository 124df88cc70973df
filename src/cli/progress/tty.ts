/**
 * BuildKit-style progress on a terminal: a block of lines redrawn in place (cursor up, clear
 * line, clear below), a header with the elapsed time and the count of finished steps, one line
 * per step with its timer and a CACHED / ERROR mark, the last few output lines under a running
 * step, and finished steps collapsed to their one line. Redraws are throttled; a ticker the
 * owner drives (`tick()`) keeps the timers moving between events.
 */
import type { BuildEvent } from '../../builder/events.js';
import { missMessages, ProgressModel, warningText, type Vertex, type VertexNumbers } from './model.js';
import type { BuildOutcome, Clock, ProgressRenderer, ProgressWriter } from './renderer.js';
import { align, cut, formatSeconds, paint } from './text.js';

/** The terminal's size in character cells. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Options for {@link TtyRenderer}. */
export interface TtyRendererOptions {
  writer: ProgressWriter;
  clock: Clock;
  /** Read before every redraw, so a resized terminal is followed (default 80×24). */
  size?: (() => Partial<TerminalSize>) | undefined;
  /** ANSI colours (cursor movement is used either way). */
  color?: boolean | undefined;
  /** Show each miss reason under its step. */
  explain?: boolean | undefined;
  /** Least time between two redraws caused by events, in ms (default 100). */
  interval?: number | undefined;
  /** Output lines shown under a running step (default 6). */
  logLines?: number | undefined;
  numbers?: VertexNumbers | undefined;
}

const CSI = '\u001b[';

/** Renders build events as a live, in-place block of lines. */
export class TtyRenderer implements ProgressRenderer {
  readonly #o: TtyRendererOptions;
  readonly #model: ProgressModel;
  #lineCount = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #lastFrame = '';
  #dirty = false;
  #finished = false;

  constructor(options: TtyRendererOptions) {
    this.#o = options;
    this.#model = new ProgressModel({ clock: options.clock, numbers: options.numbers });
  }

  /** Takes one event; redraws at once unless the last redraw was less than `interval` ago. */
  onEvent(event: BuildEvent): void {
    if (this.#finished) return;
    this.#model.apply(event);
    this.#dirty = true;
    if (this.#o.clock() - this.#lastDraw >= (this.#o.interval ?? 100)) this.#draw(false);
  }

  /** Redraws when something changed or a timer is running; call it every `interval` ms. */
  tick(): void {
    if (this.#finished || this.#model.startedAt === undefined) return;
    if (this.#dirty || this.#model.running.length > 0) this.#draw(false);
  }

  /** Draws the final state (every step), then the warnings and, after a failure, the failing steps' full logs. */
  finish(outcome: BuildOutcome): void {
    if (this.#finished) return;
    const failed = 'error' in outcome;
    if (failed) this.#model.fail(outcome.error);
    if (this.#model.startedAt !== undefined) this.#draw(true, !failed);
    this.#finished = true;
    const color = this.#o.color === true;
    const out: string[] = [];
    const { warnings } = this.#model;
    if (warnings.length > 0) {
      out.push(paint(color, 'yellow', ` ${warnings.length} warning${warnings.length === 1 ? '' : 's'} found:`));
      for (const w of warnings) out.push(paint(color, 'yellow', ` - ${warningText(w)}`));
    }
    out.push(...this.#model.failureBox());
    if (out.length > 0) this.#o.writer.write(`${out.join('\n')}\n`);
  }

  #size(): TerminalSize {
    const s = this.#o.size?.() ?? {};
    return { columns: Math.max(20, s.columns ?? 80), rows: Math.max(3, s.rows ?? 24) };
  }

  #draw(final: boolean, ok = false): void {
    const now = this.#o.clock();
    const { columns, rows } = this.#size();
    // One column spare: a line filling the last column makes some terminals wrap early.
    let lines = this.#frame(final, ok, columns - 1);
    if (!final && lines.length > rows - 1) lines = [lines[0]!, ...lines.slice(lines.length - (rows - 2))];
    const frame = lines.join('\n');
    this.#lastDraw = now;
    this.#dirty = false;
    if (frame === this.#lastFrame && !final) return;
    let s = this.#lineCount > 0 ? `${CSI}${this.#lineCount}A\r` : '\r';
    for (const l of lines) s += `${CSI}2K${l}\n`;
    s += `${CSI}J`;
    this.#o.writer.write(s);
    this.#lastFrame = frame;
    this.#lineCount = lines.length;
  }

  #frame(final: boolean, ok: boolean, width: number): string[] {
    const m = this.#model;
    const color = this.#o.color === true;
    const elapsed = final && m.result ? m.result.durationMs : this.#o.clock() - (m.startedAt ?? 0);
    const lines = [
      cut(
        `[+] Building ${formatSeconds(elapsed)} (${m.completed}/${m.vertices.length})${final && ok ? ' FINISHED' : ''}`,
        width,
      ),
    ];
    const running = m.running;
    const logRoom = Math.max(1, Math.floor((this.#o.logLines ?? 6) / Math.max(1, running.length)));
    for (const v of m.vertices) {
      lines.push(this.#vertexLine(v, width, color));
      if (v.state === 'running') {
        for (const l of v.logs.slice(-logRoom)) lines.push(paint(color, 'dim', cut(` => => # ${l.text}`, width)));
      } else if (this.#o.explain && v.state === 'built') {
        for (const msg of missMessages(v)) lines.push(paint(color, 'yellow', cut(` => => MISS ${msg}`, width)));
      }
    }
    return lines;
  }

  #vertexLine(v: Vertex, width: number, color: boolean): string {
    const mark = {
      running: '',
      built: '',
      cached: v.cacheSource ? `CACHED ${v.cacheSource} ` : 'CACHED ',
      skipped: 'SKIPPED ',
      error: 'ERROR ',
      canceled: 'CANCELED ',
    }[v.state];
    const timer = v.index === undefined ? '' : formatSeconds(this.#model.elapsed(v));
    const text = align(` => ${mark}${this.#model.label(v)}`, timer, width).trimEnd();
    switch (v.state) {
      case 'running':
        return text;
      case 'built':
      case 'cached':
        return paint(color, 'blue', text);
      case 'error':
        return paint(color, 'red', text);
      case 'canceled':
        return paint(color, 'yellow', text);
      case 'skipped':
        return paint(color, 'dim', text);
    }
  }
}
