import { describe, expect, it } from 'vitest';
import { isLayerkitError, type LayerkitError } from '../../src/errors.js';
import {
  parseDockerfile,
  parseRunMount,
  toInstruction,
  toInstructions,
  type Instruction,
} from '../../src/dockerfile/index.js';

/** The one instruction of `line` (after an implicit FROM). */
function one(line: string): Instruction {
  const parsed = parseDockerfile(`FROM scratch\n${line}\n`);
  return toInstruction(parsed.nodes[1] as NonNullable<(typeof parsed.nodes)[1]>);
}

/** Strips node/range so results compare as plain data. */
function data(i: Instruction): Record<string, unknown> {
  const { node: _node, range: _range, ...rest } = i as Instruction & Record<string, unknown>;
  return rest;
}

function failure(text: string): LayerkitError {
  try {
    toInstructions(parseDockerfile(text, { file: 'Dockerfile.test' }));
  } catch (err) {
    if (isLayerkitError(err)) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('typed instructions', () => {
  it.each<[string, Record<string, unknown>]>([
    ['FROM alpine', { keyword: 'from', image: 'alpine' }],
    [
      'FROM --platform=$BUILDPLATFORM golang:1 AS Build',
      { keyword: 'from', image: 'golang:1', name: 'build', platform: '$BUILDPLATFORM' },
    ],
    ['from a as b.c-d_e', { keyword: 'from', image: 'a', name: 'b.c-d_e' }],
    [
      'ARG a b=1 c= d="x y"',
      {
        keyword: 'arg',
        args: [{ key: 'a' }, { key: 'b', value: '1' }, { key: 'c', value: '' }, { key: 'd', value: '"x y"' }],
      },
    ],
    [
      'ENV A=1 B="x y"',
      {
        keyword: 'env',
        pairs: [
          { key: 'A', value: '1', legacy: false },
          { key: 'B', value: '"x y"', legacy: false },
        ],
      },
    ],
    ['ENV PATH /a:$PATH', { keyword: 'env', pairs: [{ key: 'PATH', value: '/a:$PATH', legacy: true }] }],
    ['LABEL a=b', { keyword: 'label', pairs: [{ key: 'a', value: 'b', legacy: false }] }],
    ['MAINTAINER Me <me@x>', { keyword: 'maintainer', maintainer: 'Me <me@x>' }],
    ['WORKDIR /app dir', { keyword: 'workdir', path: '/app dir' }],
    ['USER app:app', { keyword: 'user', user: 'app:app' }],
    ['STOPSIGNAL SIGKILL', { keyword: 'stopsignal', signal: 'SIGKILL' }],
    ['CMD ["a", "b"]', { keyword: 'cmd', command: { form: 'exec', args: ['a', 'b'], heredocs: [] } }],
    ['CMD node s.js', { keyword: 'cmd', command: { form: 'shell', args: ['node s.js'], heredocs: [] } }],
    ['CMD []', { keyword: 'cmd', command: { form: 'exec', args: [], heredocs: [] } }],
    ['ENTRYPOINT []', { keyword: 'entrypoint', command: { form: 'exec', args: [], heredocs: [] } }],
    ['SHELL ["/bin/bash", "-c"]', { keyword: 'shell', shell: ['/bin/bash', '-c'] }],
    ['EXPOSE 8080 443/udp 80', { keyword: 'expose', ports: ['443/udp', '80', '8080'] }],
    ['VOLUME ["/a", " /b "]', { keyword: 'volume', volumes: ['/a', '/b'] }],
    [
      'HEALTHCHECK NONE',
      { keyword: 'healthcheck', test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 },
    ],
    [
      'HEALTHCHECK --interval=5m --timeout=1.5s --start-period=0s --start-interval=2ms --retries=3 CMD curl -f x',
      {
        keyword: 'healthcheck',
        test: ['CMD-SHELL', 'curl -f x'],
        interval: 300e9,
        timeout: 1.5e9,
        startPeriod: 0,
        startInterval: 2e6,
        retries: 3,
      },
    ],
    [
      'healthcheck cmd ["a"]',
      {
        keyword: 'healthcheck',
        test: ['CMD', 'a'],
        interval: 0,
        timeout: 0,
        startPeriod: 0,
        startInterval: 0,
        retries: 0,
      },
    ],
    [
      'COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /d/',
      {
        keyword: 'copy',
        sources: ['a', 'b'],
        heredocSources: [],
        dest: '/d/',
        from: 'build',
        chown: '1:2',
        chmod: '755',
        link: true,
        parents: true,
        excludes: ['*.md', 'x'],
      },
    ],
    [
      'COPY ["a b", "/c d"]',
      {
        keyword: 'copy',
        sources: ['a b'],
        heredocSources: [],
        dest: '/c d',
        link: false,
        parents: false,
        excludes: [],
      },
    ],
    [
      'ADD --checksum=sha256:00 --keep-git-dir --unpack=false --link=false http://x/y.tgz /opt/',
      {
        keyword: 'add',
        sources: ['http://x/y.tgz'],
        heredocSources: [],
        dest: '/opt/',
        link: false,
        excludes: [],
        checksum: 'sha256:00',
        keepGitDir: true,
        unpack: false,
      },
    ],
  ])('%s', (line, expected) => {
    expect(data(one(line))).toEqual(expected);
  });

  it('RUN: flags parsed and validated, command kept raw', () => {
    const run = one(
      'RUN --mount=type=cache,target=/root/.cache,sharing=locked --network=none --security=insecure --device=/dev/fuse,required echo $HOME',
    );
    expect(data(run)).toEqual({
      keyword: 'run',
      command: { form: 'shell', args: ['echo $HOME'], heredocs: [] },
      mounts: ['type=cache,target=/root/.cache,sharing=locked'],
      network: 'none',
      security: 'insecure',
      devices: [{ name: '/dev/fuse', required: true }],
      flagsUsed: ['device', 'mount', 'network', 'security'],
    });
    expect(data(one('RUN ls'))).toMatchObject({
      network: 'default',
      security: 'sandbox',
      mounts: [],
      devices: [],
      flagsUsed: [],
    });
  });

  it('RUN heredocs are handed over raw', () => {
    const parsed = parseDockerfile('FROM a\nRUN <<-EOF\n\techo hi\nEOF\n');
    const run = toInstruction(parsed.nodes[1] as NonNullable<(typeof parsed.nodes)[1]>);
    expect(run.keyword === 'run' && run.command).toEqual({
      form: 'shell',
      args: ['<<-EOF'],
      heredocs: [{ name: 'EOF', content: '\techo hi\n', expand: true, chomp: true, fileDescriptor: 0 }],
    });
  });

  it('COPY/ADD heredoc sources become inline files (chomped, expansion flag kept)', () => {
    const parsed = parseDockerfile("FROM a\nCOPY <<-A <<'B' src /dest/\n\tone $X\nA\ntwo $X\nB\n");
    const copy = toInstruction(parsed.nodes[1] as NonNullable<(typeof parsed.nodes)[1]>);
    expect(copy.keyword === 'copy' && [copy.sources, copy.heredocSources, copy.dest]).toEqual([
      ['src'],
      [
        { name: 'A', content: 'one $X\n', expand: true },
        { name: 'B', content: 'two $X\n', expand: false },
      ],
      '/dest/',
    ]);
  });

  it('ONBUILD keeps the trigger text (heredocs re-attached) and its node', () => {
    const parsed = parseDockerfile('FROM a\n  onbuild   RUN <<EOF\nx\nEOF\n');
    const ob = toInstruction(parsed.nodes[1] as NonNullable<(typeof parsed.nodes)[1]>);
    expect(ob.keyword === 'onbuild' && [ob.expression, ob.trigger.keyword]).toEqual(['RUN <<EOF\nx\nEOF', 'run']);
  });

  it('parseRunMount applies BuildKit defaults and types', () => {
    expect(parseRunMount('target=/x')).toEqual({ type: 'bind', target: '/x', readOnly: true, required: false });
    expect(parseRunMount('type=cache,id=c,target=/c,mode=0755,uid=1,gid=2')).toEqual({
      type: 'cache',
      id: 'c',
      target: '/c',
      readOnly: false,
      required: false,
      mode: 0o755,
      uid: 1,
      gid: 2,
    });
    expect(parseRunMount('type=tmpfs,dst=/t,size=64m')).toMatchObject({
      type: 'tmpfs',
      target: '/t',
      readOnly: false,
      sizeLimit: 64 * 2 ** 20,
    });
    expect(parseRunMount('type=secret,id=tok,env=TOKEN,required')).toMatchObject({
      type: 'secret',
      id: 'tok',
      env: 'TOKEN',
      required: true,
      readOnly: true,
    });
    expect(parseRunMount('"type=bind","source=a,b",rw')).toMatchObject({ source: 'a,b', readOnly: false });
    expect(
      parseRunMount('target=$T,from=$F', { expand: (v) => v.replace('$T', '/t').replace('$F', 'stage') }),
    ).toMatchObject({ target: '/t', from: 'stage' });
  });
});

describe('instruction errors: code, BuildKit wording, file:line:column', () => {
  it.each([
    ['FROM a\nFORM b', 'ERR_DOCKERFILE_UNKNOWN_INSTRUCTION', 'unknown instruction: FORM (did you mean FROM?)', 2, 1],
    ['FROM a\n  bogus b', 'ERR_DOCKERFILE_UNKNOWN_INSTRUCTION', 'unknown instruction: bogus', 2, 3],
    [
      'FROM a\ncopyy x y',
      'ERR_DOCKERFILE_UNKNOWN_INSTRUCTION',
      'unknown instruction: copyy (did you mean copy?)',
      2,
      1,
    ],
    ['FROM', 'ERR_DOCKERFILE_ARGUMENTS', 'FROM requires either one or three arguments', 1, 1],
    ['FROM a b', 'ERR_DOCKERFILE_ARGUMENTS', 'FROM requires either one or three arguments', 1, 1],
    [
      'FROM a AS 1x',
      'ERR_DOCKERFILE_ARGUMENTS',
      'invalid name for build stage: "1x", name can\'t start with a number or contain symbols',
      1,
      1,
    ],
    [
      'FROM a\nCOPY x',
      'ERR_DOCKERFILE_ARGUMENTS',
      'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
      2,
      1,
    ],
    [
      'FROM a\nADD x',
      'ERR_DOCKERFILE_ARGUMENTS',
      'ADD requires at least two arguments, but only one was provided. Destination could not be determined',
      2,
      1,
    ],
    ['FROM a\nCOPY x <<EOF\nEOF', 'ERR_DOCKERFILE_ARGUMENTS', 'COPY cannot accept a heredoc as a destination', 2, 1],
    ['FROM a\nWORKDIR', 'ERR_DOCKERFILE_ARGUMENTS', 'WORKDIR requires exactly one argument', 2, 1],
    ['FROM a\nUSER', 'ERR_DOCKERFILE_ARGUMENTS', 'USER requires exactly one argument', 2, 1],
    ['FROM a\nSTOPSIGNAL', 'ERR_DOCKERFILE_ARGUMENTS', 'STOPSIGNAL requires exactly one argument', 2, 1],
    ['FROM a\nMAINTAINER', 'ERR_DOCKERFILE_ARGUMENTS', 'MAINTAINER requires exactly one argument', 2, 1],
    ['FROM a\nENV', 'ERR_DOCKERFILE_ARGUMENTS', 'ENV requires at least one argument', 2, 1],
    ['FROM a\nENV =x', 'ERR_DOCKERFILE_ARGUMENTS', 'ENV names can not be blank', 2, 1],
    ['FROM a\nLABEL', 'ERR_DOCKERFILE_ARGUMENTS', 'LABEL requires at least one argument', 2, 1],
    ['FROM a\nARG', 'ERR_DOCKERFILE_ARGUMENTS', 'ARG requires at least one argument', 2, 1],
    ['FROM a\nARG =x', 'ERR_DOCKERFILE_ARGUMENTS', 'ARG names can not be blank', 2, 1],
    ['FROM a\nEXPOSE', 'ERR_DOCKERFILE_ARGUMENTS', 'EXPOSE requires at least one argument', 2, 1],
    ['FROM a\nVOLUME', 'ERR_DOCKERFILE_ARGUMENTS', 'VOLUME requires at least one argument', 2, 1],
    ['FROM a\nVOLUME [" "]', 'ERR_DOCKERFILE_ARGUMENTS', 'VOLUME specified can not be an empty string', 2, 1],
    ['FROM a\nSHELL []', 'ERR_DOCKERFILE_ARGUMENTS', 'SHELL requires at least one argument', 2, 1],
    ['FROM a\nSHELL bash -c', 'ERR_DOCKERFILE_ARGUMENTS', 'SHELL requires the arguments to be in JSON form', 2, 1],
    ['FROM a\nONBUILD', 'ERR_DOCKERFILE_ARGUMENTS', 'ONBUILD requires at least one argument', 2, 1],
    [
      'FROM a\nONBUILD ONBUILD RUN x',
      'ERR_DOCKERFILE_ARGUMENTS',
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
      2,
      1,
    ],
    ['FROM a\nONBUILD from x', 'ERR_DOCKERFILE_ARGUMENTS', "FROM isn't allowed as an ONBUILD trigger", 2, 1],
    [
      'FROM a\nONBUILD MAINTAINER x',
      'ERR_DOCKERFILE_ARGUMENTS',
      "MAINTAINER isn't allowed as an ONBUILD trigger",
      2,
      1,
    ],
    ['FROM a\nHEALTHCHECK', 'ERR_DOCKERFILE_ARGUMENTS', 'HEALTHCHECK requires at least one argument', 2, 1],
    ['FROM a\nHEALTHCHECK NONE x', 'ERR_DOCKERFILE_ARGUMENTS', 'HEALTHCHECK NONE takes no arguments', 2, 1],
    ['FROM a\nHEALTHCHECK CMD', 'ERR_DOCKERFILE_ARGUMENTS', 'Missing command after HEALTHCHECK CMD', 2, 1],
    [
      'FROM a\nHEALTHCHECK CONNECT x',
      'ERR_DOCKERFILE_ARGUMENTS',
      'Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
      2,
      1,
    ],
    ['FROM a\nCOPY --form=x a b', 'ERR_DOCKERFILE_FLAG', 'unknown flag: --form (did you mean from?)', 2, 6],
    ['FROM a\nRUN --mount=x \\\n  --bogus y', 'ERR_DOCKERFILE_FLAG', 'unknown flag: --bogus', 3, 3],
    ['FROM a\nMAINTAINER --boo x', 'ERR_DOCKERFILE_FLAG', 'unknown flag: --boo; MAINTAINER takes no flags', 2, 12],
    ['FROM a\nCOPY --from=a --from=b x y', 'ERR_DOCKERFILE_FLAG', 'duplicate flag specified: --from', 2, 15],
    ['FROM a\nCOPY --from x y', 'ERR_DOCKERFILE_FLAG', 'missing a value on flag: --from', 2, 6],
    ['FROM a\nCOPY --link= x y', 'ERR_DOCKERFILE_FLAG', 'missing a value on flag: --link', 2, 6],
    [
      'FROM a\nCOPY --link=maybe x y',
      'ERR_DOCKERFILE_FLAG',
      'expecting boolean value for flag --link, not: maybe',
      2,
      6,
    ],
    ['FROM a\nRUN --network=bridge x', 'ERR_DOCKERFILE_FLAG', 'invalid network mode "bridge"', 2, 5],
    ['FROM a\nRUN --security=root x', 'ERR_DOCKERFILE_FLAG', 'security "root" is not valid', 2, 5],
    ['FROM a\nRUN --mount=type=volume x', 'ERR_DOCKERFILE_FLAG', 'unsupported mount type "volume"', 2, 5],
    [
      'FROM a\nRUN --mount=type=cahce x',
      'ERR_DOCKERFILE_FLAG',
      'unsupported mount type "cahce" (did you mean cache?)',
      2,
      5,
    ],
    [
      'FROM a\nRUN --mount=tagret=/x x',
      'ERR_DOCKERFILE_FLAG',
      "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)",
      2,
      5,
    ],
    [
      'FROM a\nRUN --mount=from=$S,target=/x x',
      'ERR_DOCKERFILE_FLAG',
      "'from' doesn't support variable expansion, define alias stage instead",
      2,
      5,
    ],
    [
      'FROM a\nRUN --mount=type=bind,mode=0755 x',
      'ERR_DOCKERFILE_FLAG',
      'mode not allowed for "bind" type mounts',
      2,
      5,
    ],
    [
      'FROM a\nRUN --mount=type=secret x',
      'ERR_DOCKERFILE_FLAG',
      'invalid secret mount. one of source, target required',
      2,
      5,
    ],
    [
      'FROM a\nRUN --mount=type=bind,size=1 x',
      'ERR_DOCKERFILE_FLAG',
      "unexpected key 'size' for mount type 'bind'",
      2,
      5,
    ],
    ['FROM a\nRUN --mount=type=cache,sharing=all x', 'ERR_DOCKERFILE_FLAG', 'unsupported sharing value "all"', 2, 5],
    [
      'FROM a\nRUN --mount=type=bind,sharing=locked x',
      'ERR_DOCKERFILE_FLAG',
      'invalid cache sharing set for bind mount',
      2,
      5,
    ],
    ['FROM a\nRUN --mount=ro=perhaps x', 'ERR_DOCKERFILE_FLAG', 'invalid value for ro: perhaps', 2, 5],
    ['FROM a\nRUN --mount=type=cache,uid=-1 x', 'ERR_DOCKERFILE_FLAG', 'invalid value -1 for uid', 2, 5],
    [
      'FROM a\nRUN --mount=a\\"b x',
      'ERR_DOCKERFILE_FLAG',
      'failed to parse csv mounts: parse error on line 1, column 2: bare " in non-quoted-field',
      2,
      5,
    ],
    ['FROM a\nRUN --mount=nokey x', 'ERR_DOCKERFILE_FLAG', "invalid field 'nokey' must be a key=value pair", 2, 5],
    ['FROM a\nRUN --device=a,b x', 'ERR_DOCKERFILE_FLAG', "invalid field 'b' must be a key=value pair", 2, 5],
    ['FROM a\nHEALTHCHECK --interval=5 CMD x', 'ERR_DOCKERFILE_FLAG', 'time: missing unit in duration "5"', 2, 13],
    ['FROM a\nHEALTHCHECK --timeout=1y CMD x', 'ERR_DOCKERFILE_FLAG', 'time: unknown unit "y" in duration "1y"', 2, 13],
    [
      'FROM a\nHEALTHCHECK --interval=500us CMD x',
      'ERR_DOCKERFILE_FLAG',
      'Interval "interval" cannot be less than 1ms',
      2,
      13,
    ],
    [
      'FROM a\nHEALTHCHECK --interval=-1s CMD x',
      'ERR_DOCKERFILE_FLAG',
      'Interval "interval" cannot be less than 1ms',
      2,
      13,
    ],
    ['FROM a\nHEALTHCHECK --retries=-1 CMD x', 'ERR_DOCKERFILE_FLAG', '--retries cannot be negative (-1)', 2, 13],
    [
      'FROM a\nHEALTHCHECK --retries=x CMD x',
      'ERR_DOCKERFILE_FLAG',
      'strconv.ParseInt: parsing "x": invalid syntax',
      2,
      13,
    ],
  ])('%j', (text, code, reason, line, column) => {
    const err = failure(text);
    expect(err.code).toBe(code);
    expect(err.data).toEqual({ file: 'Dockerfile.test', line, column, reason });
    expect(err.message).toBe(`Dockerfile.test:${line}:${column}: ${reason}`);
  });

  it('accepts what BuildKit accepts', () => {
    const ok = [
      'FROM a\nCOPY --link=TRUE --parents=false a b',
      'FROM a\nCOPY --exclude=a --exclude=b a b',
      'FROM a\nRUN --mount=type=ssh,required=true x',
      'FROM a\nRUN --mount=type=cache,target=$DIR,uid=$UID x', // checked once expanded
      'FROM a\nHEALTHCHECK --interval=0 --timeout=1h2m3.5s CMD x',
      'FROM a\nCOPY ["<<EOF", "/d"]',
    ];
    for (const text of ok) expect(() => toInstructions(parseDockerfile(text))).not.toThrow();
  });
});
