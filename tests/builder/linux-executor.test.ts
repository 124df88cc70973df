import { describe, expect, onTestFinished } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  build,
  flattenImage,
  linuxExecutor as makeLinuxExecutor,
  linuxExecutorUnavailable,
  listFlat,
  readFlatFile,
} from '../../src/index.js';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { hasSlirp4netns } from '../../src/builder/executors/linux.js';
import { mountedUnder, SNAPSHOTS_STATE } from '../../src/runtime/snapshotter.js';
import { cgroupDirsOf } from '../../src/runtime/cgroups.js';
import { describeTree } from './helpers.js';
import { createVirtualShell } from '../../src/shell/executor.js';
import { readTarEntries } from '../../src/tar/index.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { canMountOverlay } from '../helpers/tools.js';

const baseWhy = !hasBusybox()
  ? 'busybox-static is not installed (Debian package busybox-static)'
  : !canMountOverlay()
    ? 'overlayfs cannot be mounted here (needs root on Linux)'
    : undefined;

// Both isolations: `oci` (runc, the default where it is installed) and the `chroot` fallback.
describe.each(['oci', 'chroot'] as const)('linux executor, %s isolation', (isolation) => {
  const why =
    baseWhy ??
    (linuxExecutorUnavailable(isolation) === undefined
      ? undefined
      : `${linuxExecutorUnavailable(isolation)}${isolation === 'oci' ? ' (Debian package runc)' : ''}`);
  const linuxExecutor = (o: Parameters<typeof makeLinuxExecutor>[0] = {}) => makeLinuxExecutor({ isolation, ...o });

  it.skipIf(why !== undefined)(
    `runs real binaries in namespaces and captures exactly their changes${why ? ` (skipped: ${why})` : ''}`,
    async ({ tmp, store }) => {
      await makeBusyboxImage(store);
      mkdirSync(`${tmp}/ctx`);
      writeFileSync(
        `${tmp}/ctx/Dockerfile`,
        [
          'FROM busybox:test',
          'RUN mkdir -p /proc /srv/data && echo "pid $$ in $(pwd)" > /srv/data/where && rm /etc/group && ln -s /srv/data /data',
          'WORKDIR /srv',
          'USER app',
          'RUN id -u > /tmp/uid && touch /tmp/mine && (touch mine 2>/tmp/denied || true)',
          'USER root',
          'RUN rm -rf /home && mkdir /home && touch /home/new',
          'RUN --network=none cat /proc/net/dev | wc -l > /tmp/netdevs',
        ].join('\n'),
      );
      const result = await build({ store, context: `${tmp}/ctx`, executor: linuxExecutor(), tags: ['x:1'] });
      const flat = await flattenImage({ store, image: result.image });
      const paths = listFlat(flat, { recursive: true }).map((e) => e.path);
      expect(readFlatFile(flat, '/srv/data/where').toString()).toBe('pid 1 in /\n');
      expect(paths).not.toContain('/etc/group');
      expect(listFlat(flat, { path: '/data' })[0]).toMatchObject({ type: 'symlink', linkTarget: '/srv/data' });
      expect(readFlatFile(flat, '/tmp/uid').toString()).toBe('1000\n');
      // real permissions apply: user app cannot write into root's 0755 /srv
      expect(readFlatFile(flat, '/tmp/denied').toString()).toContain('Permission denied');
      expect(listFlat(flat, { path: '/tmp/mine' })[0]).toMatchObject({ uid: 1000, gid: 1000 });
      expect(paths.filter((p) => p.startsWith('/home'))).toEqual(['/home', '/home/new']);
      // only the loopback device exists in the new network namespace
      expect(readFlatFile(flat, '/tmp/netdevs').toString()).toBe('3\n');
      // the layer of the opaque step says so
      const rmStep = result.steps.find((s) => s.instruction.startsWith('RUN rm -rf /home'))!;
      expect(rmStep.status).toBe('built');
    },
  );

  it.skipIf(why !== undefined)(
    `sandboxes like a container runtime; --security=insecure and --network=host need entitlements${why ? ` (skipped: ${why})` : ''}`,
    async ({ tmp, store }) => {
      onTestFinished(() => rmSync('/dev/layerkit-probe', { force: true }));
      await makeBusyboxImage(store);
      mkdirSync(`${tmp}/ctx`);
      const probe = [
        'RUN mkdir -p /proc /dev /mnt',
        'RUN grep CapBnd /proc/self/status > /caps; ls /dev > /devs; (touch /dev/layerkit-probe && echo wrote) > /devwrite 2>&1; (mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo refused) > /mount; wc -l < /proc/net/dev > /netdevs',
      ];
      const run = async (flags: string, allow: Array<'network.host' | 'security.insecure'> = []) => {
        writeFileSync(
          `${tmp}/ctx/Dockerfile`,
          ['FROM busybox:test', probe[0], probe[1]!.replace('RUN ', `RUN ${flags} `)].join('\n'),
        );
        await build({ store, context: `${tmp}/ctx`, executor: linuxExecutor(), tags: ['probe:1'], allow });
        const flat = await flattenImage({ store, image: 'probe:1' });
        const read = (p: string) => readFlatFile(flat, p).toString().trim();
        return {
          caps: read('/caps'),
          devs: read('/devs').split('\n'),
          devwrite: read('/devwrite'),
          mount: read('/mount'),
          netdevs: Number(read('/netdevs')),
          paths: listFlat(flat, { recursive: true }).map((e) => e.path),
        };
      };
      const sandbox = await run('');
      // Docker's default capability set, a container's /dev, no mounting, nothing written to the host's /dev
      expect(sandbox.caps).toBe('CapBnd:\t00000000a80425fb');
      expect(sandbox.devs).toEqual([
        'fd',
        'full',
        'null',
        'ptmx',
        'pts',
        'random',
        'shm',
        'stderr',
        'stdin',
        'stdout',
        'tty',
        'urandom',
        'zero',
      ]);
      expect(sandbox.devwrite).toBe('wrote');
      expect(existsSync('/dev/layerkit-probe')).toBe(false);
      expect(sandbox.paths).not.toContain('/dev/layerkit-probe');
      expect(sandbox.mount).toBe('refused');
      // the default network: loopback and slirp4netns's tap0, else the host's namespace
      const hostDevs = readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length;
      expect(sandbox.netdevs).toBe(hasSlirp4netns() ? 4 : hostDevs);

      await expect(run('--security=insecure')).rejects.toMatchObject({
        code: 'ERR_BUILD_STEP',
        message: expect.stringContaining('security.insecure entitlement') as unknown,
      });
      await expect(run('--network=host')).rejects.toMatchObject({
        code: 'ERR_BUILD_STEP',
        message: expect.stringContaining('network.host entitlement') as unknown,
      });
      const insecure = await run('--security=insecure', ['security.insecure']);
      expect(insecure.caps).toBe(
        readFileSync('/proc/self/status', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('CapBnd:')),
      );
      expect(insecure.mount).toBe('mounted');
      rmSync('/dev/layerkit-probe', { force: true });
      const host = await run('--network=host', ['network.host']);
      expect(host.netdevs).toBe(readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length);
    },
  );

  it.skipIf(why !== undefined)(
    `a command sees the image's hard links as one inode${why ? ` (skipped: ${why})` : ''}`,
    async ({ tmp, store }) => {
      await makeBusyboxImage(store);
      mkdirSync(`${tmp}/ctx`);
      // made by the virtual shell, read by real stat(1) in a later step
      writeFileSync(`${tmp}/ctx/Dockerfile`, 'FROM busybox:test\nRUN echo x > /a && ln /a /b\n');
      await build({ store, context: `${tmp}/ctx`, tags: ['links:1'] });
      writeFileSync(`${tmp}/ctx/Dockerfile`, 'FROM links:1\nRUN stat -c "%h %i" /a /b > /links\n');
      await build({ store, context: `${tmp}/ctx`, executor: linuxExecutor(), tags: ['links:2'] });
      const [a, b] = readFlatFile(await flattenImage({ store, image: 'links:2' }), '/links')
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      expect(a![0]).toBe('2');
      expect(a).toEqual(b);
    },
  );

  it.skipIf(why !== undefined)(
    `hard links a command makes stay hard links in its layer, with either executor${why ? ` (skipped: ${why})` : ''}`,
    async ({ tmp, store }) => {
      await makeBusyboxImage(store);
      mkdirSync(`${tmp}/ctx`);
      writeFileSync(
        `${tmp}/ctx/Dockerfile`,
        [
          'FROM busybox:test',
          'RUN mkdir /d && echo hi > /a && ln /a /b && ln /a /d/c && echo solo > /s && ln /etc/passwd /p',
        ].join('\n'),
      );
      for (const executor of [linuxExecutor(), createVirtualShell()]) {
        const result = await build({ store, context: `${tmp}/ctx`, executor, noCache: true });
        const layer = result.steps.find((s) => s.instruction.startsWith('RUN'))!.layer!;
        const entries: Array<[string, string, string?]> = [];
        for await (const e of readTarEntries([gunzipSync(await store.blobs.read(layer.digest))]))
          entries.push([e.header.path, e.header.type, e.header.linkTarget ?? e.data.toString()]);
        // one file per inode, the other names hardlink entries to it (the layer's first name)
        expect(entries.filter(([, type]) => type !== 'directory')).toEqual([
          ['a', 'file', 'hi\n'],
          ['b', 'hardlink', 'a'],
          ['d/c', 'hardlink', 'a'],
          [
            'etc/passwd',
            'file',
            readFlatFile(await flattenImage({ store, image: 'busybox:test' }), '/etc/passwd').toString(),
          ],
          ['p', 'hardlink', 'etc/passwd'],
          ['s', 'file', 'solo\n'],
        ]);
      }
    },
  );

  it.skipIf(why !== undefined)(
    `on a disk store stacks the snapshotter's extracted layers, whiteouts and opaque folders honoured${why ? ` (skipped: ${why})` : ''}`,
    async ({ tmp, diskStore: store }) => {
      const ctx = join(tmp, 'ctx');
      mkdirSync(ctx);
      await makeBusyboxImage(store);
      const dockerfile = [
        'FROM busybox:test',
        'RUN mkdir -p /d/sub && touch /d/a /d/b /d/sub/x && echo one > /f',
        'RUN rm /d/a && echo two > /f',
        'RUN rm -rf /d/sub && mkdir /d/sub && touch /d/sub/y',
        'WORKDIR /srv/app',
        'RUN --mount=type=cache,target=/var/cache/x ls /d /d/sub > /list && cat /f >> /list && pwd >> /list',
      ].join('\n');
      const result = await build({ store, context: ctx, dockerfileText: dockerfile, executor: linuxExecutor() });
      const flat = await flattenImage({ store, image: result.image });
      expect(readFlatFile(flat, '/list').toString()).toBe('/d:\nb\nsub\n\n/d/sub:\ny\ntwo\n/srv/app\n');
      // one extracted folder per distinct layer below the last RUN, kept for the next build
      const layers = result.image.config.rootfs.diff_ids;
      const snapshots = readdirSync(store.statePath(SNAPSHOTS_STATE));
      expect(snapshots.sort()).toEqual([...new Set(layers.slice(0, -1).map((d) => d.slice('sha256:'.length)))].sort());
      // the virtual shell agrees on every file
      const shell = await build({
        store,
        context: ctx,
        dockerfileText: dockerfile,
        executor: createVirtualShell(),
      });
      expect(await describeTree(store, shell.image, { exclude: ['/list'] })).toEqual(
        await describeTree(store, result.image, { exclude: ['/list'] }),
      );
    },
  );

  // runc's own cgroup is what this checks, so only the oci isolation has the test
  if (isolation === 'oci')
    it.skipIf(why !== undefined)(
      `oci: each RUN is a runc container with a cgroup of its own, and nothing is left behind${why ? ` (skipped: ${why})` : ''}`,
      async ({ tmp, store }) => {
        await makeBusyboxImage(store);
        mkdirSync(`${tmp}/ctx`);
        writeFileSync(
          `${tmp}/ctx/Dockerfile`,
          'FROM busybox:test\nRUN cat /proc/self/cgroup > /cgroup && cat /proc/1/cmdline | tr "\\0" " " > /init\n',
        );
        // its own scratch folder, so the check for mounts left behind sees only this build's
        mkdirSync(`${tmp}/work`);
        await build({
          store,
          context: `${tmp}/ctx`,
          executor: linuxExecutor({ workDir: `${tmp}/work` }),
          tags: ['cg:1'],
        });
        const flat = await flattenImage({ store, image: 'cg:1' });
        const cgroup = readFlatFile(flat, '/cgroup').toString();
        const id = /:\/layerkit\/(layerkit-build-[0-9a-f]{16})$/m.exec(cgroup)?.[1];
        expect(id, cgroup).toBeDefined();
        expect(readFlatFile(flat, '/init').toString()).toMatch(/^\/bin\/sh -c cat \/proc\/self\/cgroup/);
        expect(cgroupDirsOf(id!)).toEqual([]);
        expect(mountedUnder(`${tmp}/work`)).toEqual([]);
        expect(readdirSync(`${tmp}/work`)).toEqual([]);
        // the top-level mount points runc needs came from the init lower, not the layer
        expect(
          listFlat(flat, { recursive: true })
            .map((e) => e.path)
            .filter((p) => /^\/(proc|sys|dev)$/.test(p)),
        ).toEqual([]);
      },
    );
});
