/**
 * One step numbering on every screen: BuildKit's `[stage N/M]` (FROM an image is 1; ADD, COPY,
 * RUN and WORKDIR count; metadata instructions and `WORKDIR /` get no vertex; no stage name in a
 * Dockerfile of one stage; N padded to M's width). For each Dockerfile of the table, the plain
 * progress, the JSON progress, `result.steps`, the `--explain` report, the stored build record
 * and the `explain` command's report must all say the same N, M and #K, and the plain headers
 * must be the ones BuildKit prints (worked out from dockerfile2llb's `prefixCommand`).
 * A build record in the version 1 format (`step` was the position) loads with the same numbers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { loadBuildRecord } from '../../src/builder/build-record.js';
import { build } from '../../src/builder/build.js';
import type { BuildEvent, StepRecord } from '../../src/builder/events.js';
import { vertexLabel } from '../../src/builder/step-numbers.js';
import type { BuildResult } from '../../src/builder/types.js';
import { formatExplainReport, JsonRenderer, PlainRenderer } from '../../src/cli/progress/index.js';
import { analyzeImage } from '../../src/report/analyze.js';
import { openStore, type Store } from '../../src/store/store.js';
import { test } from '../helpers/fixtures.js';
import { collector, fakeClock } from '../cli/progress-terminal.js';
import { makeBaseImage } from './helpers.js';

interface Case {
  name: string;
  dockerfile: string;
  /** The plain progress headers, without `#K`, in order (BuildKit's names). */
  headers: string[];
  /** `--build-context` values (a folder name under the test's folder). */
  contexts?: Record<string, string>;
  target?: string;
}

const CASES: Case[] = [
  {
    name: 'one stage FROM an image: no stage name, metadata steps have no number',
    dockerfile: 'FROM base:1\nWORKDIR /app\nENV A=1\nCOPY a.txt .\nRUN echo hi\nCMD ["x"]\n',
    headers: ['[1/4] FROM base:1', '[2/4] WORKDIR /app', '[3/4] COPY a.txt .', '[4/4] RUN echo hi'],
  },
  {
    name: 'stages FROM scratch and FROM a stage, COPY --from, WORKDIR /, a skipped stage',
    dockerfile: [
      'FROM scratch AS base',
      'WORKDIR /app',
      'ENV A=1',
      'COPY a.txt .',
      'WORKDIR /',
      'FROM base AS tester',
      'COPY a.txt /t',
      'FROM base',
      'LABEL x=y',
      'COPY --from=base /app/a.txt /b',
      'ADD a.txt /c',
      '',
    ].join('\n'),
    headers: [
      '[base 1/3] WORKDIR /app',
      '[base 2/3] COPY a.txt .',
      '[tester] stage not needed for target stage-2',
      '[stage-2 1/2] COPY --from=base /app/a.txt /b',
      '[stage-2 2/2] ADD a.txt /c',
    ],
  },
  {
    name: 'ten steps and more: N is padded to the width of M',
    dockerfile: `FROM base:1 AS wide\n${Array.from({ length: 10 }, (_, i) => `RUN echo ${i}\n`).join('')}FROM scratch\nCOPY --from=wide /etc/passwd /p\n`,
    headers: [
      '[wide  1/11] FROM base:1',
      ...Array.from({ length: 10 }, (_, i) => `[wide ${String(i + 2).padStart(2)}/11] RUN echo ${i}`),
      '[stage-1 1/1] COPY --from=wide /etc/passwd /p',
    ],
  },
  {
    name: 'a named context as the base: [context NAME], counted in M but not numbered',
    dockerfile: 'FROM extra\nCOPY a.txt /a\nRUN echo x\n',
    contexts: { extra: 'extra' },
    headers: ['[context extra] load from client', '[1/3] COPY a.txt /a', '[2/3] RUN echo x'],
  },
  {
    name: 'an image FROM in a stage the target skips keeps its place in the numbering',
    dockerfile: 'FROM base:1 AS unused\nRUN echo never\nFROM base:1 AS final\nRUN echo yes\n',
    target: 'final',
    headers: ['[unused] stage not needed for target final', '[final 1/2] FROM base:1', '[final 2/2] RUN echo yes'],
  },
];

async function runCase(store: Store, tmp: string, c: Case) {
  const ctx = join(tmp, 'ctx');
  mkdirSync(join(tmp, 'extra'), { recursive: true });
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'a.txt'), 'a\n');
  writeFileSync(join(tmp, 'extra', 'e.txt'), 'e\n');
  await makeBaseImage({ store, tag: 'base:1' });
  const plainOut = collector();
  const jsonOut = collector();
  const clock = fakeClock();
  const plain = new PlainRenderer({ writer: plainOut, clock: clock.now });
  const json = new JsonRenderer({ writer: jsonOut });
  const events: BuildEvent[] = [];
  const result = await build({
    store,
    context: ctx,
    dockerfileText: c.dockerfile,
    sourceDateEpoch: 0,
    ...(c.target ? { target: c.target } : {}),
    ...(c.contexts
      ? { buildContexts: Object.fromEntries(Object.entries(c.contexts).map(([k, v]) => [k, join(tmp, v)])) }
      : {}),
    onEvent: (e) => {
      events.push(e);
      plain.onEvent(e);
      json.onEvent(e);
    },
  });
  plain.finish({ result });
  json.finish({ result });
  return { result, plain: plainOut.text, json: jsonOut.text, events };
}

/** `#K [stage N/M] ...` lines of plain progress, as [K, label]. */
function plainHeaders(text: string): Array<[number, string]> {
  return [...text.matchAll(/^#(\d+) (\[.*)$/gm)].map((m) => [Number(m[1]), m[2]!]);
}

function labelOf(s: StepRecord, result: BuildResult): string {
  return vertexLabel(s, result.stages.length === 1);
}

/** Every screen names the same vertices with the same #K, N and M; plain shows `headers`. */
async function expectAgreement(
  store: Store,
  c: Pick<Case, 'headers'>,
  { result, plain, json }: Awaited<ReturnType<typeof runCase>>,
): Promise<void> {
  // Plain progress: BuildKit's headers, #K in order.
  const headers = plainHeaders(plain);
  expect(headers.map(([, h]) => h)).toEqual(c.headers);
  expect(headers.map(([k]) => k)).toEqual(headers.map((_, i) => i + 1));
  const byLabel = new Map(headers.map(([k, h]) => [h, k]));

  // result.steps: every numbered step's label is a plain header; the others have no N.
  const numbered = result.steps.filter((s) => s.step !== undefined && s.status !== 'skipped');
  for (const s of numbered) expect(byLabel.has(labelOf(s, result)), labelOf(s, result)).toBe(true);
  for (const s of result.steps.filter((x) => x.step === undefined))
    expect(s.metadata || s.status === 'skipped').toBe(true);
  for (const s of result.steps) expect(s.step ?? 0).toBeLessThanOrEqual(s.total);

  // JSON progress: step events carry the same N and M, and the #K plain printed, as `vertex`.
  const lines = json
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as BuildEvent & { vertex?: number });
  const jsonSteps = lines.filter(
    (e): e is Extract<BuildEvent, { type: 'step' }> & { vertex?: number } => e.type === 'step',
  );
  expect(jsonSteps.map(({ vertex: _v, type: _t, ...s }) => s)).toEqual(result.steps);
  for (const e of jsonSteps) {
    if (e.vertex === undefined) continue;
    expect(byLabel.get(labelOf(e, result))).toBe(e.vertex);
  }
  const fromEvents = lines.filter((e) => e.type === 'stage' && e.vertex !== undefined);
  for (const e of fromEvents) expect(headers.some(([k]) => k === e.vertex)).toBe(true);

  // --explain: every `#K [..]` head is the plain header of that K.
  const report = formatExplainReport({ steps: result.steps, stages: result.stages, target: result.target });
  const heads = [...report.matchAll(/^#(\d+) (\[[^\]]*\] .*?)(?: {2,}| *$)/gm)].map((m) => [
    Number(m[1]),
    m[2]!.trim(),
  ]);
  expect(heads.length).toBe(headers.length);
  for (const [k, label] of heads) expect(headers.find(([hk]) => hk === k)?.[1]).toBe(label);

  // The build record and the explain command's report.
  const record = loadBuildRecord({ store, digest: result.image.descriptor.digest })!;
  expect(record.steps).toEqual(result.steps);
  expect(record.stages).toEqual(result.stages);
  const analysis = await analyzeImage({ store, image: result.image.descriptor.digest });
  for (const s of analysis.build!.steps) {
    if (s.step === undefined || s.status === 'skipped') continue;
    const label = `${s.prefix} ${s.instruction}`;
    expect(byLabel.has(label), label).toBe(true);
  }
}

describe.each(CASES)('$name', (c) => {
  test('plain, json, result.steps, --explain, the record and the explain report agree', async ({ store, tmp }) => {
    await expectAgreement(store, c, await runCase(store, tmp, c));
  });

  test('a version 1 record (step was the position) loads with the same numbers', async ({ store, tmp }) => {
    const { result } = await runCase(store, tmp, c);
    const hex = result.image.descriptor.digest.slice(7);
    const path = `builds/${hex}.json`;
    const v2 = JSON.parse(store.readState(path)!.toString('utf8')) as { version: number } & Record<string, unknown>;
    expect(v2.version).toBe(2);
    const v1 = {
      ...v2,
      stages: result.stages.map(({ total: _t, from: _f, ...s }) => s),
      steps: result.steps.map(({ step: _s, total: _t, index, ...s }) => ({ ...s, step: index })),
    };
    delete (v1 as { version?: number }).version;
    store.writeState(path, JSON.stringify(v1));
    const loaded = loadBuildRecord({ store, digest: result.image.descriptor.digest })!;
    // Named contexts were not recorded in version 1: their FROM reads as an image's.
    if (c.contexts) {
      expect(loaded.steps.map((s) => s.total)).toEqual(result.steps.map((s) => s.total));
      return;
    }
    expect(loaded.steps).toEqual(result.steps);
    expect(loaded.stages).toEqual(result.stages);
  });
});

/** Random Dockerfiles of one to three stages, with BuildKit's headers worked out by the rules alone. */
const INSTRUCTIONS = [
  'ENV A=1',
  'LABEL l=1',
  'ARG X',
  'WORKDIR /w',
  'WORKDIR /',
  'WORKDIR sub',
  'COPY a.txt /a',
  'ADD a.txt /b',
  'RUN echo hi',
];
const stageArb = fc.record({
  from: fc.constantFrom('base:1', 'scratch', 'previous'),
  instructions: fc.array(fc.constantFrom(...INSTRUCTIONS), { maxLength: 6 }),
});

function expectedHeaders(stages: Array<{ from: string; instructions: string[] }>): {
  dockerfile: string;
  headers: string[];
} {
  const names = stages.map((_, i) => `s${i}`);
  const froms = stages.map((s, i) => (s.from === 'previous' ? (i > 0 ? names[i - 1]! : 'scratch') : s.from));
  const target = stages.length - 1;
  const reachable = new Set<number>([target]);
  for (let i = target; i > 0; i--) if (reachable.has(i) && froms[i] === names[i - 1]) reachable.add(i - 1);
  const single = stages.length === 1;
  const workdirAtEnd: string[] = [];
  const headers: string[] = [];
  stages.forEach((s, i) => {
    const fromImage = froms[i] === 'base:1';
    let wd = froms[i] === names[i - 1] ? workdirAtEnd[i - 1]! : '/';
    const total = (fromImage ? 1 : 0) + s.instructions.filter((ins) => /^(WORKDIR|COPY|ADD|RUN) /.test(ins)).length;
    const label = (n: number, text: string) =>
      `[${single ? '' : `${names[i]} `}${String(n).padStart(String(total).length)}/${total}] ${text}`;
    const own: string[] = [];
    let n = 0;
    if (fromImage) own.push(label(++n, 'FROM base:1'));
    for (const ins of s.instructions) {
      if (ins.startsWith('WORKDIR ')) {
        const path = ins.slice('WORKDIR '.length);
        wd = path.startsWith('/') ? path : `${wd === '/' ? '' : wd}/${path}`;
        if (wd !== '/') own.push(label(++n, ins));
      } else if (/^(COPY|ADD|RUN) /.test(ins)) own.push(label(++n, ins));
    }
    workdirAtEnd.push(wd);
    headers.push(...(reachable.has(i) ? own : [`[${names[i]}] stage not needed for target ${names[target]}`]));
  });
  const dockerfile = stages.map((s, i) => [`FROM ${froms[i]} AS ${names[i]}`, ...s.instructions].join('\n')).join('\n');
  return { dockerfile: `${dockerfile}\n`, headers };
}

describe('random Dockerfiles', () => {
  test('every screen agrees, and plain prints the headers BuildKit would', async ({ tmp }) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stageArb, { minLength: 1, maxLength: 3 }), async (stages) => {
        const store = await openStore({ memory: true });
        const { dockerfile, headers } = expectedHeaders(stages);
        const dir = join(tmp, `r${run++}`);
        const c: Case = { name: 'random', dockerfile, headers };
        await expectAgreement(store, c, await runCase(store, dir, c));
      }),
      { numRuns: 25 },
    );
  });
});
