/**
 * Metadata instructions and ARG/ENV: each lands in the image config and the history exactly as
 * BuildKit writes them (`created_by` strings, `empty_layer`), per reference §7 and §3.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import type { ContainerConfig } from '../../src/oci/types.js';
import { openStore, type Store } from '../../src/store/store.js';
import { BASE_USERS, buildText, containerConfig, imageFile, makeBaseImage } from './helpers.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface ConfigRow {
  name: string;
  dockerfile: string;
  buildArgs?: Record<string, string>;
  /** Fields of `config.config` that must equal these (others are not checked). */
  config: Partial<ContainerConfig>;
  /** Fields that must be absent from `config.config`. */
  absent?: Array<keyof ContainerConfig>;
  author?: string;
  /** The history entries after the base image's: created_by and empty_layer. */
  history: Array<[string, boolean]>;
}

const rows: ConfigRow[] = [
  {
    name: 'FROM scratch: default PATH, WorkingDir /, no history',
    dockerfile: 'FROM scratch\n',
    config: { Env: [DEFAULT_PATH], WorkingDir: '/' },
    absent: ['Cmd', 'Entrypoint', 'User'],
    history: [],
  },
  {
    name: 'ENV, both syntaxes; replaced in place, order kept; expansion sees the env before the instruction',
    dockerfile: 'FROM scratch\nENV A=1 B="x y"\nENV C 2 3\nENV A=3 D=$A\nENV E=${B:+set}\n',
    config: { Env: [DEFAULT_PATH, 'A=3', 'B=x y', 'C=2 3', 'D=1', 'E=set'] },
    history: [
      ['ENV A=1 B=x y', true],
      ['ENV C=2 3', true],
      ['ENV A=3 D=1', true],
      ['ENV E=set', true],
    ],
  },
  {
    name: 'LABEL: quoted keys and values, expansion, last write wins',
    dockerfile: 'FROM scratch\nENV V=2\nLABEL a=b "c d"=e\nLABEL version=$V a=z\n',
    config: { Labels: { a: 'z', 'c d': 'e', version: '2' } },
    history: [
      ['ENV V=2', true],
      ['LABEL a=b c d=e', true],
      ['LABEL version=2 a=z', true],
    ],
  },
  {
    name: 'USER, EXPOSE (sorted, ranges, protocols), VOLUME (both forms), STOPSIGNAL',
    dockerfile:
      'FROM scratch\nUSER app:app\nEXPOSE 5000 2375 1234/udp\nEXPOSE 80-81/tcp 53/UDP\nVOLUME /data /logs\nVOLUME ["/x"]\nSTOPSIGNAL SIGKILL\n',
    config: {
      User: 'app:app',
      ExposedPorts: { '1234/udp': {}, '2375/tcp': {}, '5000/tcp': {}, '53/udp': {}, '80/tcp': {}, '81/tcp': {} },
      Volumes: { '/data': {}, '/logs': {}, '/x': {} },
      StopSignal: 'SIGKILL',
    },
    history: [
      ['USER app:app', true],
      ['EXPOSE [1234/udp 2375/tcp 5000/tcp]', true],
      ['EXPOSE [53/udp 80/tcp 81/tcp]', true],
      ['VOLUME [/data /logs]', true],
      ['VOLUME [/x]', true],
      ['STOPSIGNAL SIGKILL', true],
    ],
  },
  {
    name: 'CMD shell form is wrapped in the SHELL; ArgsEscaped',
    dockerfile: 'FROM scratch\nCMD node s.js\nSHELL ["/bin/bash", "-c"]\nCMD echo "$HOME"\n',
    config: { Cmd: ['/bin/bash', '-c', 'echo "$HOME"'], ArgsEscaped: true, Shell: ['/bin/bash', '-c'] },
    history: [
      ['CMD ["/bin/sh" "-c" "node s.js"]', true],
      ['SHELL [/bin/bash -c]', true],
      ['CMD ["/bin/bash" "-c" "echo \\"$HOME\\""]', true],
    ],
  },
  {
    name: 'ENTRYPOINT after CMD in the same stage keeps the CMD',
    dockerfile: 'FROM scratch\nCMD ["a"]\nENTRYPOINT ["b", "c"]\n',
    config: { Cmd: ['a'], Entrypoint: ['b', 'c'] },
    history: [
      ['CMD ["a"]', true],
      ['ENTRYPOINT ["b" "c"]', true],
    ],
  },
  {
    name: 'ENTRYPOINT [] clears it; CMD [] is an empty list',
    dockerfile: 'FROM scratch\nENTRYPOINT ["x"]\nENTRYPOINT []\nCMD []\n',
    config: { Entrypoint: null, Cmd: [] },
    history: [
      ['ENTRYPOINT ["x"]', true],
      ['ENTRYPOINT []', true],
      ['CMD []', true],
    ],
  },
  {
    name: 'HEALTHCHECK CMD (shell and exec form, every option) and NONE',
    dockerfile:
      'FROM scratch\nHEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://x/ || exit 1\nHEALTHCHECK --interval=30s --timeout=1m30s --start-period=1s --start-interval=500ms --retries=3 CMD ["curl", "-f", "x"]\n',
    config: {
      Healthcheck: {
        Test: ['CMD', 'curl', '-f', 'x'],
        Interval: 30e9,
        Timeout: 90e9,
        StartPeriod: 1e9,
        StartInterval: 5e8,
        Retries: 3,
      },
    },
    history: [
      [
        'HEALTHCHECK {Test:[CMD-SHELL curl -f http://x/ || exit 1] Interval:5m0s Timeout:3s StartPeriod:0s StartInterval:0s Retries:0}',
        true,
      ],
      [
        'HEALTHCHECK {Test:[CMD curl -f x] Interval:30s Timeout:1m30s StartPeriod:1s StartInterval:500ms Retries:3}',
        true,
      ],
    ],
  },
  {
    name: 'HEALTHCHECK NONE',
    dockerfile: 'FROM scratch\nHEALTHCHECK NONE\n',
    config: { Healthcheck: { Test: ['NONE'] } },
    history: [['HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}', true]],
  },
  {
    name: 'ONBUILD is recorded raw (not expanded) and has no history entry',
    dockerfile: 'FROM scratch\nENV X=1\nONBUILD RUN echo $X\nONBUILD COPY a /b\n',
    config: { OnBuild: ['RUN echo $X', 'COPY a /b'] },
    history: [['ENV X=1', true]],
  },
  {
    name: 'MAINTAINER sets the author',
    dockerfile: 'FROM scratch\nMAINTAINER Jane Doe <jane@example.com>\n',
    author: 'Jane Doe <jane@example.com>',
    config: {},
    history: [['MAINTAINER Jane Doe <jane@example.com>', true]],
  },
  {
    name: 'ARG in the stage: history shows the declaration; never written to Env',
    dockerfile: 'FROM scratch\nARG foo=bar\nARG bar=123\nARG foo=bar2\nARG unset\nRUN ls /\n',
    config: { Env: [DEFAULT_PATH] },
    history: [
      ['ARG foo=bar', true],
      ['ARG bar=123', true],
      ['ARG foo=bar2', true],
      ['ARG unset', true],
      ['RUN |3 foo=bar2 bar=123 unset= /bin/sh -c ls / # buildkit', false],
    ],
  },
  {
    name: 'a build arg wins over the default and fills a bare ARG',
    dockerfile: 'FROM scratch\nARG foo=bar\nARG given\nRUN ls /\n',
    buildArgs: { foo: 'cli', given: 'yes', notDeclared: 'ignored' },
    config: { Env: [DEFAULT_PATH] },
    history: [
      ['ARG foo=bar', true],
      ['ARG given', true],
      ['RUN |2 foo=cli given=yes /bin/sh -c ls / # buildkit', false],
    ],
  },
  {
    name: 'meta ARGs are visible only in FROM; ARG X in the stage brings one in',
    dockerfile: 'ARG BASE=scratch\nARG V=1\nFROM ${BASE}\nENV SEEN_BEFORE=${V:-unset}\nARG V\nENV SEEN_AFTER=$V\n',
    config: { Env: [DEFAULT_PATH, 'SEEN_BEFORE=unset', 'SEEN_AFTER=1'] },
    history: [
      ['ENV SEEN_BEFORE=unset', true],
      ['ARG V', true],
      ['ENV SEEN_AFTER=1', true],
    ],
  },
  {
    name: 'ENV wins over an earlier ARG of the same name (the later definition)',
    dockerfile: 'FROM scratch\nARG X=from-arg\nENV X=from-env\nENV Y=$X\n',
    config: { Env: [DEFAULT_PATH, 'X=from-env', 'Y=from-env'] },
    history: [
      ['ARG X=from-arg', true],
      ['ENV X=from-env', true],
      ['ENV Y=from-env', true],
    ],
  },
  {
    name: 'RUN shell and exec form; WORKDIR relative to the previous one (a layer; / is empty)',
    dockerfile: 'FROM scratch\nRUN ["ls", "-la"]\nWORKDIR /\nWORKDIR app\nWORKDIR sub\nWORKDIR /abs/\nRUN pwd\n',
    config: { WorkingDir: '/abs/' },
    history: [
      ['RUN ls -la # buildkit', false],
      ['WORKDIR /', true],
      ['WORKDIR /app', false],
      ['WORKDIR /app/sub', false],
      ['WORKDIR /abs/', false],
      ['RUN /bin/sh -c pwd # buildkit', false],
    ],
  },
  {
    name: 'COPY/ADD history: --chown/--chmod shown, --from/--link/--exclude not; heredoc names',
    dockerfile:
      'FROM scratch AS one\nCOPY a /a\nFROM scratch\nCOPY --from=one --chown=1:2 --chmod=755 /a /d/\nCOPY --link --exclude=*.md a a2 /e/\nCOPY <<EOF /f\nhi\nEOF\nADD a /g\n',
    config: {},
    history: [
      ['COPY --chown=1:2 --chmod=755 /a /d/ # buildkit', false],
      ['COPY a a2 /e/ # buildkit', false],
      ['COPY <<EOF /f # buildkit', false],
      ['ADD a /g # buildkit', false],
    ],
  },
  {
    name: 'RUN heredoc: the body is the command',
    dockerfile: 'FROM scratch\nRUN <<EOF\necho one > /one\necho two > /two\nEOF\n',
    config: {},
    history: [['RUN /bin/sh -c echo one > /one\necho two > /two\n # buildkit', false]],
  },
];

let store: Store;
beforeAll(async () => {
  store = await openStore({ memory: true });
});

const FILES = { a: 'a\n', a2: 'a2\n', 'x.md': 'md\n' };

describe('config and history per instruction', () => {
  test.each(rows)('$name', async (row) => {
    const r = await buildText(store, row.dockerfile, FILES, {
      sourceDateEpoch: 0,
      ...(row.buildArgs ? { buildArgs: row.buildArgs } : {}),
    });
    const c = containerConfig(r);
    for (const [k, v] of Object.entries(row.config)) expect(c[k as keyof ContainerConfig], k).toEqual(v);
    for (const k of row.absent ?? []) expect(c[k], String(k)).toBeUndefined();
    expect(r.image.config.author).toBe(row.author);
    const history = r.image.config.history ?? [];
    expect(history.map((h) => [h.created_by, h.empty_layer === true])).toEqual(row.history);
    for (const h of history) {
      expect(h.comment).toBe('buildkit.dockerfile.v0');
      expect(h.created).toBe('1970-01-01T00:00:00Z');
    }
    // One layer per non-empty history entry, in order.
    expect(r.image.config.rootfs.diff_ids.length).toBe(history.filter((h) => h.empty_layer !== true).length);
    expect(r.image.layers.length).toBe(r.image.config.rootfs.diff_ids.length);
  });
});

describe('ARGs at run time', () => {
  test('the predefined platform ARGs: TARGETARCH after ARG TARGETARCH (also when declared bare before FROM)', async () => {
    for (const prefix of ['', 'ARG TARGETARCH\n']) {
      const r = await buildText(
        store,
        `${prefix}FROM scratch\nRUN echo "[$TARGETARCH]" > /before\nARG TARGETARCH\nARG TARGETPLATFORM TARGETOS\nRUN echo "$TARGETARCH $TARGETOS $TARGETPLATFORM" > /after\n`,
        {},
        { platform: { os: 'linux', architecture: 'arm64' } },
      );
      expect(await imageFile(store, r.image, '/before')).toBe('[]\n');
      expect(await imageFile(store, r.image, '/after')).toBe('arm64 linux linux/arm64\n');
      expect(r.image.config.architecture).toBe('arm64');
    }
  });

  test('a build arg overrides a predefined ARG; FROM sees meta ARGs', async () => {
    await makeBaseImage({ store, tag: 'args-base:7', files: { ...BASE_USERS, 'etc/base': '7\n' } });
    const r = await buildText(
      store,
      'ARG TAG=6\nFROM args-base:${TAG}\nARG TARGETOS\nRUN cat /etc/base > /seen && echo $TARGETOS >> /seen\n',
      {},
      { buildArgs: { TAG: '7', TARGETOS: 'plan9' } },
    );
    expect(await imageFile(store, r.image, '/seen')).toBe('7\nplan9\n');
  });

  test('ARG values reach RUN as environment variables, and ENV reaches the executor too', async () => {
    const r = await buildText(store, 'FROM scratch\nARG A=1\nENV B=2\nRUN echo "$A$B" > /ab\n');
    expect(await imageFile(store, r.image, '/ab')).toBe('12\n');
    expect(containerConfig(r).Env).toEqual([DEFAULT_PATH, 'B=2']);
  });
});
