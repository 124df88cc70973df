/**
 * The `--explain` report: after a build, one entry per step saying whether it came from the
 * cache, and for every miss each reason the builder recorded (a changed file per line, with
 * what changed about it). Steps keep the `#N` numbers the progress display gave them.
 */
import { missReasonLines } from '../../builder/cache.js';
import { cacheHitText } from '../../builder/remote-cache.js';
import { vertexLabel } from '../../builder/step-numbers.js';
import type { StageFrom, StepRecord } from '../../builder/events.js';
import type { BuildStage } from '../../builder/types.js';
import { VertexNumbers } from './model.js';
import { oneLine, paint, type Style } from './text.js';

/** Options for {@link formatExplainReport}. */
export interface ExplainReportOptions {
  /** `BuildResult.steps`. */
  steps: readonly StepRecord[];
  /** `BuildResult.stages`: each stage's M and FROM vertex (without them, M comes from the steps and no FROM is listed). */
  stages?: readonly BuildStage[] | undefined;
  /** The stage that became the image. */
  target?: string | undefined;
  color?: boolean | undefined;
  /** The progress renderer's numbering, so `#K` matches what was shown (default: numbered in order). */
  numbers?: VertexNumbers | undefined;
}

/** One line of a report: a vertex (with its `#K`) or a step BuildKit shows none for. */
interface Row {
  stage: string;
  /** The FROM's vertex (index 0) or a step; undefined for a whole skipped stage. */
  step?: StepRecord;
  from?: StageFrom;
}

/**
 * The rows of a report, in the order the progress shows their vertices: per stage, its FROM
 * vertex, then its steps; a stage that did not run is one row.
 */
export function reportRows(steps: readonly StepRecord[], stages: readonly BuildStage[] | undefined): Row[] {
  const order = stages?.map((s) => s.stage) ?? [...new Set(steps.map((s) => s.stage))];
  for (const s of steps) if (!order.includes(s.stage)) order.push(s.stage);
  const rows: Row[] = [];
  for (const stage of order) {
    const own = steps.filter((s) => s.stage === stage);
    const info = stages?.find((s) => s.stage === stage);
    const ran = info ? info.status === 'built' : own.some((s) => s.status !== 'skipped');
    if (!ran) {
      rows.push({ stage });
      continue;
    }
    if (info?.from !== undefined) rows.push({ stage, from: info.from });
    for (const step of own) rows.push({ stage, step });
  }
  return rows;
}

/** Gives every vertex its `#K` in the order the progress display does (numbers already given are kept). */
export function numberRows(rows: readonly Row[], numbers: VertexNumbers): void {
  for (const r of rows) {
    if (r.from !== undefined) numbers.get(r.stage, 0);
    else if (r.step === undefined) numbers.get(r.stage, undefined);
    else if (r.step.step !== undefined) numbers.get(r.stage, r.step.index);
  }
}

/** Per stage, its M: from the stages when given, else the largest one the steps carry. */
function stageTotals(steps: readonly StepRecord[], stages: readonly BuildStage[] | undefined): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of steps) totals.set(s.stage, Math.max(totals.get(s.stage) ?? 0, s.total));
  for (const s of stages ?? [])
    if (s.total !== undefined) totals.set(s.stage, Math.max(totals.get(s.stage) ?? 0, s.total));
  return totals;
}

/** What labels need: each stage's M, and whether the Dockerfile has one stage (no stage names). */
export interface LabelContext {
  totals: ReadonlyMap<string, number>;
  single: boolean;
}

/** The labels' context for a build's steps and stages. */
export function labelContext(steps: readonly StepRecord[], stages: readonly BuildStage[] | undefined): LabelContext {
  const count = stages?.length ?? new Set(steps.map((s) => s.stage)).size;
  return { totals: stageTotals(steps, stages), single: count === 1 };
}

/** `[builder 2/5] COPY . /app` (`[builder] ENV A=1` for a step with no vertex). */
export function stepLabel(step: StepRecord, ctx: LabelContext): string {
  return vertexLabel(
    {
      stage: step.stage,
      step: step.step,
      total: ctx.totals.get(step.stage) ?? step.total,
      index: step.index,
      instruction: oneLine(step.instruction),
    },
    ctx.single,
  );
}

/** The FROM vertex's label: `[builder 1/5] FROM alpine` or `[context base] load from client`. */
export function fromLabel(stage: string, from: StageFrom, ctx: LabelContext): string {
  return vertexLabel(
    {
      stage,
      step: from.step,
      total: ctx.totals.get(stage),
      index: 0,
      context: from.context,
      instruction: oneLine(from.name),
    },
    ctx.single,
  );
}

/** Why a step missed, one line each; a `files` reason lists every changed file. */
export function missDetails(step: Pick<StepRecord, 'explanation' | 'reason'>): string[] {
  const out: string[] = [];
  for (const r of step.explanation ?? []) for (const line of missReasonLines(r)) out.push(oneLine(line.text));
  if (out.length === 0 && step.reason) out.push(oneLine(step.reason));
  return out;
}

interface Entry {
  /** `#K`; undefined for a step BuildKit shows no vertex for. */
  id: number | undefined;
  label: string;
  status: 'CACHED' | 'MISS' | 'BUILT' | 'CONFIG' | 'BASE' | 'SKIPPED';
  details: string[];
  /** Set on the one entry that stands for a whole skipped stage. */
  skippedStage?: string;
}

/** Labels up to this wide share one column; a wider one takes a line of its own. */
const MAX_LABEL_COLUMN = 60;

const STATUS_STYLE: Record<Entry['status'], Style | undefined> = {
  CACHED: 'blue',
  MISS: 'yellow',
  BUILT: undefined,
  CONFIG: undefined,
  BASE: undefined,
  SKIPPED: 'dim',
};

/**
 * The report as text (ending in a newline), e.g.
 * `#4 [builder 4/5] COPY src/ /app/src  MISS  src/app.js modified: content (120 → 131 bytes)`.
 */
export function formatExplainReport(options: ExplainReportOptions): string {
  const { steps, stages } = options;
  const color = options.color === true;
  const numbers = options.numbers ?? new VertexNumbers();
  const rows = reportRows(steps, stages);
  numberRows(rows, numbers);
  const ctx = labelContext(steps, stages);
  const entries: Entry[] = [];
  const counts = { cached: 0, missed: 0, built: 0, config: 0 };
  let skippedStages = 0;
  for (const r of rows) {
    if (r.from !== undefined) {
      entries.push({
        id: numbers.get(r.stage, 0),
        label: fromLabel(r.stage, r.from, ctx),
        status: 'BASE',
        details: [],
      });
      continue;
    }
    const s = r.step;
    if (s === undefined) {
      skippedStages++;
      const n = steps.filter((x) => x.stage === r.stage).length;
      const note =
        options.target !== undefined
          ? `stage not needed for target ${options.target}`
          : 'stage not needed for the target';
      entries.push({
        id: numbers.get(r.stage, undefined),
        label: `[${r.stage}] ${note}`,
        status: 'SKIPPED',
        details: [`${n} step${n === 1 ? '' : 's'}`],
        skippedStage: r.stage,
      });
      continue;
    }
    const entry: Entry = {
      id: s.step !== undefined ? numbers.get(s.stage, s.index) : undefined,
      label: stepLabel(s, ctx),
      status: 'BUILT',
      details: [],
    };
    if (s.status === 'skipped') entry.status = 'SKIPPED';
    else if (s.status === 'cached') {
      entry.status = 'CACHED';
      const source = cacheHitText(s.cacheSource);
      if (source) entry.details = [source];
      counts.cached++;
    } else {
      entry.details = s.metadata ? [] : missDetails(s);
      if (entry.details.length > 0) {
        entry.status = 'MISS';
        counts.missed++;
      } else if (s.metadata) {
        entry.status = 'CONFIG';
        counts.config++;
      } else {
        entry.status = 'BUILT';
        counts.built++;
      }
    }
    entries.push(entry);
  }

  const summary = [
    `${counts.cached} cached`,
    `${counts.missed} missed`,
    ...(counts.built > 0 ? [`${counts.built} built without a cache lookup`] : []),
    ...(counts.config > 0 ? [`${counts.config} config-only`] : []),
    ...(skippedStages > 0 ? [`${skippedStages} stage${skippedStages === 1 ? '' : 's'} skipped`] : []),
  ];
  const lines = [
    paint(
      color,
      'bold',
      `Cache report${options.target !== undefined ? ` (target ${options.target})` : ''}: ${summary.join(', ')}`,
    ),
  ];
  const heads = entries.map((e) => (e.id !== undefined ? `#${e.id} ${e.label}` : e.label));
  const labelWidth = Math.max(0, ...heads.map((h) => Array.from(h).length).filter((n) => n <= MAX_LABEL_COLUMN));
  const statusWidth = Math.max(0, ...entries.filter((e) => e.status === 'MISS').map((e) => e.status.length));
  entries.forEach((e, i) => {
    // A label wider than the column gets a line of its own; the status goes under it, in the column.
    let head = heads[i]!;
    if (Array.from(head).length > labelWidth) {
      lines.push(head);
      head = '';
    }
    head = head.padEnd(labelWidth);
    const styled = STATUS_STYLE[e.status] ? paint(color, STATUS_STYLE[e.status]!, e.status) : e.status;
    if (e.details.length === 0) {
      lines.push(`${head}  ${styled}`);
      return;
    }
    const pad = ' '.repeat(Math.max(0, statusWidth - e.status.length));
    lines.push(`${head}  ${styled}${pad}  ${e.details[0]}`);
    const indent = ' '.repeat(labelWidth + 2 + statusWidth + 2);
    for (const d of e.details.slice(1)) lines.push(`${indent}${d}`);
  });
  return `${lines.join('\n')}\n`;
}
