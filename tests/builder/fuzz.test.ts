/**
 * Fuzzing the builder: random Dockerfiles (instruction keywords, flags and words from pools) and
 * mutated fixture Dockerfiles (lines dropped, duplicated, swapped; flags and words inserted) go
 * through `build()` on a tiny context. A build may succeed or fail, but it may only fail with a
 * LayerkitError whose data names the Dockerfile line. Runs: LAYERKIT_FUZZ_RUNS (default 60).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { fc } from '@fast-check/vitest';
import { build } from '../../src/builder/build.js';
import { isLayerkitError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import { BASE_USERS, makeBaseImage } from './helpers.js';

const RUNS = Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? '60');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'builder');
const BASE = 'localhost/busybox:test';

/** The fixtures' Dockerfiles, plus a few that reach other instructions. */
function seeds(): string[] {
  const fixtures = fs
    .readdirSync(FIXTURES)
    .filter((n) => fs.existsSync(join(FIXTURES, n, 'Dockerfile')))
    .sort()
    .map((n) => fs.readFileSync(join(FIXTURES, n, 'Dockerfile'), 'utf8'));
  return [
    ...fixtures,
    `ARG BASE=${BASE}\nFROM \${BASE} AS one\nONBUILD RUN echo hi > /hi\nHEALTHCHECK --interval=5s CMD true\nSHELL ["/bin/sh", "-c"]\nFROM one\nCOPY <<EOF /h\nhello\nEOF\nRUN <<EOF\necho x > /x\nEOF\nSTOPSIGNAL SIGTERM\nMAINTAINER me\n`,
    'FROM scratch AS a\nCOPY --link a.txt /a\nFROM scratch\nCOPY --from=a /a /b\nCOPY --from=0 /a /c\nADD dir /d/\nEXPOSE 80/tcp 53/udp\nVOLUME /v\nUSER 1000\nWORKDIR rel\n',
  ];
}

const KEYWORDS = [
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'BOGUS',
];
const FLAGS = [
  '--from=a',
  '--from=0',
  '--from=builder',
  `--from=${BASE}`,
  '--chown=app',
  '--chown=1:2',
  '--chown=nobody',
  '--chmod=755',
  '--chmod=u=rwX',
  '--chmod=999',
  '--link',
  '--exclude=*.md',
  '--platform=linux/arm64',
  '--mount=type=cache,target=/c',
  '--network=none',
  '--interval=5s',
  '--retries=-1',
  '--bogus',
  '--parents',
  '--unpack=false',
  '--checksum=sha256:00',
];
const WORDS = [
  'a.txt',
  'dir',
  'dir/',
  '*.txt',
  'nomatch*',
  '.',
  '..',
  '/',
  '/app',
  '/app/',
  'app',
  'x',
  '$X',
  '${X:-y}',
  '${X:?no}',
  '"quoted word"',
  "'single'",
  '["a", "b"]',
  '[]',
  '<<EOF',
  'EOF',
  '\\',
  '#',
  '=',
  'AS',
  'as',
  'scratch',
  BASE,
  'missing:1',
  'builder',
  'a',
  'X=1',
  'X',
  'k=v',
  'echo',
  'hi',
  '>',
  '/f',
  '&&',
  '||',
  'true',
  'false',
  'exit',
  '3',
  'mkdir',
  '-p',
  'rm',
  '-rf',
  'cat',
  'ln',
  '-s',
  'chmod',
  '600',
  'touch',
  'cp',
  'mv',
  '80',
  '53/udp',
  'abc',
  'SIGKILL',
  'NONE',
  'CMD',
  'https://example.com/x',
  'arch.tar',
];

type Mutation =
  | { kind: 'drop' | 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'insert'; at: number; word: number; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    word: fc.nat(),
    text: fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...WORDS), fc.constantFrom(...KEYWORDS)),
  }),
);

function mutate(text: string, mutations: readonly Mutation[]): string {
  const lines = text.split('\n');
  for (const m of mutations) {
    if (lines.length === 0) lines.push('');
    const at = m.at % lines.length;
    if (m.kind === 'drop') lines.splice(at, 1);
    else if (m.kind === 'duplicate') lines.splice(at, 0, lines[at]!);
    else if (m.kind === 'swap') {
      const w = m.with % lines.length;
      [lines[at], lines[w]] = [lines[w]!, lines[at]!];
    } else if (m.kind === 'insert') {
      const words = lines[at]!.split(' ');
      words.splice(m.word % (words.length + 1), 0, m.text);
      lines[at] = words.join(' ');
    }
  }
  return lines.join('\n');
}

const lineArb = fc
  .tuple(
    fc.constantFrom(...KEYWORDS),
    fc.oneof(
      { arbitrary: fc.constant([]), weight: 4 },
      { arbitrary: fc.array(fc.constantFrom(...FLAGS), { minLength: 1, maxLength: 2 }), weight: 1 },
    ),
    fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }),
  )
  .map(([k, flags, words]) => [k, ...flags, ...words].join(' '));

/** A random Dockerfile: a FROM line first most of the time, then random instructions. */
const randomDockerfileArb = fc
  .tuple(
    fc.constantFrom(`FROM ${BASE}`, 'FROM scratch', `FROM ${BASE} AS a`, 'ARG X=1', ''),
    fc.array(lineArb, { minLength: 1, maxLength: 8 }),
  )
  .map(([first, lines]) => `${[first, ...lines].join('\n')}\n`);

const dockerfileArb = fc.oneof(
  { arbitrary: randomDockerfileArb, weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...seeds()), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([seed, ms]) => mutate(seed, ms)),
    weight: 3,
  },
);

const targetArb = fc.option(fc.constantFrom('a', 'builder', 'one', 'nope'), { nil: undefined, freq: 3 });
const buildArgsArb = fc.option(
  fc.dictionary(
    fc.constantFrom('X', 'TARGET', 'GREETING', 'BASE', 'TARGETARCH'),
    fc.constantFrom('', '1', 'v a l', BASE, '$X'),
  ),
  { nil: undefined },
);

let store: Store;
let context: string;

test.beforeAll(async ({ fileTmp }) => {
  store = await openStore({ memory: true });
  await makeBaseImage({
    store,
    tag: BASE,
    files: { ...BASE_USERS, 'etc/motd': 'welcome\n', 'home/app': { dir: true, uid: 1000, gid: 1000 } },
    config: { Env: ['PATH=/bin'] },
  });
  context = join(fileTmp, 'ctx');
  // The fixtures' context files, merged (so mutated fixtures find what they copy), and a few more.
  const skipNames = new Set(['Dockerfile', '.dockerignore', 'archives.json', 'build-args']);
  for (const name of fs.readdirSync(FIXTURES)) {
    fs.cpSync(join(FIXTURES, name), context, {
      recursive: true,
      force: true,
      filter: (src) => !skipNames.has(src.split('/').pop()!),
    });
  }
  fs.mkdirSync(join(context, 'dir/sub'), { recursive: true });
  fs.writeFileSync(join(context, 'dir/x'), 'x\n');
  fs.symlinkSync('a.txt', join(context, 'link'));
});

describe('fuzzed Dockerfiles through build()', () => {
  test(`only LayerkitErrors that name a line (${RUNS} runs)`, async () => {
    let succeeded = 0;
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(dockerfileArb, targetArb, buildArgsArb, async (dockerfile, target, buildArgs) => {
        try {
          await build({
            store,
            context,
            dockerfileText: dockerfile,
            target,
            buildArgs,
            sourceDateEpoch: 0,
            signal: AbortSignal.timeout(20_000),
          });
          succeeded++;
        } catch (err) {
          failed++;
          if (!isLayerkitError(err))
            throw new Error(`not a LayerkitError for:\n${dockerfile}\n${(err as Error).stack ?? String(err)}`);
          // The one file-level error: a target no stage has.
          if (err.code === 'ERR_BUILD_STAGE' && target !== undefined && err.data['target'] === target) return;
          if (typeof err.data['line'] !== 'number' || err.data['line'] < 1) {
            throw new Error(
              `${err.code} without a line for:\n${dockerfile}\n${err.message} ${JSON.stringify(err.data)}`,
            );
          }
          if (!/^Dockerfile:\d+/.test(err.message))
            throw new Error(`the message does not start with the place: ${err.message}`);
        }
      }),
      { numRuns: RUNS },
    );
    // Both outcomes happen, so the property is exercised on both sides.
    expect(succeeded + failed).toBe(RUNS);
    if (RUNS >= 40) {
      expect(succeeded).toBeGreaterThan(0);
      expect(failed).toBeGreaterThan(0);
    }
  });
});
