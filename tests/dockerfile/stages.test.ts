import { describe, expect, it } from 'vitest';
import { isLayerkitError } from '../../src/errors.js';
import {
  expandInstruction,
  instructionText,
  parseDockerfile,
  toStages,
  type Instruction,
} from '../../src/dockerfile/index.js';

const MULTI = `# syntax=docker/dockerfile:1
ARG BASE=alpine
ARG VERSION
FROM --platform=$BUILDPLATFORM golang:1 AS Build
WORKDIR /src
COPY . .
RUN go build -o /out/app

FROM $BASE
COPY --from=build /out/app /usr/bin/app
CMD ["app"]
`;

describe('toStages', () => {
  it('splits meta args and stages, keeping names lowercased and ranges', () => {
    const { metaArgs, stages } = toStages(parseDockerfile(MULTI));
    expect(metaArgs.map((a) => a.args)).toEqual([[{ key: 'BASE', value: 'alpine' }], [{ key: 'VERSION' }]]);
    expect(stages.map((s) => [s.index, s.name, s.from.image, s.instructions.map((i) => i.keyword)])).toEqual([
      [0, 'build', 'golang:1', ['workdir', 'copy', 'run']],
      [1, undefined, '$BASE', ['copy', 'cmd']],
    ]);
    expect(stages[0]?.range).toEqual({ start: { line: 4, column: 1 }, end: { line: 7, column: 25 } });
    expect(stages[1]?.range.start.line).toBe(9);
    expect(stages[1]?.range.end.line).toBe(11);
  });

  it.each([
    ['FROM a AS x\nFROM b AS X\n', 'ERR_DOCKERFILE_ARGUMENTS', 2, /duplicate stage name "x": already used on line 1/],
    ['ARG a\nRUN x\nFROM a\n', 'ERR_DOCKERFILE_SYNTAX', 2, /^no build stage in current context/],
    ['ARG a\nARG b\n', 'ERR_DOCKERFILE_SYNTAX', 2, /^dockerfile contains no stages to build/],
  ])('%j fails', (text, code, line, reason) => {
    try {
      toStages(parseDockerfile(text));
      expect.unreachable();
    } catch (err) {
      expect(isLayerkitError(err, code as 'ERR_DOCKERFILE_SYNTAX')).toBe(true);
      if (isLayerkitError(err)) {
        expect(err.data['line']).toBe(line);
        expect(String(err.data['reason'])).toMatch(reason);
      }
    }
  });
});

describe('expandInstruction', () => {
  const instr = (line: string, prefix = 'FROM a\n'): Instruction => {
    const { stages } = toStages(parseDockerfile(`${prefix}${line}\n`));
    const last = stages[stages.length - 1];
    return last?.instructions[last.instructions.length - 1] ?? (last?.from as Instruction);
  };
  const env = { A: 'one', B: 'two words', E: '', P: '80 443/udp', T: '/cache' };

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'ENV X=$A Y="$B" $A=z',
      {
        pairs: [
          { key: 'X', value: 'one', legacy: false },
          { key: 'Y', value: 'two words', legacy: false },
          { key: 'one', value: 'z', legacy: false },
        ],
      },
      ['A', 'B'],
    ],
    ['LABEL "k $A"=v', { pairs: [{ key: 'k one', value: 'v', legacy: false }] }, ['A']],
    ['WORKDIR /x/${A}', { path: '/x/one' }, ['A']],
    ['USER ${U:-app}', { user: 'app' }, ['U']],
    ['STOPSIGNAL $S', { signal: '' }, ['S']],
    ['VOLUME ["$A", "/b c"]', { volumes: ['one', '/b c'] }, ['A']],
    ['EXPOSE $P 8080', { ports: ['80', '443/udp', '8080'] }, ['P']],
    ['ARG X=$A Y', { args: [{ key: 'X', value: 'one' }, { key: 'Y' }] }, ['A']],
    [
      'COPY --from=$A --chown=$A:$A --exclude=$A "$B" /d/$A',
      { sources: ['two words'], dest: '/d/one', from: '$A', chown: 'one:one', excludes: ['$A'] },
      ['A', 'B'],
    ],
    ['ADD --checksum=$A x y', { checksum: 'one' }, ['A']],
    ['CMD echo $A', { command: { form: 'shell', args: ['echo $A'], heredocs: [] } }, []],
    ['HEALTHCHECK CMD $A', { test: ['CMD-SHELL', '$A'] }, []],
  ])('%s', (line, expected, used) => {
    const r = expandInstruction(instr(line), { env });
    expect(r.instruction).toMatchObject(expected);
    expect([...r.used].sort()).toEqual(used);
  });

  it('expands COPY heredoc bodies without touching quotes, only for an unquoted delimiter', () => {
    const { stages } = toStages(parseDockerfile('FROM a\nCOPY <<A <<"B" /d/\n"$A" \'$A\'\nA\n$A\nB\n'));
    const r = expandInstruction(stages[0]?.instructions[0] as Instruction, { env });
    expect(r.instruction.keyword === 'copy' && r.instruction.heredocSources.map((h) => h.content)).toEqual([
      '"one" \'one\'\n',
      '$A\n',
    ]);
  });

  it('FROM takes the environment the caller gives (the meta args)', () => {
    const from = toStages(parseDockerfile('FROM --platform=$P ${IMG:-alpine}:$V\n')).stages[0]?.from as Instruction;
    expect(expandInstruction(from, { env: { V: '3', P: 'linux/arm64' } }).instruction).toMatchObject({
      image: 'alpine:3',
      platform: 'linux/arm64',
    });
  });

  it('shell-form VOLUME splits before quotes are seen, as BuildKit does', () => {
    expect(() => expandInstruction(instr('VOLUME "/b c"'), { env })).toThrow(/matching double-quote/);
  });

  it("uses the file's escape token", () => {
    const parsed = parseDockerfile('# escape=`\nFROM a\nWORKDIR C:\\`$A\n');
    const workdir = toStages(parsed).stages[0]?.instructions[0] as Instruction;
    expect(expandInstruction(workdir, { env, escapeToken: parsed.directives.escape }).instruction).toMatchObject({
      path: 'C:\\$A',
    });
  });

  it('resolves RUN mounts with expanded option values', () => {
    const r = expandInstruction(instr('RUN --mount=type=cache,target=$T,id=${A}-c make'), { env });
    expect(r.mounts).toEqual([{ type: 'cache', target: '/cache', id: 'one-c', readOnly: false, required: false }]);
    expect([...r.used].sort()).toEqual(['A', 'T']);
  });

  it('reports expansion and mount errors at the instruction', () => {
    expect(() => expandInstruction(instr('WORKDIR ${NOPE:?set NOPE}'), { env, file: 'f' })).toThrow(
      /^f:2:1: failed to process "\$\{NOPE:\?set NOPE\}": NOPE: set NOPE$/,
    );
    expect(() => expandInstruction(instr('RUN --mount=type=cache,uid=$A x'), { env, file: 'f' })).toThrow(
      /^f:2:1: invalid value one for uid$/,
    );
  });
});

describe('instructionText', () => {
  const text = (src: string): string[] => parseDockerfile(src).nodes.map(instructionText);

  it('canonicalises layout but keeps meaning', () => {
    expect(
      text(
        'from  alpine   AS  b\nrun   --mount=type=cache,target=/x \\\n  echo  hi\nCOPY  a   b  /c/\nENV A=1   B="x y"\nENV C  d e\nCMD [ "a" ,"b" ]\nHEALTHCHECK --retries=2 CMD [ "x" ]\nONBUILD  run  ls\nfoo  bar',
      ),
    ).toEqual([
      'FROM alpine AS b',
      'RUN --mount=type=cache,target=/x echo  hi',
      'COPY a b /c/',
      'ENV A=1 B="x y"',
      'ENV C d e',
      'CMD ["a","b"]',
      'HEALTHCHECK --retries=2 CMD ["x"]',
      'ONBUILD RUN ls',
      'foo  bar',
    ]);
  });

  it('appends heredocs as BuildKit re-attaches them', () => {
    expect(text('RUN <<EOF\necho hi\nEOF\nCOPY <<A <<B /d\n1\nA\n2\nB\n')).toEqual([
      'RUN <<EOF\necho hi\nEOF',
      'COPY <<A <<B /d\n1\nA\n2\nB',
    ]);
  });
});
