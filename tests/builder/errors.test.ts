/**
 * Build errors are data: a stable code, a message that names the file and line (and column for
 * Dockerfile syntax) and says what went wrong, and the same place in `data`. A failed build tags
 * nothing.
 */
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import type { BuildOptions } from '../../src/builder/types.js';
import { ErrorCodes, errorLocation, isLayerkitError, type LayerkitError, locatedMessage } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import { BASE_USERS, makeBaseImage, makeContext } from './helpers.js';

let store: Store;
let ctx: { dir: string };

test.beforeAll(async ({ fileTmp }) => {
  store = await openStore({ memory: true });
  await makeBaseImage({ store, tag: 'trigger-run:1', files: BASE_USERS, config: { OnBuild: ['RUN exit 7'] } });
  await makeBaseImage({ store, tag: 'trigger-bogus:1', files: BASE_USERS, config: { OnBuild: ['BOGUS x'] } });
  ctx = makeContext(fileTmp, { 'a.txt': 'a\n' });
});

async function failure(dockerfile: string, options: Partial<BuildOptions> = {}): Promise<LayerkitError> {
  const err = await build({
    store,
    context: ctx.dir,
    dockerfileText: dockerfile,
    tags: ['should-not-exist:1'],
    pull: 'never',
    ...options,
  }).then(
    () => new Error('the build succeeded'),
    (e: unknown) => e,
  );
  if (!isLayerkitError(err)) throw err;
  expect(() => store.resolveRef('should-not-exist:1')).toThrow();
  return err;
}

interface ErrorRow {
  name: string;
  dockerfile: string;
  options?: Partial<BuildOptions>;
  code: string;
  /** The whole message, or a pattern. */
  message: string | RegExp;
  /** Fields `data` must have. */
  data: Record<string, unknown>;
}

const rows: ErrorRow[] = [
  {
    name: 'an unknown instruction, at file:line:column',
    dockerfile: 'FROM scratch\n\n  FOO bar\n',
    code: ErrorCodes.ERR_DOCKERFILE_UNKNOWN_INSTRUCTION,
    message: /^Dockerfile:3:\d+: unknown instruction: FOO/,
    data: { file: 'Dockerfile', line: 3 },
  },
  {
    name: 'a bad flag, at file:line:column',
    dockerfile: 'FROM scratch\nCOPY --bogus a.txt /x\n',
    code: ErrorCodes.ERR_DOCKERFILE_FLAG,
    message: 'Dockerfile:2:6: unknown flag: --bogus',
    data: { file: 'Dockerfile', line: 2, column: 6 },
  },
  {
    name: 'a flag on an instruction that takes none',
    dockerfile: 'FROM scratch\nMAINTAINER --boo me\n',
    code: ErrorCodes.ERR_DOCKERFILE_FLAG,
    message: /^Dockerfile:2:\d+: unknown flag: --boo/,
    data: { line: 2 },
  },
  {
    name: 'a missing FROM image names the line and what to do',
    dockerfile: '# syntax=docker/dockerfile:1\nFROM scratch AS ok\nFROM missing:1\nRUN echo\n',
    code: ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
    message: /^Dockerfile:3: FROM missing:1: no such image in the store and the pull policy is never$/,
    data: { file: 'Dockerfile', line: 3, image: 'missing:1', pull: 'never' },
  },
  {
    name: 'an unknown target',
    dockerfile: 'FROM scratch AS a\n',
    options: { target: 'nope' },
    code: ErrorCodes.ERR_BUILD_STAGE,
    message: 'target stage "nope" could not be found in Dockerfile',
    data: { target: 'nope', stages: ['a'] },
  },
  {
    name: 'COPY --from a later stage',
    dockerfile: 'FROM scratch\nCOPY --from=later /x /y\nFROM scratch AS later\n',
    code: ErrorCodes.ERR_BUILD_STAGE,
    message: 'Dockerfile:2: cannot copy from stage "later", it needs to be defined before current stage "stage-0"',
    data: { line: 2, stage: 'later' },
  },
  {
    name: 'COPY --from the stage itself',
    dockerfile: 'FROM scratch AS me\nCOPY --from=me /x /y\n',
    code: ErrorCodes.ERR_BUILD_STAGE,
    message: /^Dockerfile:2: cannot copy from stage "me"/,
    data: { line: 2 },
  },
  {
    name: 'COPY --from with a variable',
    dockerfile: 'FROM scratch\nARG X=a\nCOPY --from=$X /x /y\n',
    code: ErrorCodes.ERR_DOCKERFILE_FLAG,
    message: /^Dockerfile:3: COPY --from=\$X: variable expansion is not supported for --from/,
    data: { line: 3 },
  },
  {
    name: 'COPY --from an image that is not in the store',
    dockerfile: 'FROM scratch\nCOPY --from=nope:1 /x /y\n',
    code: ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
    message: /^Dockerfile:2: COPY --from=nope:1: no stage of that name before this one, and no such image in the store/,
    data: { line: 2, image: 'nope:1', pull: 'never' },
  },
  {
    name: 'RUN --mount=type=ssh is refused with advice (there is no agent to forward)',
    dockerfile: 'FROM scratch\nRUN --mount=type=ssh echo\n',
    code: ErrorCodes.ERR_UNSUPPORTED,
    message: /^Dockerfile:2: RUN --mount=type=ssh forwards an SSH agent .* COPY it/,
    data: { line: 2, type: 'ssh' },
  },
  {
    name: 'a required secret the build was not given',
    dockerfile: 'FROM scratch\nRUN --mount=type=secret,id=npmrc,required=true echo\n',
    code: ErrorCodes.ERR_BUILD_STEP,
    message:
      /^Dockerfile:2: secret "npmrc" is required but the build was not given it \(pass it with --secret id=npmrc,src=FILE\)/,
    data: { line: 2, secret: 'npmrc' },
  },
  {
    name: 'a cache mount without a target',
    dockerfile: 'FROM scratch\nRUN --mount=type=cache echo\n',
    code: ErrorCodes.ERR_DOCKERFILE_FLAG,
    message: /^Dockerfile:2: /,
    data: { line: 2 },
  },
  {
    name: 'an expansion error',
    dockerfile: 'FROM scratch\nENV A=${B:?required}\n',
    code: ErrorCodes.ERR_DOCKERFILE_EXPANSION,
    message: /^Dockerfile:2:\d+: failed to process "\$\{B:\?required\}": B: required/,
    data: { line: 2 },
  },
  {
    name: 'a bad STOPSIGNAL and EXPOSE',
    dockerfile: 'FROM scratch\nSTOPSIGNAL NOPE\n',
    code: ErrorCodes.ERR_DOCKERFILE_ARGUMENTS,
    message: 'Dockerfile:2: failed to parse signal: NOPE',
    data: { line: 2 },
  },
  {
    name: 'WORKDIR for a USER the image does not know',
    dockerfile: 'FROM scratch\nUSER nosuch\nWORKDIR /x\n',
    code: ErrorCodes.ERR_BUILD_STEP,
    message: /^Dockerfile:3: WORKDIR \/x: unable to find user nosuch/,
    data: { line: 3 },
  },
  {
    name: 'a failing ONBUILD trigger names the FROM line and the trigger',
    dockerfile: '# the base has triggers\nFROM trigger-run:1\nRUN echo\n',
    code: ErrorCodes.ERR_BUILD_EXIT_CODE,
    message: 'Dockerfile:2: ONBUILD trigger 1 of the base image (RUN exit 7): RUN /bin/sh -c exit 7: exit code 7',
    data: { line: 2, exitCode: 7, trigger: 'RUN exit 7' },
  },
  {
    name: 'an ONBUILD trigger that does not parse',
    dockerfile: 'FROM trigger-bogus:1\n',
    code: ErrorCodes.ERR_DOCKERFILE_UNKNOWN_INSTRUCTION,
    message: 'Dockerfile:1: ONBUILD trigger 1 of the base image (BOGUS x): unknown instruction: BOGUS',
    data: { line: 1 },
  },
  {
    name: 'an empty Dockerfile',
    dockerfile: '# only a comment\n',
    code: ErrorCodes.ERR_DOCKERFILE_SYNTAX,
    message: /file with no instructions/,
    data: { line: 1 },
  },
  {
    name: 'a missing context folder',
    dockerfile: 'FROM scratch\n',
    options: { context: '/nonexistent-layerkit-context' },
    code: ErrorCodes.ERR_BUILD_CONTEXT,
    message: 'build context /nonexistent-layerkit-context does not exist',
    data: { path: '/nonexistent-layerkit-context' },
  },
];

describe('build errors', () => {
  test.each(rows)('$name', async (row) => {
    const err = await failure(row.dockerfile, row.options);
    expect(err.code).toBe(row.code);
    if (typeof row.message === 'string') expect(err.message).toBe(row.message);
    else expect(err.message).toMatch(row.message);
    expect(err.data).toMatchObject(row.data);
    // A place is data: the message is the place and the reason, formatted once, never parsed back.
    const place = errorLocation(err);
    if (row.data['line'] !== undefined) {
      expect(place).toBeDefined();
      expect(err.message).toBe(locatedMessage(place!, place!.reason));
      expect(place!.reason).not.toMatch(/^Dockerfile:\d/);
    } else {
      expect(place).toBeUndefined();
    }
  });

  test('a failing RUN: ERR_BUILD_EXIT_CODE with the command, the exit code and the last lines of output', async () => {
    const err = await failure(
      'FROM scratch\nRUN i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2; exit 3\n',
    );
    expect(err.code).toBe(ErrorCodes.ERR_BUILD_EXIT_CODE);
    const [first, ...tail] = err.message.split('\n');
    expect(first).toBe(
      'Dockerfile:2: RUN /bin/sh -c i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2; exit 3: exit code 3',
    );
    expect(tail).toEqual([...Array.from({ length: 19 }, (_, i) => `line ${i + 12}`), 'oops']);
    expect(errorLocation(err)?.reason.split('\n')[0]).toBe(first!.slice('Dockerfile:2: '.length));
    expect(err.data).toMatchObject({
      file: 'Dockerfile',
      line: 2,
      exitCode: 3,
      command: ['/bin/sh', '-c', expect.stringContaining('while')],
    });
    // The whole output is kept in data.
    expect((err.data['output'] as string).split('\n').length).toBe(32);
  });

  test('a command the virtual shell does not have: exit code 127 and advice', async () => {
    const err = await failure('FROM scratch\nRUN no-such-program --flag\n');
    expect(err.code).toBe(ErrorCodes.ERR_BUILD_EXIT_CODE);
    expect(err.data['exitCode']).toBe(127);
    expect(err.message).toMatch(/no-such-program: not found/);
  });

  test('an aborted signal is ERR_ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await failure('FROM scratch\nRUN echo\n', { signal: ac.signal });
    expect(err.code).toBe(ErrorCodes.ERR_ABORTED);
  });
});
