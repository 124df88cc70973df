/**
 * The `--explain` report: after a build, one entry per step saying whether it came from the
 * cache, and for every miss each reason the builder recorded (a changed file per line, with
 * what changed about it). Steps keep the `#N` numbers the progress display gave them.
 */
import { missReasonLines } from '../../index.js';
import type { StepRecord } from '../../builder/events.js';
import { VertexNumbers } from './model.js';
import { oneLine, paint, stepTag, type Style } from './text.js';

/** Options for {@link formatExplainReport}. */
export interface ExplainReportOptions {
  /** `BuildResult.steps`. */
  steps: readonly StepRecord[];
  /** The stage that became the image. */
  target?: string | undefined;
  color?: boolean | undefined;
  /** The progress renderer's numbering, so `#N` matches what was shown (default: numbered in order). */
  numbers?: VertexNumbers | undefined;
  /** Each stage's base image (from the `stage` started events), to list the FROM lines too. */
  bases?: ReadonlyMap<string, string> | undefined;
}

/** Per stage, its number of steps (FROM included): the `n` of `[stage k/n]`. */
export function stageTotals(steps: readonly StepRecord[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of steps) totals.set(s.stage, Math.max(totals.get(s.stage) ?? 0, s.step + 1));
  return totals;
}

/** `[builder 2/5] COPY . /app`. */
export function stepLabel(
  step: Pick<StepRecord, 'stage' | 'step' | 'instruction'>,
  totals: ReadonlyMap<string, number>,
): string {
  return `${stepTag(step.stage, step.step, totals.get(step.stage))} ${oneLine(step.instruction)}`;
}

/**
 * Gives every step its `#N` in order, as the progress display does: each stage that ran first
 * numbers its FROM (step 0, shown while the base loads), a stage whose steps were all skipped
 * gets one number. Numbers already given are kept.
 */
export function numberSteps(steps: readonly StepRecord[], numbers: VertexNumbers): void {
  const ran = new Set(steps.filter((s) => s.status !== 'skipped').map((s) => s.stage));
  const seen = new Set<string>();
  for (const s of steps) {
    if (!ran.has(s.stage)) {
      numbers.get(s.stage, undefined);
      continue;
    }
    if (!seen.has(s.stage)) {
      seen.add(s.stage);
      numbers.get(s.stage, 0);
    }
    numbers.get(s.stage, s.step);
  }
}

/** Why a step missed, one line each; a `files` reason lists every changed file. */
export function missDetails(step: Pick<StepRecord, 'explanation' | 'reason'>): string[] {
  const out: string[] = [];
  for (const r of step.explanation ?? []) for (const line of missReasonLines(r)) out.push(oneLine(line.text));
  if (out.length === 0 && step.reason) out.push(oneLine(step.reason));
  return out;
}

interface Entry {
  id: number;
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
  const { steps } = options;
  const color = options.color === true;
  const numbers = options.numbers ?? new VertexNumbers();
  numberSteps(steps, numbers);
  const totals = stageTotals(steps);
  const ranStages = new Set(steps.filter((s) => s.status !== 'skipped').map((s) => s.stage));
  const skippedStages = new Map<string, number>();
  const entries: Entry[] = [];
  const counts = { cached: 0, missed: 0, built: 0, config: 0 };
  for (const s of steps) {
    if (s.status === 'skipped' && !ranStages.has(s.stage)) {
      if (!skippedStages.has(s.stage)) {
        const note =
          options.target !== undefined
            ? `stage not needed for target ${options.target}`
            : 'stage not needed for the target';
        entries.push({
          id: numbers.get(s.stage, undefined),
          label: `[${s.stage}] ${note}`,
          status: 'SKIPPED',
          details: [],
          skippedStage: s.stage,
        });
      }
      skippedStages.set(s.stage, (skippedStages.get(s.stage) ?? 0) + 1);
      continue;
    }
    const entry: Entry = {
      id: numbers.get(s.stage, s.step),
      label: stepLabel(s, totals),
      status: 'BUILT',
      details: [],
    };
    if (s.status === 'skipped') entry.status = 'SKIPPED';
    else if (s.status === 'cached') {
      entry.status = 'CACHED';
      counts.cached++;
    } else {
      entry.details = s.metadata && s.step > 0 ? [] : missDetails(s);
      if (entry.details.length > 0) {
        entry.status = 'MISS';
        counts.missed++;
      } else if (s.step === 0) {
        entry.status = 'BASE';
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
  for (const e of entries) {
    if (e.skippedStage === undefined) continue;
    const n = skippedStages.get(e.skippedStage) ?? 0;
    e.details = [`${n} step${n === 1 ? '' : 's'}`];
  }
  for (const [stage, base] of options.bases ?? []) {
    if (!ranStages.has(stage) || steps.some((s) => s.stage === stage && s.step === 0)) continue;
    entries.push({
      id: numbers.get(stage, 0),
      label: `${stepTag(stage, 0, totals.get(stage))} FROM ${oneLine(base)}`,
      status: 'BASE',
      details: [],
    });
  }
  entries.sort((a, b) => a.id - b.id);

  const summary = [
    `${counts.cached} cached`,
    `${counts.missed} missed`,
    ...(counts.built > 0 ? [`${counts.built} built without a cache lookup`] : []),
    ...(counts.config > 0 ? [`${counts.config} config-only`] : []),
    ...(skippedStages.size > 0 ? [`${skippedStages.size} stage${skippedStages.size === 1 ? '' : 's'} skipped`] : []),
  ];
  const lines = [
    paint(
      color,
      'bold',
      `Cache report${options.target !== undefined ? ` (target ${options.target})` : ''}: ${summary.join(', ')}`,
    ),
  ];
  const heads = entries.map((e) => `#${e.id} ${e.label}`);
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
