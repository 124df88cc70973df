/**
 * Test helpers for the progress renderers: a tiny terminal emulator (enough of a VT100 to show
 * what an in-place display leaves on screen) and a replayer for recorded event streams.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { BuildEvent, StepRecord } from '../../src/builder/events.js';
import type { BuildResult } from '../../src/builder/types.js';
import type { ProgressRenderer } from '../../src/cli/progress/index.js';
import { LayerkitError, type ErrorCode } from '../../src/errors.js';

/**
 * Applies printable text, `\n`, `\r`, `ESC[nA` (up), `ESC[2K` (clear line), `ESC[J` (clear
 * below) and SGR colours (ignored); throws on any other control or escape, and on moving above
 * the top of the screen, so a renderer cannot get away with output a terminal would mangle.
 */
export class Terminal {
  /** The screen (scrollback included), one string per row. */
  readonly rows: string[] = [''];
  row = 0;
  col = 0;
  /** Escape sequences seen, by kind. */
  readonly seen = { up: 0, clearLine: 0, clearBelow: 0, sgr: 0 };
  widest = 0;

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\n') {
        this.row++;
        this.col = 0;
        if (this.row >= this.rows.length) this.rows.push('');
      } else if (ch === '\r') {
        this.col = 0;
      } else if (ch === '\u001b') {
        const m = /^\u001b\[([0-9;]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) throw new Error(`unsupported escape at ${JSON.stringify(text.slice(i, i + 8))}`);
        const [all, arg, cmd] = m as unknown as [string, string, string];
        i += all.length - 1;
        if (cmd === 'A') {
          this.row -= arg === '' ? 1 : Number(arg);
          if (this.row < 0) throw new Error('cursor moved above the top of the screen');
          this.seen.up++;
        } else if (cmd === 'K' && arg === '2') {
          this.rows[this.row] = '';
          this.seen.clearLine++;
        } else if (cmd === 'J' && (arg === '' || arg === '0')) {
          this.rows[this.row] = this.rows[this.row]!.slice(0, this.col);
          this.rows.length = this.row + 1;
          this.seen.clearBelow++;
        } else if (cmd === 'm') {
          this.seen.sgr++;
        } else {
          throw new Error(`unsupported escape ${JSON.stringify(all)}`);
        }
      } else if (ch < ' ' || ch === '\u007f') {
        throw new Error(`control character ${JSON.stringify(ch)} written to the terminal`);
      } else {
        const line = this.rows[this.row]!;
        this.rows[this.row] = line.slice(0, this.col).padEnd(this.col) + ch + line.slice(this.col + 1);
        this.col++;
        this.widest = Math.max(this.widest, this.col);
      }
    }
  }

  /** The screen's text, trailing blank rows dropped. */
  screen(): string {
    const rows = [...this.rows];
    while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
    return `${rows.map((r) => r.trimEnd()).join('\n')}\n`;
  }
}

/** A recorded event stream. */
export interface Recording {
  description: string;
  events: Array<{ at: number; event: BuildEvent }>;
  /** When `finish()` is called (default: the last event's time). */
  finishAt?: number;
  /** What build() threw (absent: it succeeded). */
  error?: { code: string; message: string };
}

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** Reads `tests/cli/fixtures/NAME`. */
export function loadRecording(name: string): Recording {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Recording;
}

/** A clock a test moves by hand. */
export function fakeClock(): { now: () => number; set(t: number): void } {
  let t = 0;
  return { now: () => t, set: (v) => (t = v) };
}

/** The BuildResult a successful recording stands for (its image is only a descriptor and names). */
export function recordedResult(rec: Recording): BuildResult {
  const steps = rec.events.flatMap(({ event }) => (event.type === 'step' ? [stepOf(event)] : []));
  const events = rec.events.map((e) => e.event);
  const result = events.find((e): e is Extract<BuildEvent, { type: 'result' }> => e.type === 'result');
  const build = events.find((e): e is Extract<BuildEvent, { type: 'build' }> => e.type === 'build');
  const digest = result?.digest ?? `sha256:${'0'.repeat(64)}`;
  return {
    image: {
      descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 0 },
      names: result?.tags ?? [],
    } as unknown as BuildResult['image'],
    steps,
    stages: (build?.stages ?? []).map((s) => {
      const started = events.find(
        (e): e is Extract<BuildEvent, { type: 'stage' }> =>
          e.type === 'stage' && e.stage === s.stage && e.status === 'started',
      );
      return {
        stage: s.stage,
        index: s.index,
        status: s.reachable ? ('built' as const) : ('skipped' as const),
        total: started?.total ?? s.total,
        ...(started?.from ? { from: started.from } : {}),
      };
    }),
    target: build?.target ?? '',
    warnings: events.flatMap((e) => (e.type === 'warning' ? [e.warning] : [])),
    durationMs: result?.durationMs ?? 0,
  };
}

function stepOf(event: Extract<BuildEvent, { type: 'step' }>): StepRecord {
  const { type: _type, ...record } = event;
  return record;
}

/** The LayerkitError a failed recording stands for. */
export function recordedError(rec: Recording): LayerkitError {
  return new LayerkitError(rec.error!.code as ErrorCode, rec.error!.message);
}

/**
 * Feeds a recording to a renderer with the clock at each event's time, calling `tick` at every
 * multiple of `tickEvery` ms in between (as the CLI's interval timer would), then `finish`.
 * `stopAt` ends the replay early (no finish) to look at a live frame.
 */
export function replay(
  rec: Recording,
  renderer: ProgressRenderer & { tick?: () => void },
  clock: ReturnType<typeof fakeClock>,
  options: { tickEvery?: number; stopAt?: number } = {},
): void {
  const every = options.tickEvery ?? 100;
  let nextTick = every;
  const tickUntil = (t: number) => {
    while (renderer.tick && nextTick <= t) {
      clock.set(nextTick);
      renderer.tick();
      nextTick += every;
    }
  };
  for (const { at, event } of rec.events) {
    if (options.stopAt !== undefined && at > options.stopAt) {
      tickUntil(options.stopAt);
      clock.set(options.stopAt);
      return;
    }
    tickUntil(at);
    clock.set(at);
    renderer.onEvent(event);
  }
  const end = rec.finishAt ?? rec.events[rec.events.length - 1]!.at;
  tickUntil(end);
  clock.set(end);
  renderer.finish(rec.error ? { error: recordedError(rec) } : { result: recordedResult(rec) });
}

/** Compares `actual` with `tests/cli/fixtures/NAME`, or rewrites the file when UPDATE_GOLDEN=1. */
export function expectGolden(name: string, actual: string): void {
  const url = new URL(name, FIXTURES);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(url, actual);
    return;
  }
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

/** Collects what a renderer writes. */
export function collector(): { write(s: string): void; text: string; chunks: string[] } {
  const c = {
    text: '',
    chunks: [] as string[],
    write(s: string) {
      c.text += s;
      c.chunks.push(s);
    },
  };
  return c;
}
