/**
 * The three progress renderers against recorded event streams: golden outputs (the tty one as
 * the screen a terminal shows, through a small emulator), the JSON contract, NO_COLOR, width
 * and height limits, throttling and determinism. UPDATE_GOLDEN=1 rewrites the golden files.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { BuildEvent } from '../../src/builder/events.js';
import { LayerkitError } from '../../src/errors.js';
import { JsonRenderer, PlainRenderer, TtyRenderer, VertexNumbers } from '../../src/cli/progress/index.js';
import {
  collector,
  expectGolden,
  fakeClock,
  loadRecording,
  recordedResult,
  replay,
  Terminal,
  type Recording,
} from './progress-terminal.js';

const ok = loadRecording('build-events.json');
const failed = loadRecording('build-events-failed.json');

function renderPlain(rec: Recording, options: { explain?: boolean } = {}): string {
  const out = collector();
  const clock = fakeClock();
  replay(rec, new PlainRenderer({ writer: out, clock: clock.now, explain: options.explain }), clock);
  return out.text;
}

function renderTty(
  rec: Recording,
  options: { explain?: boolean; color?: boolean; columns?: number; rows?: number; stopAt?: number } = {},
) {
  const out = collector();
  const clock = fakeClock();
  const tty = new TtyRenderer({
    writer: out,
    clock: clock.now,
    color: options.color ?? false,
    explain: options.explain,
    size: () => ({ columns: options.columns ?? 80, rows: options.rows ?? 24 }),
  });
  replay(rec, tty, clock, options.stopAt !== undefined ? { stopAt: options.stopAt } : {});
  const term = new Terminal();
  term.write(out.text);
  return { raw: out.text, chunks: out.chunks, term };
}

describe('plain', () => {
  test('matches the golden log (BuildKit plain format)', () => {
    expectGolden('progress-plain.txt', renderPlain(ok));
  });

  test('with explain, every miss prints its reasons before DONE', () => {
    const text = renderPlain(ok, { explain: true });
    expectGolden('progress-plain-explain.txt', text);
    const id = /^#(\d+) \[builder 3\/4\] COPY src\/ \.\/src\/$/m.exec(text)?.[1];
    expect(id).toBeDefined();
    expect(text).toContain(
      `#${id} MISS 2 source files changed: src/app.js modified: content (21 → 28 bytes); src/util.js added\n#${id} DONE 0.0s`,
    );
    expect(text).toMatch(
      /^#4 MISS an earlier step produced a different result \(the parent layer changed\)\n#4 MISS ARG\/ENV changed: VERSION: 1 → 2\n#4 DONE 1\.2s$/m,
    );
    expect(renderPlain(ok)).not.toContain('MISS');
  });

  test('a failed build marks the running step ERROR with the message, after its output', () => {
    const text = renderPlain(failed);
    expectGolden('progress-plain-failed.txt', text);
    expect(text).toMatch(
      /\n#2 \d\.\d{3} make: \*\*\* \[main\.o\] Error 1\n#2 ERROR: Dockerfile:3: RUN \/bin\/sh -c echo .*: exit code 2\n\n------\n > \[2\/2\] RUN .*:\n(\d\.\d{3} .*\n)+------\n$/,
    );
  });

  test('never writes an escape sequence, even for output that has them', () => {
    for (const text of [renderPlain(ok), renderPlain(ok, { explain: true }), renderPlain(failed)]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    }
  });

  test.prop([fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20 })])(
    'how output is split into log events does not change the lines',
    (cuts) => {
      const text =
        'first line\nsecond\r\nthird: \u001b[1mbold\u001b[0m\nprogress 10%\rprogress 100%\nno newline at the end';
      const chunks: string[] = [];
      let rest = text;
      for (let i = 0; rest.length > 0; i++) {
        const n = cuts[i % cuts.length]!;
        chunks.push(rest.slice(0, n));
        rest = rest.slice(n);
      }
      const rec: Recording = {
        description: 'chunked',
        events: [
          {
            at: 0,
            event: { type: 'step-start', stage: 's', step: 1, total: 1, index: 1, instruction: 'RUN x', line: 2 },
          },
          ...chunks.map((data) => ({
            at: 0,
            event: { type: 'log' as const, stage: 's', index: 1, stream: 'stdout' as const, data },
          })),
          {
            at: 0,
            event: {
              type: 'step',
              stage: 's',
              step: 1,
              total: 1,
              index: 1,
              instruction: 'RUN x',
              line: 2,
              status: 'built',
              metadata: false,
              durationMs: 0,
            },
          },
        ],
      };
      const lines = renderPlain(rec)
        .split('\n')
        .filter((l) => l.startsWith('#1 0.000 '));
      expect(lines.map((l) => l.slice(9))).toEqual([
        'first line',
        'second',
        'third: bold',
        'progress 100%',
        'no newline at the end',
      ]);
    },
  );

  test('a step whose output came only in its step event still shows it', () => {
    const rec: Recording = {
      description: 'no log events',
      events: [
        {
          at: 7,
          event: {
            type: 'step',
            stage: 'b',
            step: 2,
            total: 2,
            index: 2,
            instruction: 'RUN echo hi',
            line: 3,
            status: 'built',
            metadata: false,
            durationMs: 7,
            output: 'hi\nthere\n',
          },
        },
      ],
    };
    expect(renderPlain(rec)).toBe('#1 [b 2/2] RUN echo hi\n#1 0.007 hi\n#1 0.007 there\n#1 DONE 0.0s\n');
  });
});

describe('tty', () => {
  test('the final screen matches the golden (steps collapsed, CACHED marks, FINISHED, warnings)', () => {
    const { term } = renderTty(ok, { explain: true });
    expectGolden('progress-tty.txt', term.screen());
    expect(term.screen()).toMatch(/^\[\+\] Building 1\.5s \(6\/6\) FINISHED\n/);
    expect(term.screen()).not.toContain('=> => #');
  });

  test('while a RUN step runs, it shows a live timer and its last output lines', () => {
    const { term } = renderTty(ok, { stopAt: 1050 });
    expectGolden('progress-tty-running.txt', term.screen());
    expect(term.screen()).toMatch(
      / => \[builder 4\/4\] RUN echo "cc -O2 -c src\/app\.c" && .* \d\.\ds\n => => # layerkit: RUN runs .*\n => => # cc -O2 -c src\/app\.c\n => => # cc -O2 -c src\/util\.c\n/,
    );
  });

  test('without --explain no miss reasons are shown', () => {
    expect(renderTty(ok).term.screen()).not.toContain('MISS');
  });

  test("a failed build shows ERROR and then the step's whole log", () => {
    const { term } = renderTty(failed);
    expectGolden('progress-tty-failed.txt', term.screen());
    expect(term.screen()).toContain(' => ERROR [2/2] RUN echo "checking for cc... cc"');
    expect(term.screen()).toMatch(
      /------\n > \[2\/2\] RUN echo .*:\n0\.170 layerkit: RUN runs .*\n0\.340 checking for cc\.\.\. cc\n/,
    );
    expect(term.screen()).not.toContain('FINISHED');
  });

  test('is deterministic for a recording and a clock', () => {
    expect(renderTty(ok, { color: true }).raw).toBe(renderTty(ok, { color: true }).raw);
  });

  test('without colour it writes cursor movement only; with colour, SGR too', () => {
    const plain = renderTty(ok, { explain: true });
    expect(plain.term.seen.sgr).toBe(0);
    const escapes = plain.raw.match(/\u001b\[[0-9;]*[A-Za-z]/g) ?? [];
    expect(escapes.length).toBeGreaterThan(0);
    for (const e of escapes) expect(e).toMatch(/^\u001b\[(\d+A|2K|J)$/);
    const colored = renderTty(ok, { color: true, explain: true });
    expect(colored.term.seen.sgr).toBeGreaterThan(0);
    expect(colored.term.screen()).toBe(plain.term.screen());
  });

  test('throttles redraws to one per interval, ticks keep timers moving', () => {
    const out = collector();
    const clock = fakeClock();
    const tty = new TtyRenderer({ writer: out, clock: clock.now });
    tty.onEvent({ type: 'step-start', stage: 'a', step: 1, total: 1, index: 1, instruction: 'RUN x', line: 1 });
    for (let t = 1; t < 100; t++) {
      clock.set(t);
      tty.onEvent({ type: 'log', stage: 'a', index: 1, stream: 'stdout', data: `line ${t}\n` });
    }
    expect(out.chunks).toHaveLength(1);
    clock.set(100);
    tty.onEvent({ type: 'log', stage: 'a', index: 1, stream: 'stdout', data: 'line 100\n' });
    expect(out.chunks).toHaveLength(2);
    clock.set(200);
    tty.tick();
    expect(out.chunks).toHaveLength(3);
    expect(out.chunks[2]).toContain('0.2s');
    const term = new Terminal();
    term.write(out.text);
    expect(term.screen()).toBe(
      `[+] Building 0.2s (0/1)\n${' => [a 1/1] RUN x'.padEnd(79 - 4)}0.2s\n` +
        [95, 96, 97, 98, 99, 100].map((n) => ` => => # line ${n}\n`).join(''),
    );
  });

  test('writes nothing when the screen would not change', () => {
    const out = collector();
    const clock = fakeClock();
    const tty = new TtyRenderer({ writer: out, clock: clock.now });
    tty.onEvent({
      type: 'step',
      stage: 'a',
      step: 1,
      total: 1,
      index: 1,
      instruction: 'WORKDIR /x',
      line: 1,
      status: 'cached',
      metadata: false,
      durationMs: 0,
    });
    for (let t = 100; t <= 500; t += 100) {
      clock.set(t);
      tty.tick();
    }
    expect(out.chunks).toHaveLength(1);
  });

  const instruction = fc.string({
    unit: fc.constantFrom('a', 'b', ' ', '/', 'é', '\t', '漢', '\u001b'),
    maxLength: 150,
  });
  test.prop([
    fc.integer({ min: 1, max: 220 }),
    fc.integer({ min: 1, max: 60 }),
    fc.array(instruction, { minLength: 1, maxLength: 30 }),
    fc.integer({ min: 0, max: 40 }),
  ])(
    'frames fit the terminal: no line wider than columns-1, live frames below the screen height',
    (columns, rows, instructions, logCount) => {
      const out = collector();
      const clock = fakeClock();
      const tty = new TtyRenderer({ writer: out, clock: clock.now, size: () => ({ columns, rows }) });
      const term = new Terminal();
      const effectiveRows = Math.max(3, rows);
      let t = 0;
      instructions.forEach((ins, i) => {
        clock.set((t += 150));
        tty.onEvent({
          type: 'step-start',
          stage: 'stage',
          step: i + 1,
          total: instructions.length,
          index: i + 1,
          instruction: `RUN ${ins}`,
          line: i + 1,
        });
        for (let j = 0; j < logCount; j++)
          tty.onEvent({ type: 'log', stage: 'stage', index: i + 1, stream: 'stdout', data: `${ins} ${j}\n` });
        clock.set((t += 150));
        tty.tick();
        tty.onEvent({
          type: 'step',
          stage: 'stage',
          step: i + 1,
          total: instructions.length,
          index: i + 1,
          instruction: `RUN ${ins}`,
          line: i + 1,
          status: i % 2 ? 'cached' : 'built',
          metadata: false,
          durationMs: 150,
        });
        term.write(out.text);
        out.text = '';
        // The live block must fit on the screen, or cursor-up cannot reach its first line.
        expect(term.rows.length - 1 - term.row).toBe(0);
        expect(countLive(term)).toBeLessThanOrEqual(effectiveRows - 1);
      });
      tty.finish({ error: new Error('stop') });
      term.write(out.text);
      expect(term.widest).toBeLessThanOrEqual(Math.max(20, columns) - 1);
    },
  );
});

/** Lines of the last frame: from the last header to the cursor. */
function countLive(term: Terminal): number {
  const header = term.rows
    .map((r, i) => [r, i] as const)
    .filter(([r]) => r.startsWith('[+] Building'))
    .pop();
  return header ? term.row - header[1] : 0;
}

describe('json', () => {
  const render = (rec: Recording) => {
    const out = collector();
    const clock = fakeClock();
    replay(rec, new JsonRenderer({ writer: out }), clock);
    return out.text;
  };

  test('one JSON line per event, the event objects plus their vertex numbers, the result last', () => {
    const text = render(ok);
    expectGolden('progress.jsonl', text);
    const lines = text.trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as BuildEvent & { vertex?: number });
    expect(parsed.map(({ vertex: _v, ...e }) => e)).toEqual(ok.events.map((e) => e.event));
    expect(parsed.some((e) => e.vertex !== undefined)).toBe(true);
    const last = parsed[parsed.length - 1]!;
    expect(last).toMatchObject({
      type: 'result',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      tags: ['app:1', 'app:latest'],
    });
    for (const e of parsed) {
      if (e.type !== 'step') continue;
      expect(e).toMatchObject({
        stage: expect.any(String),
        total: expect.any(Number),
        index: expect.any(Number),
        instruction: expect.any(String),
        durationMs: expect.any(Number),
      });
      expect(['cached', 'built', 'skipped']).toContain(e.status);
      if (e.status === 'built' && !e.metadata) expect(e.reason).toEqual(expect.any(String));
    }
  });

  test('a failed build ends with an error line', () => {
    const lines = render(failed).trimEnd().split('\n');
    expect(lines).toHaveLength(failed.events.length + 1);
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({
      type: 'error',
      code: 'ERR_BUILD_EXIT_CODE',
      message: failed.error!.message,
    });
  });

  test('a result line is written from the BuildResult when the build sent no result event', () => {
    const out = collector();
    const json = new JsonRenderer({ writer: out });
    for (const { event } of ok.events) if (event.type !== 'result') json.onEvent(event);
    json.finish({ result: recordedResult(ok) });
    const last = JSON.parse(out.text.trimEnd().split('\n').pop()!) as BuildEvent;
    expect(last).toEqual(ok.events[ok.events.length - 1]!.event);
  });
});

describe('numbering', () => {
  test('a shared VertexNumbers gives plain and tty the same #N', () => {
    const numbers = new VertexNumbers();
    numbers.get('app', 2);
    const out = collector();
    const clock = fakeClock();
    replay(ok, new PlainRenderer({ writer: out, clock: clock.now, numbers }), clock);
    expect(out.text).toMatch(/^#1 \[app 1\/1\] COPY --from=builder/m);
    expect(out.text).toMatch(/^#2 \[builder 1\/4\] WORKDIR \/src$/m);
  });
});

describe('vertices', () => {
  const plainOf = (events: BuildEvent[], error?: unknown) => {
    const out = collector();
    const clock = fakeClock();
    const r = new PlainRenderer({ writer: out, clock: clock.now });
    events.forEach((e, i) => {
      clock.set(i * 10);
      r.onEvent(e);
    });
    r.finish(error !== undefined ? { error } : { result: recordedResult({ description: '', events: [] }) });
    return out.text;
  };

  test('the FROM of an image is step 1 while the base loads; metadata steps have no vertex', () => {
    expect(
      plainOf([
        {
          type: 'build',
          stages: [
            { stage: 's', index: 0, reachable: true, total: 2 },
            { stage: 't', index: 1, reachable: true, total: 0 },
          ],
          target: 't',
          dockerfile: 'Dockerfile',
        },
        {
          type: 'stage',
          stage: 's',
          status: 'started',
          base: 'alpine:3.19',
          from: { step: 1, name: 'FROM alpine:3.19' },
        },
        { type: 'step-start', stage: 's', total: 2, index: 1, instruction: 'ENV A=1', line: 2 },
        {
          type: 'step',
          stage: 's',
          total: 2,
          index: 1,
          instruction: 'ENV A=1',
          line: 2,
          status: 'built',
          metadata: true,
          durationMs: 0,
        },
        { type: 'step-start', stage: 's', step: 2, total: 2, index: 2, instruction: 'WORKDIR /a', line: 3 },
        {
          type: 'step',
          stage: 's',
          step: 2,
          total: 2,
          index: 2,
          instruction: 'WORKDIR /a',
          line: 3,
          status: 'cached',
          metadata: false,
          durationMs: 0,
        },
      ]),
    ).toBe('#1 [s 1/2] FROM alpine:3.19\n#1 DONE 0.0s\n\n#2 [s 2/2] WORKDIR /a\n#2 CACHED\n');
  });

  test('a named context as the base is an unnumbered [context NAME] vertex; one stage has no stage name', () => {
    expect(
      plainOf([
        {
          type: 'build',
          stages: [{ stage: 'stage-0', index: 0, reachable: true, total: 2 }],
          target: 'stage-0',
          dockerfile: 'Dockerfile',
        },
        {
          type: 'stage',
          stage: 'stage-0',
          status: 'started',
          base: 'base',
          from: { name: 'load from client', context: 'base' },
        },
        { type: 'step-start', stage: 'stage-0', step: 1, total: 2, index: 1, instruction: 'RUN x', line: 2 },
      ]),
    ).toBe('#1 [context base] load from client\n#1 DONE 0.0s\n\n#2 [1/2] RUN x\n');
  });

  test('skipped steps of a stage without a stage event fold into one SKIPPED line', () => {
    expect(
      plainOf([
        {
          type: 'build',
          stages: [{ stage: 't', index: 0, reachable: false, total: 2 }],
          target: 'x',
          dockerfile: 'Dockerfile',
        },
        {
          type: 'step',
          stage: 't',
          step: 1,
          total: 2,
          index: 1,
          instruction: 'RUN a',
          line: 2,
          status: 'skipped',
          metadata: false,
          durationMs: 0,
        },
        {
          type: 'step',
          stage: 't',
          step: 2,
          total: 2,
          index: 2,
          instruction: 'RUN b',
          line: 3,
          status: 'skipped',
          metadata: false,
          durationMs: 0,
        },
      ]),
    ).toBe('#1 [t] stage not needed for target x\n#1 SKIPPED\n');
  });

  test('ONBUILD triggers of the base (negative index) are numbered and labelled ONBUILD, as BuildKit does', () => {
    expect(
      plainOf([
        {
          type: 'step',
          stage: 'a',
          step: 3,
          total: 12,
          index: -2,
          instruction: 'RUN make',
          line: 1,
          status: 'cached',
          metadata: false,
          durationMs: 0,
        },
      ]),
    ).toBe('#1 [a  3/12] ONBUILD RUN make\n#1 CACHED\n');
  });

  test('an aborted build marks the running step CANCELED', () => {
    const text = plainOf(
      [{ type: 'step-start', stage: 'a', step: 2, total: 2, index: 1, instruction: 'RUN sleep 9', line: 2 }],
      new LayerkitError('ERR_ABORTED', 'aborted'),
    );
    expect(text).toBe('#1 [a 2/2] RUN sleep 9\n#1 CANCELED\n');
  });

  const lint = { url: 'https://docs.docker.com/go/dockerfile/rule/', file: 'Dockerfile' };
  test.each([
    [
      { ...lint, rule: 'NoEmptyContinuation', message: 'Empty continuation line', detail: 'remove it', line: 9 },
      'Dockerfile:9: Empty continuation line (NoEmptyContinuation: remove it)',
    ],
    [
      { ...lint, rule: 'JSONArgsRecommended', message: 'use JSON\nfor CMD', detail: 'signals', line: 4 },
      'Dockerfile:4: use JSON for CMD (JSONArgsRecommended: signals)',
    ],
  ])('warning %o reads %s', (warning, expected) => {
    expect(plainOf([{ type: 'warning', warning }])).toBe(`1 warning found:\n - ${expected}\n`);
  });
});

describe('one step numbering on every screen', () => {
  test("--progress json carries plain's #K as vertex and [stage N/M]'s N and M as step and total", () => {
    const out = collector();
    const clock = fakeClock();
    replay(ok, new JsonRenderer({ writer: out }), clock);
    const fromJson = new Map<string, number>();
    for (const line of out.text.split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { type: string; stage?: string; vertex?: number; step?: number; total?: number };
      if (e.type === 'step' && e.vertex !== undefined) fromJson.set(`${e.stage} ${e.step}/${e.total}`, e.vertex);
    }
    // Every header plain prints, `#K [stage N/M] ...`, is the same K, N and M in the JSON.
    const headers = [...renderPlain(ok).matchAll(/^#(\d+) \[(\S+) (\d+\/\d+)\] /gm)];
    expect(headers.length).toBe(5);
    for (const [, k, stage, nm] of headers)
      expect(fromJson.get(`${stage} ${nm}`), `#${k} [${stage} ${nm}]`).toBe(Number(k));
  });
});
