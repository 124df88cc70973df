/**
 * `RUN --mount`: bind (context, a stage, a path inside either; read-only unless rw, writes
 * discarded), cache (kept across builds, executors and store reopenings; never in a layer or a
 * key; dropped by `gc --prune-cache`), tmpfs, secret (file and env), with both the virtual shell
 * and the Linux executor giving the same results; mount points never land in the layer; the key
 * covers what a bind shows (a change misses with the file named, a change outside `source=`
 * does not) but not cache contents or secret values. Plus the router (`MountedFs`) on its own.
 */
import { describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  build,
  flattenImage,
  gcStore,
  linuxExecutor,
  listFlat,
  loadImage,
  openStore,
  readFlatFile,
  type Executor,
  type Store,
} from '../../src/index.js';
import { linuxExecutorUnavailable } from '../../src/builder/executors/linux.js';
import { MountedFs } from '../../src/builder/mounted-fs.js';
import { createUnionFS } from '../../src/union/index.js';
import { indexImageLayers } from '../../src/layer/layer-store.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';

const DOCKERFILE = `FROM busybox:test AS tools
RUN mkdir -p /opt/tool && echo tool-v1 > /opt/tool/VERSION

FROM busybox:test
RUN --mount=target=/src cat /src/sub/a.txt /src/top.txt > /out-bind
RUN --mount=type=bind,source=sub,target=/root/s cat /root/s/a.txt > /out-source && ls /root/s >> /out-source
RUN --mount=from=tools,source=/opt/tool,target=/t cat /t/VERSION > /out-stage
RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/log && cat /var/cache/app/log > /out-cache
RUN --mount=type=cache,target=/root/.cache,uid=1000,gid=1000,mode=0700 stat -c '%u:%g %a' /root/.cache > /out-cache-owner
RUN --mount=type=tmpfs,target=/scratch echo gone > /scratch/f && ls /scratch > /out-tmpfs
RUN --mount=type=secret,id=token cat /run/secrets/token > /out-secret && stat -c '%a' /run/secrets/token >> /out-secret
RUN --mount=type=secret,id=token,env=TOKEN echo "$TOKEN" > /out-secret-env
RUN --mount=target=/ro touch /ro/new 2>/dev/null || echo refused > /out-ro
RUN --mount=target=/rw,rw touch /rw/new && ls /rw > /out-rw
RUN --mount=type=tmpfs,target=/small,size=8k printf '%100s' x > /small/fits && (printf '%20000s' x > /small/big) 2>/dev/null; wc -c < /small/fits > /out-tmpfs-size; test "$(cat /small/big 2>/dev/null | wc -c)" -lt 20000 && echo big-refused >> /out-tmpfs-size || echo big-written >> /out-tmpfs-size
`;

const OUTPUTS: Record<string, string> = {
  '/out-bind': 'hello\ntop\n',
  '/out-source': 'hello\na.txt\n',
  '/out-stage': 'tool-v1\n',
  '/out-cache-owner': '1000:1000 700\n',
  '/out-tmpfs': 'f\n',
  '/out-secret': 's3cret\n400\n',
  '/out-secret-env': 's3cret\n\n', // the secret's own newline, then echo's
  '/out-ro': 'refused\n',
  '/out-rw': 'Dockerfile\nnew\nsub\ntop.txt\n',
  '/out-tmpfs-size': '100\nbig-refused\n',
};

const linuxSkip = linuxExecutorUnavailable();
const EXECUTORS: Array<{ name: string; make: () => Executor | undefined; skip: string | undefined }> = [
  { name: 'virtual shell', make: () => undefined, skip: undefined },
  { name: 'linux executor', make: () => linuxExecutor(), skip: linuxSkip },
];

describe.skipIf(!hasBusybox())(
  `RUN --mount${hasBusybox() ? '' : ' (skipped: busybox is not installed; Debian package busybox-static)'}`,
  () => {
    let tmp: string;
    let context: string;
    test.beforeAll(({ fileTmp }) => {
      tmp = fileTmp;
      context = join(tmp, 'ctx');
      fs.mkdirSync(join(context, 'sub'), { recursive: true });
      fs.writeFileSync(join(context, 'sub/a.txt'), 'hello\n');
      fs.writeFileSync(join(context, 'top.txt'), 'top\n');
      fs.writeFileSync(join(context, 'Dockerfile'), DOCKERFILE);
    });

    const buildIt = async (store: Store, executor: Executor | undefined, extra: { noCache?: boolean } = {}) =>
      build({
        store,
        context,
        secrets: { token: { value: 's3cret\n' } },
        tags: ['mount:test'],
        sourceDateEpoch: 0,
        ...(executor ? { executor } : {}),
        ...extra,
      });

    describe.each(EXECUTORS)('with the $name', ({ make, skip }) => {
      it.skipIf(skip !== undefined)(
        `every kind of mount shows what BuildKit's would, and no mount point lands in a layer${skip ? ` (skipped: ${skip})` : ''}`,
        async () => {
          const store = await openStore({
            root: join(tmp, `store-${Math.random().toString(36).slice(2)}`),
            durable: false,
          });
          await makeBusyboxImage(store);
          await buildIt(store, make());
          const flat = await flattenImage({ store, image: 'mount:test' });
          for (const [path, text] of Object.entries(OUTPUTS))
            expect([path, readFlatFile(flat, path).toString()]).toEqual([path, text]);
          // what the rw bind wrote was discarded (buildah 1.28 writes it through into the context folder)
          expect(fs.readdirSync(context).sort()).toEqual(['Dockerfile', 'sub', 'top.txt']);
          expect(readFlatFile(flat, '/out-cache').toString()).toBe('run\n');
          // Each RUN's layer holds its output file and nothing else: no stub of /src, /t, /run/secrets...
          const image = await loadImage({ store, image: 'mount:test' });
          const { indexes } = await indexImageLayers({ store, image });
          const runLayers = indexes.slice(-Object.keys(OUTPUTS).length - 1);
          const paths = runLayers.map((l) =>
            [...l.entries()]
              .map((e) => e.path)
              .sort()
              .join(' '),
          );
          expect(paths).toEqual([
            'out-bind',
            'out-source',
            'out-stage',
            'out-cache',
            'out-cache-owner',
            'out-tmpfs',
            'out-secret',
            'out-secret-env',
            'out-ro',
            'out-rw',
            'out-tmpfs-size',
          ]);
          expect(
            listFlat(flat, { recursive: true }).some((e) =>
              ['/src', '/t', '/scratch', '/run', '/ro', '/rw', '/var'].includes(e.path),
            ),
          ).toBe(false);
          // The cache directory kept its contents: a rebuild that runs the step again appends.
          await buildIt(store, make(), { noCache: true });
          expect(readFlatFile(await flattenImage({ store, image: 'mount:test' }), '/out-cache').toString()).toBe(
            'run\nrun\n',
          );
        },
        120_000,
      );
      it.skipIf(skip !== undefined)(
        `the directories made for a mount point deep below existing ones leave nothing in the layer${skip ? ` (skipped: ${skip})` : ''}`,
        async ({ store }) => {
          await makeBusyboxImage(store);
          const result = await build({
            store,
            context,
            dockerfileText: [
              'FROM busybox:test',
              'RUN mkdir -p /opt/share',
              'RUN --mount=type=cache,id=deep,target=/opt/share/pkg/cache echo x > /opt/share/pkg/cache/f && echo ok > /out',
              'RUN --mount=type=tmpfs,target=/opt/share/tmp ls /opt/share',
            ].join('\n'),
            ...(make() ? { executor: make()! } : {}),
          });
          const { indexes } = await indexImageLayers({ store, image: result.image });
          // BuildKit's stub cleaner removes the stubs and restores their parent's times; its
          // differ then skips the unchanged /opt/share and /opt.
          expect(indexes.slice(-2).map((l) => [...l.entries()].map((e) => e.path))).toEqual([['out'], []]);
        },
      );
    });

    it('the key covers what a bind shows, not cache contents or secret values', async ({ store }) => {
      await makeBusyboxImage(store);
      const first = await buildIt(store, undefined);
      expect(first.steps.filter((s) => s.status === 'built' && !s.metadata)).toHaveLength(12);
      // Nothing changed but the cache's contents (the first build wrote it): everything hits.
      const again = await build({
        store,
        context,
        secrets: { token: { value: 'another value' } },
        tags: ['mount:test'],
        sourceDateEpoch: 0,
      });
      expect(again.steps.filter((s) => !s.metadata).map((s) => s.status)).toEqual(Array(12).fill('cached'));
      // top.txt is shown by the /src bind only (and by the rw bind, which copies nothing into a layer).
      fs.writeFileSync(join(context, 'top.txt'), 'top, changed\n');
      try {
        const changed = await buildIt(store, undefined);
        const status = Object.fromEntries(
          changed.steps.filter((s) => !s.metadata).map((s) => [s.instruction.split(' ').slice(0, 2).join(' '), s]),
        );
        const bind = status['RUN --mount=target=/src']!;
        expect(bind.status).toBe('built');
        expect(bind.explanation).toEqual([
          expect.objectContaining({
            kind: 'files',
            files: [{ path: 'mount /src: top.txt', change: 'modified', detail: expect.stringContaining('content') }],
          }),
        ]);
        // source=sub does not show top.txt: still a hit (its parent, though, was rebuilt: a miss by parent)
        const sub = changed.steps.find((s) => s.instruction.includes('source=sub'))!;
        expect(sub.explanation?.map((r) => r.kind)).toEqual(['parent']);
      } finally {
        fs.writeFileSync(join(context, 'top.txt'), 'top\n');
      }
    });

    it('a cache mount outlives the store object, survives gc, and goes with gc --prune-cache', async () => {
      const root = join(tmp, 'store-persist');
      const df =
        'FROM busybox:test\nRUN --mount=type=cache,id=shared,target=/c echo x >> /c/log && wc -l < /c/log > /count\n';
      const count = async (store: Store) =>
        readFlatFile(await flattenImage({ store, image: 'count:1' }), '/count')
          .toString()
          .trim();
      let store = await openStore({ root, durable: false });
      await makeBusyboxImage(store);
      await build({ store, context, dockerfileText: df, tags: ['count:1'] });
      expect(await count(store)).toBe('1');
      await gcStore({ store });
      store = await openStore({ root, durable: false });
      await build({ store, context, dockerfileText: df, tags: ['count:1'], noCache: true });
      expect(await count(store)).toBe('2');
      await gcStore({ store, pruneCache: true });
      await build({ store, context, dockerfileText: df, tags: ['count:1'] });
      expect(await count(store)).toBe('1');
    });
  },
);

describe('MountedFs', () => {
  const views = async () => {
    const base = createUnionFS({ layers: [] });
    await base.mkdir('/mnt/inner', { recursive: true });
    await base.writeFile('/mnt/base-only', 'base');
    const a = createUnionFS({ layers: [] });
    await a.mkdir('/root');
    await a.writeFile('/root/a', 'A');
    const b = createUnionFS({ layers: [] });
    await b.mkdir('/r');
    await b.writeFile('/r/b', 'B');
    const routed = new MountedFs(base, [
      { target: '/mnt', fs: a, root: '/root', readOnly: false },
      { target: '/mnt/inner', fs: b, root: '/r', readOnly: true },
    ]);
    return { base, a, b, routed };
  };

  it('routes each path to the innermost mount and translates it', async () => {
    const { routed, a } = await views();
    expect(await routed.readdir('/mnt')).toEqual(['a']);
    expect(await routed.readFile('/mnt/inner/b', 'utf8')).toBe('B');
    await routed.writeFile('/mnt/new', 'N');
    expect(await a.readFile('/root/new', 'utf8')).toBe('N');
    expect(await routed.realpath('/mnt/inner/b')).toBe('/mnt/inner/b');
  });

  it('a mount with a size limit refuses data beyond it with ENOSPC, counting what it holds', async () => {
    const base = createUnionFS({ layers: [] });
    const small = createUnionFS({ layers: [] });
    await small.mkdir('/t');
    const routed = new MountedFs(base, [{ target: '/t', fs: small, root: '/t', readOnly: false, sizeLimit: 100 }]);
    await routed.writeFile('/t/a', 'x'.repeat(60));
    await expect(routed.appendFile('/t/a', 'y'.repeat(41))).rejects.toMatchObject({
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
    await routed.writeFile('/t/a', 'z'.repeat(100)); // replacing counts the old bytes as freed
    await expect(routed.writeFile('/t/b', 'w')).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(routed.truncate('/t/a', 101)).rejects.toMatchObject({ code: 'ENOSPC' });
    await routed.truncate('/t/a', 10);
    await routed.writeFile('/t/b', 'w'.repeat(90));
    await routed.writeFile('/elsewhere', 'x'.repeat(1000)); // the base has no limit
  });

  it('refuses writes to a read-only mount with EROFS and moves across mounts with EXDEV', async () => {
    const { routed } = await views();
    await expect(routed.writeFile('/mnt/inner/x', 'x')).rejects.toMatchObject({
      code: 'EROFS',
      syscall: 'open',
      path: '/mnt/inner/x',
    });
    await expect(routed.rm('/mnt/inner/b')).rejects.toMatchObject({ code: 'EROFS' });
    await expect(routed.rename('/mnt/a', '/elsewhere')).rejects.toMatchObject({ code: 'EXDEV' });
    await expect(routed.link('/mnt/a', '/hard')).rejects.toMatchObject({ code: 'EXDEV' });
    // a copy across mounts moves the bytes
    await routed.copyFile('/mnt/inner/b', '/copied');
    expect(await routed.readFile('/copied', 'utf8')).toBe('B');
  });
});
