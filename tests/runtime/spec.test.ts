/**
 * The spec generator is pure: image config + run options + rootfs facts → config.json. These
 * check Docker's rules as tables and properties; runtime-podman.test.ts compares the result with
 * the config.json podman writes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImageConfig } from '../../src/index.js';
import {
  containerArgs,
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  generateSpec,
  mergeEnv,
  resolveExecUser,
  type RunSpecFacts,
} from '../../src/low-level.js';

const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:1000:\nextra:x:2000:app,nobody\nstaff:x:50:\n';
const FACTS: RunSpecFacts = {
  rootfs: '/r',
  passwd: PASSWD,
  group: GROUP,
  cgroupsPath: '/layerkit/x',
  cgroupV2: false,
  swapAccounting: true,
};

function image(config: NonNullable<ImageConfig['config']>): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } };
}

describe('Entrypoint, Cmd and arguments (moby merge rules)', () => {
  it.each([
    [{ Entrypoint: ['ep'], Cmd: ['a'] }, {}, ['ep', 'a']],
    [{ Entrypoint: ['ep'], Cmd: ['a'] }, { cmd: ['b', 'c'] }, ['ep', 'b', 'c']],
    [{ Cmd: ['sh'] }, { cmd: ['echo', 'x'] }, ['echo', 'x']],
    [{ Entrypoint: ['ep'], Cmd: ['a'] }, { entrypoint: ['x'] }, ['x']],
    [{ Entrypoint: ['ep'], Cmd: ['a'] }, { entrypoint: [], cmd: ['y'] }, ['y']],
    [{ Entrypoint: ['ep'] }, {}, ['ep']],
  ])('%j + %j → %j', (config, options, args) => {
    expect(containerArgs(config, options)).toEqual(args);
  });

  it('no command at all is a coded error', () => {
    expect(() => containerArgs({}, {})).toThrow(expect.objectContaining({ code: 'ERR_CONTAINER_COMMAND' }));
  });
});

describe('Env', () => {
  it('later K=V replaces, K alone unsets, order of first appearance is kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C', 'PATH'), fc.option(fc.string({ maxLength: 4 }))), {
          maxLength: 8,
        }),
        (ops) => {
          const list = ops.map(([k, v]) => (v === null ? k : `${k}=${v}`));
          const merged = mergeEnv(['PATH=/bin'], list);
          const expected = new Map<string, string>([['PATH', '/bin']]);
          for (const [k, v] of ops) {
            if (v === null) expected.delete(k);
            else expected.set(k, v);
          }
          const got = new Map(merged.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("starts from Docker's PATH and HOSTNAME, adds TERM only with a tty and HOME from passwd", () => {
    const spec = generateSpec(image({ Env: ['FOO=bar'] }), { cmd: ['sh'], user: 'app', hostname: 'h' }, FACTS);
    expect(spec.process.env).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'FOO=bar', 'HOME=/home/app']);
    expect(generateSpec(image({}), { cmd: ['sh'], tty: true }, FACTS).process.env).toContain('TERM=xterm');
  });
});

describe('--user through the image passwd and group (moby GetExecUser)', () => {
  it.each([
    ['', { uid: 0, gid: 0, additionalGids: [], home: '/root' }],
    ['root', { uid: 0, gid: 0, additionalGids: [0], home: '/root' }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [1000, 2000], home: '/home/app' }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [1000, 2000], home: '/home/app' }],
    ['app:staff', { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' }],
    ['app:50', { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' }],
    ['4242', { uid: 4242, gid: 0, additionalGids: [0], home: '/' }],
    ['4242:4243', { uid: 4242, gid: 4243, additionalGids: [4243], home: '/' }],
    ['nobody', { uid: 65534, gid: 65534, additionalGids: [65534, 2000], home: '/' }],
  ])('%s', (user, expected) => {
    expect(resolveExecUser({ user, passwd: PASSWD, group: GROUP })).toEqual(expected);
  });

  it.each(['nosuch', 'app:nosuchgroup', 'nosuch:0'])('%s is ERR_CONTAINER_USER', (user) => {
    expect(() => resolveExecUser({ user, passwd: PASSWD, group: GROUP })).toThrow(
      expect.objectContaining({ code: 'ERR_CONTAINER_USER' }),
    );
  });
});

describe('defaults and resources', () => {
  const spec = generateSpec(
    image({ WorkingDir: '/work', User: 'app' }),
    { cmd: ['sh'], resources: { memory: 64 << 20, cpus: 0.5, pids: 50 } },
    FACTS,
  );

  it("Docker's capability set, namespaces (no network namespace only with --network host)", () => {
    expect(spec.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(spec.linux.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    const host = generateSpec(image({}), { cmd: ['sh'], network: 'host' }, FACTS);
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain('network');
    expect(generateSpec(image({}), { cmd: ['sh'] }, { ...FACTS, cgroupV2: true }).linux.namespaces).toContainEqual({
      type: 'cgroup',
    });
  });

  it('memory+swap 2x, quota per 100 ms, pids; swap left out without swap accounting', () => {
    expect(spec.linux.resources.memory).toEqual({ limit: 64 << 20, swap: 128 << 20 });
    expect(spec.linux.resources.cpu).toEqual({ quota: 50000, period: 100000 });
    expect(spec.linux.resources.pids).toEqual({ limit: 50 });
    const noSwap = generateSpec(
      image({}),
      { cmd: ['sh'], resources: { memory: 64 << 20 } },
      { ...FACTS, swapAccounting: false },
    );
    expect(noSwap.linux.resources.memory).toEqual({ limit: 64 << 20 });
  });

  it('user, cwd, read-only root, binds', () => {
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, umask: 0o022, additionalGids: [1000, 2000] });
    expect(spec.process.cwd).toBe('/work');
    const ro = generateSpec(
      image({}),
      { cmd: ['sh'], readOnly: true, mounts: [{ source: '/h', destination: '/d', readOnly: true }] },
      FACTS,
    );
    expect(ro.root.readonly).toBe(true);
    expect(ro.mounts.at(-1)).toEqual({
      destination: '/d',
      type: 'bind',
      source: '/h',
      options: ['rbind', 'rprivate', 'ro'],
    });
  });

  it.each([
    [{ memory: 1000 }, 'ERR_USAGE'],
    [{ memory: 64 << 20, memorySwap: 1 << 20 }, 'ERR_USAGE'],
    [{ memorySwap: 64 << 20 }, 'ERR_USAGE'],
    [{ cpus: 0 }, 'ERR_USAGE'],
  ])('bad limits %j are %s', (resources, code) => {
    expect(() => generateSpec(image({}), { cmd: ['sh'], resources }, FACTS)).toThrow(expect.objectContaining({ code }));
  });
});
