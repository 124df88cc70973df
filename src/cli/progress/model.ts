/**
 * What the tty and plain renderers draw: build events folded into numbered vertices (one per
 * step, one per skipped stage), each with its state, times, miss reason and complete log.
 * Pure over an injected clock; `apply` returns what changed, so a streaming renderer can print
 * exactly the new lines and a redrawing one can ignore them.
 */
import type { MissReason } from '../../builder/cache.js';
import { type BuildEvent, type BuildWarning, formatWarning } from '../../builder/events.js';
import { vertexLabel } from '../../builder/step-numbers.js';
import { isLayerkitError } from '../../errors.js';
import { cacheHitText } from '../../builder/remote-cache.js';
import type { Clock } from './renderer.js';
import { oneLine, sanitizeLine } from './text.js';

/** Where a vertex is. */
export type VertexState = 'running' | 'cached' | 'built' | 'skipped' | 'error' | 'canceled';

/** One complete line of a step's output. */
export interface LogLine {
  /** Milliseconds since the step started. */
  at: number;
  stream: 'stdout' | 'stderr';
  /** Sanitised: no escape sequences or control characters. */
  text: string;
}

/**
 * One line of the progress display, as BuildKit has them: a numbered step (FROM an image, ADD,
 * COPY, RUN, WORKDIR), a named context used as a base, or (layerkit's own) a whole skipped stage.
 */
export interface Vertex {
  /** `#K`: numbered in the order vertices first appear. */
  id: number;
  stage: string;
  /** BuildKit's N of `[stage N/M]`; undefined for a named context or a skipped stage. */
  step: number | undefined;
  /** The stage's M. */
  total: number | undefined;
  /** The instruction's position in its stage (0 the FROM, negative an ONBUILD trigger); undefined for a skipped stage. */
  index: number | undefined;
  /** A named context used as the base: `[context NAME] ...`. */
  context: string | undefined;
  /** The instruction on one line (a skipped stage: a short note). */
  instruction: string;
  line: number | undefined;
  state: VertexState;
  metadata: boolean;
  /** Clock time the vertex appeared. */
  startedAt: number;
  /** The step's own duration once it ended (the build's measure, else the clock's). */
  durationMs: number | undefined;
  reason: string | undefined;
  explanation: MissReason[] | undefined;
  /** A cached step: where the hit came from (`from registry REF`, or '' for this store). */
  cacheSource: string;
  logs: LogLine[];
  /** Why it failed (`error` state). */
  error: string | undefined;
  /** For a skipped stage: how many of its steps were reported skipped. */
  skippedSteps: number;
}

/** What one event changed. */
export type ModelChange =
  | { kind: 'start'; vertex: Vertex }
  | { kind: 'log'; vertex: Vertex; line: LogLine }
  | { kind: 'end'; vertex: Vertex };

/**
 * `#K` vertex numbers, shared by a progress renderer and the `--explain` report so both name a
 * step by the same number. A vertex is known by its stage and the instruction's position
 * (`index`: 0 is the FROM, undefined a whole skipped stage).
 */
export class VertexNumbers {
  readonly #ids = new Map<string, number>();

  /** The number of a vertex, assigned on first use. */
  get(stage: string, index: number | undefined): number {
    const key = VertexNumbers.#key(stage, index);
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, (id = this.#ids.size + 1));
    return id;
  }

  /** The number already assigned, if any. */
  peek(stage: string, index: number | undefined): number | undefined {
    return this.#ids.get(VertexNumbers.#key(stage, index));
  }

  static #key(stage: string, index: number | undefined): string {
    return `${stage}\u0000${index ?? 'stage'}`;
  }
}

/** The first line of an error's message. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return oneLine(text.split('\n')[0] ?? '');
}

/** A finished step's miss reasons, one line each (the structured explanation, else the one-line reason). */
export function missMessages(v: Pick<Vertex, 'explanation' | 'reason'>): string[] {
  if (v.explanation && v.explanation.length > 0) return v.explanation.map((r) => oneLine(r.message));
  return v.reason ? [oneLine(v.reason)] : [];
}

/** A warning as one line: `file:line: message (rule: detail)`. */
export function warningText(w: BuildWarning): string {
  return oneLine(formatWarning(w));
}

/** Options for {@link ProgressModel}. */
export interface ProgressModelOptions {
  clock: Clock;
  /** Share with the `--explain` report (default: a fresh numbering). */
  numbers?: VertexNumbers | undefined;
}

/** Build events folded into vertices. */
export class ProgressModel {
  /** Every vertex, in the order they appeared. */
  readonly vertices: Vertex[] = [];
  readonly warnings: BuildWarning[] = [];
  /** The target stage, once the `build` event named it. */
  target: string | undefined;
  /** Clock time of the first event. */
  startedAt: number | undefined;
  /** The `result` event, once it came. */
  result: Extract<BuildEvent, { type: 'result' }> | undefined;

  readonly #clock: Clock;
  readonly #numbers: VertexNumbers;
  readonly #byId = new Map<number, Vertex>();
  /** Each stage's M, from the `build` event (ONBUILD triggers raise it on their steps). */
  readonly #totals = new Map<string, number>();
  /** True when the Dockerfile has one stage: labels leave its name out, as BuildKit's do. */
  #single = false;
  readonly #started = new Set<string>();
  readonly #partial = new Map<string, string>();
  readonly #streamed = new Set<Vertex>();
  /** Per stage, its FROM vertex while the base loads. */
  readonly #from = new Map<string, Vertex>();

  constructor(options: ProgressModelOptions) {
    this.#clock = options.clock;
    this.#numbers = options.numbers ?? new VertexNumbers();
  }

  /** Vertices that have ended. */
  get completed(): number {
    return this.vertices.filter((v) => v.state !== 'running').length;
  }

  /** Vertices still running. */
  get running(): Vertex[] {
    return this.vertices.filter((v) => v.state === 'running');
  }

  /** A stage's M, known from the start (the `build` event). */
  total(stage: string): number | undefined {
    return this.#totals.get(stage);
  }

  /** `[builder 2/5] COPY . /app`, `[context base] load from client`, or `[tester] ...` for a skipped stage. */
  label(v: Vertex): string {
    return vertexLabel({ ...v, total: v.total ?? this.#totals.get(v.stage) }, this.#single);
  }

  /**
   * BuildKit's box after a failure: each failed step's label and its whole output between
   * `------` rules (the renderers print it once, after the progress).
   */
  failureBox(): string[] {
    const out: string[] = [];
    for (const v of this.vertices) {
      if (v.state !== 'error') continue;
      out.push('------', ` > ${this.label(v)}:`);
      for (const l of v.logs) out.push(`${(l.at / 1000).toFixed(3)} ${l.text}`);
      out.push('------');
    }
    return out;
  }

  /** How long a vertex has run (ended: its duration; running: until now). */
  elapsed(v: Vertex): number {
    return v.durationMs ?? Math.max(0, this.#clock() - v.startedAt);
  }

  /** Folds one event in and says what changed. */
  apply(e: BuildEvent): ModelChange[] {
    const now = this.#clock();
    this.startedAt ??= now;
    const changes: ModelChange[] = [];
    switch (e.type) {
      case 'build':
        this.target = e.target;
        this.#single = e.stages.length === 1;
        for (const s of e.stages) this.#totals.set(s.stage, s.total);
        break;
      case 'stage':
        if (e.status === 'started') {
          this.#started.add(e.stage);
          if (e.total !== undefined) this.#totals.set(e.stage, e.total);
          // The FROM vertex (BuildKit's `1/M` for an image, `[context NAME]` for a named context)
          // runs while the base loads, until the stage's next step appears.
          if (e.from !== undefined && this.#existing(e.stage, 0) === undefined) {
            const v = this.#vertex(e.stage, 0, oneLine(e.from.name), changes);
            v.step = e.from.step;
            v.context = e.from.context;
            this.#from.set(e.stage, v);
          }
        } else if (e.status === 'done') {
          this.#endFrom(e.stage, now, changes);
        } else {
          this.#skippedStage(e.stage, changes);
        }
        break;
      case 'step-start': {
        this.#totals.set(e.stage, e.total);
        // A step BuildKit shows no vertex for (ENV, CMD, WORKDIR /...) only ends the FROM's.
        if (e.step === undefined) {
          this.#endFrom(e.stage, now, changes);
          break;
        }
        const v = this.#vertex(e.stage, e.index, oneLine(e.instruction), changes);
        v.step = e.step;
        v.total = e.total;
        v.line = e.line;
        break;
      }
      case 'log': {
        const v = this.#logVertex(e.stage, e.index);
        if (v === undefined) break;
        this.#streamed.add(v);
        const key = `${v.id}:${e.stream}`;
        const parts = ((this.#partial.get(key) ?? '') + e.data).split('\n');
        this.#partial.set(key, parts.pop() ?? '');
        for (const text of parts) this.#log(v, e.stream, text, now, changes);
        break;
      }
      case 'step': {
        if (e.status === 'skipped' && !this.#started.has(e.stage) && this.#existing(e.stage, e.index) === undefined) {
          this.#skippedStage(e.stage, changes).skippedSteps++;
          break;
        }
        if (e.step === undefined) {
          this.#endFrom(e.stage, now, changes);
          break;
        }
        const fresh = this.#existing(e.stage, e.index) === undefined;
        const v = this.#vertex(e.stage, e.index, oneLine(e.instruction), changes);
        if (v.state !== 'running') break;
        // Reported only when it ended: it started durationMs ago.
        if (fresh) v.startedAt = now - e.durationMs;
        v.instruction = oneLine(e.instruction) || v.instruction;
        v.step = e.step;
        v.total = e.total;
        v.line = e.line;
        v.metadata = e.metadata;
        v.reason = e.reason;
        v.explanation = e.explanation;
        v.cacheSource = cacheHitText(e.cacheSource);
        this.#flush(v, now, changes);
        if (!this.#streamed.has(v) && e.output) {
          const lines = e.output.split('\n');
          if (lines[lines.length - 1] === '') lines.pop();
          for (const text of lines) this.#log(v, 'stdout', text, now, changes);
        }
        v.state = e.status;
        v.durationMs = e.durationMs;
        changes.push({ kind: 'end', vertex: v });
        break;
      }
      case 'warning':
        this.warnings.push(e.warning);
        break;
      case 'pull': {
        const v = this.#logVertex(e.stage, e.index);
        if (v === undefined) break;
        const text = e.status === 'started' ? `pulling ${e.ref}` : `pulled ${e.ref} ${e.digest ?? ''}`.trimEnd();
        this.#log(v, 'stderr', text, now, changes);
        break;
      }
      case 'result':
        this.result = e;
        break;
    }
    return changes;
  }

  /** Ends every running vertex as failed (or canceled, when the build was aborted). */
  fail(error: unknown): ModelChange[] {
    const now = this.#clock();
    const canceled = isLayerkitError(error, 'ERR_ABORTED') || (error instanceof Error && error.name === 'AbortError');
    const changes: ModelChange[] = [];
    for (const v of this.running) {
      this.#flush(v, now, changes);
      v.state = canceled ? 'canceled' : 'error';
      v.error = errorMessage(error);
      v.durationMs = Math.max(0, now - v.startedAt);
      changes.push({ kind: 'end', vertex: v });
    }
    return changes;
  }

  #existing(stage: string, index: number | undefined): Vertex | undefined {
    const id = this.#numbers.peek(stage, index);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** The vertex a log or pull line belongs to (index 0: the FROM's, while the base loads). */
  #logVertex(stage: string, index: number): Vertex | undefined {
    return this.#existing(stage, index);
  }

  #vertex(stage: string, index: number, instruction: string, changes: ModelChange[]): Vertex {
    if (index !== 0) this.#endFrom(stage, this.#clock(), changes);
    else this.#from.delete(stage);
    const found = this.#existing(stage, index);
    if (found) {
      if (found.instruction === '' && instruction !== '') found.instruction = instruction;
      return found;
    }
    const v = this.#create(stage, index, instruction);
    changes.push({ kind: 'start', vertex: v });
    return v;
  }

  #endFrom(stage: string, now: number, changes: ModelChange[]): void {
    const v = this.#from.get(stage);
    if (v === undefined) return;
    this.#from.delete(stage);
    if (v.state !== 'running') return;
    v.state = 'built';
    v.durationMs = Math.max(0, now - v.startedAt);
    changes.push({ kind: 'end', vertex: v });
  }

  #skippedStage(stage: string, changes: ModelChange[]): Vertex {
    const found = this.#existing(stage, undefined);
    if (found) return found;
    const v = this.#create(
      stage,
      undefined,
      this.target !== undefined ? `stage not needed for target ${this.target}` : 'stage not needed for the target',
    );
    v.state = 'skipped';
    v.durationMs = 0;
    changes.push({ kind: 'start', vertex: v }, { kind: 'end', vertex: v });
    return v;
  }

  #create(stage: string, index: number | undefined, instruction: string): Vertex {
    const v: Vertex = {
      id: this.#numbers.get(stage, index),
      stage,
      step: undefined,
      total: undefined,
      index,
      context: undefined,
      instruction,
      line: undefined,
      state: 'running',
      metadata: false,
      startedAt: this.#clock(),
      durationMs: undefined,
      reason: undefined,
      explanation: undefined,
      logs: [],
      error: undefined,
      skippedSteps: 0,
      cacheSource: '',
    };
    this.#byId.set(v.id, v);
    this.vertices.push(v);
    return v;
  }

  #log(v: Vertex, stream: 'stdout' | 'stderr', raw: string, now: number, changes: ModelChange[]): void {
    const line: LogLine = { at: Math.max(0, now - v.startedAt), stream, text: sanitizeLine(raw) };
    v.logs.push(line);
    changes.push({ kind: 'log', vertex: v, line });
  }

  #flush(v: Vertex, now: number, changes: ModelChange[]): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${v.id}:${stream}`;
      const rest = this.#partial.get(key);
      this.#partial.delete(key);
      if (rest) this.#log(v, stream, rest, now, changes);
    }
  }
}
