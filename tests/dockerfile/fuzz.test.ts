/**
 * Fuzzing the front end: random and mutated Dockerfiles (mutations of BuildKit's corpus when it is
 * imported, of a built-in set otherwise) must parse, type and expand, or fail with a
 * LayerkitError that names a real place. Runs: LAYERKIT_FUZZ_RUNS (default 300).
 */
import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { isLayerkitError } from '../../src/errors.js';
import {
  dumpDockerfile,
  expandInstruction,
  instructionText,
  parseDockerfile,
  toInstruction,
  toStages,
} from '../../src/dockerfile/index.js';
import { corpusCases, corpusFile } from './corpus-files.js';

const RUNS = Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? '300');

const BUILT_IN = [
  '# syntax=docker/dockerfile:1\n# escape=\\\nARG BASE=alpine\nFROM ${BASE} AS build\nRUN --mount=type=cache,target=/c <<EOF\nset -e\necho "$HOME"\nEOF\nCOPY --from=build --chown=1:1 ["a b", "/c/"]\n',
  '# escape=`\nFROM scratch\nENV A=1 `\n    B="x y"\nLABEL a=b c="d e"\nWORKDIR /app\nCOPY <<-A <<"B" /d/\n\tone\nA\ntwo\nB\nCMD ["sh", "-c", "echo"]\n',
  'FROM a\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/ || exit 1\nONBUILD RUN echo hi\nEXPOSE 80 443/udp\nVOLUME ["/data"]\nUSER app:app\nSHELL ["/bin/bash", "-c"]\nSTOPSIGNAL SIGTERM\nENTRYPOINT exec app\n',
  'FROM a\nRUN echo a \\\n\n  b \\\n# comment\n  c\nADD --checksum=sha256:0 --unpack=true http://x/y.tgz /opt/\nARG x y=${x:-1}\n',
];

function seeds(): string[] {
  const corpus = [
    ...corpusCases('parser').map((c) => corpusFile(`parser/${c}/Dockerfile`)),
    ...corpusCases('parser-negative').map((c) => corpusFile(`parser-negative/${c}/Dockerfile`)),
  ];
  return [...BUILT_IN, ...corpus];
}

const NOISE = [
  '\\',
  '`',
  '"',
  "'",
  '<<',
  '<<-',
  '<<EOF',
  'EOF',
  '[',
  ']',
  '["',
  '"]',
  ',',
  '$',
  '${',
  '}',
  '#',
  '--',
  '--from=',
  '=',
  ' ',
  '\t',
  '\r',
  '\n',
  '\ufeff',
  '\u00a0',
  'ONBUILD ',
  'FROM ',
  'RUN ',
  'COPY ',
  '# escape=`\n',
];

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'insert'; at: number; offset: number; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    offset: fc.nat(),
    text: fc.oneof(fc.constantFrom(...NOISE), fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 3 })),
  }),
);

function mutate(text: string, mutations: Mutation[]): string {
  const lines = text.split('\n');
  for (const m of mutations) {
    if (lines.length === 0) lines.push('');
    const at = m.at % lines.length;
    if (m.kind === 'delete') lines.splice(at, 1);
    else if (m.kind === 'duplicate') lines.splice(at, 0, lines[at] as string);
    else if (m.kind === 'swap') {
      const other = m.with % lines.length;
      [lines[at], lines[other]] = [lines[other] as string, lines[at] as string];
    } else {
      const line = lines[at] as string;
      const offset = m.offset % (line.length + 1);
      lines[at] = line.slice(0, offset) + m.text + line.slice(offset);
    }
  }
  return lines.join('\n');
}

/** Everything the front end does with a file; only LayerkitErrors with a real place may escape. */
function exercise(text: string): void {
  try {
    const parsed = parseDockerfile(text, { file: 'fuzz/Dockerfile' });
    const lineCount = text.split('\n').length;
    for (const node of parsed.nodes) {
      expect(node.range.start.line).toBeGreaterThanOrEqual(1);
      expect(node.range.end.line).toBeGreaterThanOrEqual(node.range.start.line);
      expect(node.range.end.line).toBeLessThanOrEqual(lineCount);
      expect(node.range.start.column).toBeGreaterThanOrEqual(1);
      instructionText(node);
    }
    dumpDockerfile(parsed);
    for (const node of parsed.nodes) {
      try {
        const instruction = toInstruction(node, { file: parsed.file });
        expandInstruction(instruction, {
          env: { A: 'x y', HOME: '/root' },
          escapeToken: parsed.directives.escape,
          file: parsed.file,
        });
      } catch (err) {
        checkError(err);
      }
    }
    toStages(parsed);
  } catch (err) {
    checkError(err);
  }
}

function checkError(err: unknown): void {
  if (!isLayerkitError(err)) throw err;
  expect(err.code).toMatch(/^ERR_DOCKERFILE_/);
  const line = err.data['line'];
  expect(Number.isInteger(line) && (line as number) >= 1).toBe(true);
  expect(err.message.startsWith(`fuzz/Dockerfile:${String(line)}:`)).toBe(true);
}

describe('fuzz', () => {
  const all = seeds();
  test.prop([fc.constantFrom(...all), fc.array(mutationArb, { minLength: 1, maxLength: 6 })], { numRuns: RUNS })(
    'mutated Dockerfiles parse or fail with a located LayerkitError',
    (seed, mutations) => {
      exercise(mutate(seed, mutations));
    },
  );

  const token = fc.oneof(
    fc.constantFrom(...NOISE),
    fc.constantFrom('add', 'arg', 'cmd', 'copy', 'env', 'healthcheck', 'run', 'x', 'a=b', '"a b"', 'NONE', 'CMD'),
    fc.string({ maxLength: 3 }),
  );
  test.prop([fc.array(token, { maxLength: 40 })], { numRuns: RUNS })(
    'random token soup never escapes as anything else',
    (tokens) => {
      exercise(tokens.join(''));
    },
  );
});
