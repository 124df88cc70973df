/**
 * The after-build reports (`--explain`, `--show-logs`) and the choice of renderer and colour.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { StepRecord } from '../../src/builder/events.js';
import type { MissFileChange } from '../../src/builder/cache.js';
import {
  formatExplainReport,
  formatStepLogs,
  PlainRenderer,
  progressColor,
  resolveProgressMode,
  VertexNumbers,
} from '../../src/cli/progress/index.js';
import { oneLine } from '../../src/cli/progress/text.js';
import { collector, expectGolden, fakeClock, loadRecording, recordedResult, replay } from './progress-terminal.js';

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ok = loadRecording('build-events.json');
const { steps, target, stages } = recordedResult(ok);

describe('explain report', () => {
  test('matches the golden report', () => {
    const text = formatExplainReport({ steps, stages, target });
    expectGolden('explain.txt', text);
    // FROM scratch has no vertex in BuildKit; ARG and CMD have none either (listed without #K).
    expect(text).not.toContain('FROM scratch');
    expect(text).toMatch(/^#1 \[builder 1\/4\] WORKDIR \/src +CACHED$/m);
    expect(text).toMatch(/^\[builder\] ARG VERSION +CONFIG$/m);
    expect(text).toMatch(/^#6 \[app 1\/1\] COPY --from=builder \/src\/dist \/app +MISS/m);
    expect(text).toMatch(
      /^#3 \[builder 3\/4\] COPY src\/ \.\/src\/ +MISS {2}src\/app\.js modified: content \(21 → 28 bytes\)$/m,
    );
  });

  test('every miss lists each of its reasons, a files reason one line per file', () => {
    const lines = formatExplainReport({ steps, target }).split('\n');
    const i = lines.findIndex((l) => l.includes('] COPY src/ ./src/ '));
    expect(lines[i + 1]!.trim()).toBe('src/util.js added');
    // Continuation lines start where the first reason does.
    expect(lines[i + 1]!.indexOf('src/util.js')).toBe(lines[i]!.indexOf('src/app.js'));
    const head = lines.findIndex((l) => l.includes('] RUN echo "cc -O2'));
    // The RUN's label is too wide for the column: its status goes on the next line.
    expect(lines[head]).toMatch(/dist\/main\.js$/);
    const run = head + 1;
    expect(lines[run]).toMatch(/^ +MISS {2}an earlier step produced a different result \(the parent layer changed\)$/);
    expect(lines[run + 1]!.trim()).toBe('ARG/ENV changed: VERSION: 1 → 2');
    expect(lines[run + 1]!.indexOf('ARG/ENV')).toBe(lines[run]!.indexOf('an earlier'));
  });

  test('uses the numbers the progress display showed', () => {
    const numbers = new VertexNumbers();
    const out = collector();
    const clock = fakeClock();
    replay(ok, new PlainRenderer({ writer: out, clock: clock.now, numbers }), clock);
    const report = formatExplainReport({ steps, stages, target, numbers });
    const heads = report.split('\n').filter((l) => l.startsWith('#'));
    expect(heads.length).toBeGreaterThan(4);
    for (const line of heads) {
      const [, head] = /^(#\d+ \[[^\]]+\])/.exec(line)!;
      expect(out.text.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^${escapeRe(head!)} `)));
    }
  });

  test('is plain text without colour and styled with it', () => {
    expect(formatExplainReport({ steps, target })).not.toContain('\u001b');
    const colored = formatExplainReport({ steps, target, color: true });
    expect(colored).toContain('\u001b[33mMISS\u001b[39m');
    expect(colored.replace(/\u001b\[\d+m/g, '')).toBe(formatExplainReport({ steps, target }));
  });

  const reason = fc.oneof(
    fc.record({
      kind: fc.constantFrom('env' as const, 'parent' as const),
      message: fc.string({ minLength: 1, maxLength: 30 }),
    }),
    fc.record({
      kind: fc.constant('files' as const),
      message: fc.string({ minLength: 1, maxLength: 30 }),
      files: fc.constant<MissFileChange[]>([]),
    }),
  );
  const step = fc.record({
    stage: fc.constantFrom('a', 'b', 'c'),
    step: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    total: fc.constant(6),
    index: fc.integer({ min: -2, max: 8 }),
    instruction: fc.string({ maxLength: 40 }),
    status: fc.constantFrom('cached', 'built', 'skipped'),
    metadata: fc.boolean(),
    durationMs: fc.nat({ max: 5000 }),
    explanation: fc.array(reason, { maxLength: 3 }),
  });
  test.prop([fc.uniqueArray(step, { selector: (s) => `${s.stage}/${s.index}`, maxLength: 15 })])(
    'every step is accounted for once (a vertex with its #K), every reason appears',
    (raw) => {
      const records: StepRecord[] = raw.map(({ step: n, ...s }) => ({
        ...s,
        ...(n !== undefined ? { step: n } : {}),
        line: 1,
      }));
      const text = formatExplainReport({ steps: records, target: 'x' });
      const heads = text.split('\n').filter((l) => /^#\d+ /.test(l));
      const ran = new Set(records.filter((s) => s.status !== 'skipped').map((s) => s.stage));
      const skippedStages = new Set(
        records.filter((s) => s.status === 'skipped' && !ran.has(s.stage)).map((s) => s.stage),
      );
      const vertices = records.filter((s) => ran.has(s.stage) && s.step !== undefined);
      expect(heads).toHaveLength(vertices.length + skippedStages.size);
      const single = new Set(records.map((s) => s.stage)).size === 1;
      for (const s of vertices) expect(text).toContain(`[${single ? '' : `${s.stage} `}${s.step}/6] `);
      for (const s of records) {
        if (s.status !== 'built' || s.metadata) continue;
        // each reason in its one-line form (lines joined, each trimmed; spaces inside a line kept)
        for (const r of s.explanation ?? []) expect(text).toContain(oneLine(r.message));
      }
      const ids = heads.map((h) => Number(/^#(\d+)/.exec(h)![1]));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    },
  );
});

describe('step logs', () => {
  test('prints every step output whole, under its heading', () => {
    const text = formatStepLogs({ steps, stages });
    expectGolden('step-logs.txt', text);
    const run = steps.find((s) => s.instruction.startsWith('RUN echo "cc'))!;
    expect(text).toContain(`#4 [builder 4/4] ${run.instruction} (built, 1.2s)\n${run.output}`);
  });

  test('never clips: a long output comes back byte for byte', () => {
    const output = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 300)}`).join('\n');
    const text = formatStepLogs({
      steps: [
        {
          stage: 's',
          step: 2,
          total: 2,
          index: 1,
          instruction: 'RUN big',
          line: 2,
          status: 'built',
          metadata: false,
          durationMs: 10,
          output,
        },
      ],
    });
    expect(text).toBe(`#1 [2/2] RUN big (built, 0.0s)\n${output}\n`);
  });

  test('says so when no step wrote output', () => {
    expect(formatStepLogs({ steps: steps.map(({ output: _o, ...s }) => s) })).toMatch(/^No step wrote any output/);
  });
});

describe('mode and colour', () => {
  test.each([
    ['auto', true, {}, 'tty'],
    ['auto', false, {}, 'plain'],
    ['auto', true, { TERM: 'dumb' }, 'plain'],
    ['plain', true, {}, 'plain'],
    ['json', true, {}, 'json'],
    ['tty', false, {}, 'tty'],
  ] as const)('--progress %s on a tty=%s with %o is %s', (mode, isTTY, env, expected) => {
    expect(resolveProgressMode({ mode, stream: { isTTY }, env })).toBe(expected);
  });

  test.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [true, { NO_COLOR: '1', FORCE_COLOR: '1' }, false],
    [false, { FORCE_COLOR: '1' }, true],
    [true, { FORCE_COLOR: '0' }, false],
    [true, { TERM: 'dumb' }, false],
  ] as const)('colour on a tty=%s with %o: %s', (isTTY, env, expected) => {
    expect(progressColor({ stream: { isTTY }, env })).toBe(expected);
  });
});
