/**
 * What every RUN sees of the network, as BuildKit gives it: `/etc/hosts` and `/etc/resolv.conf`
 * mounted read-only (never in a layer, even when the command tries to change them), the host
 * name `buildkitsandbox`, and a network by default: slirp4netns's NAT (the host's loopback out of
 * reach), or the host's namespace; `none` per build or per step leaves loopback only. The network
 * mode is in the cache key.
 */
import * as http from 'node:http';
import { networkInterfaces } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { build, flattenImage, linuxExecutor, readFlatFile, type Executor } from '../../src/index.js';
import { hasSlirp4netns, linuxExecutorUnavailable } from '../../src/builder/executors/linux.js';
import { functionExecutor } from '../../src/builder/executors/function.js';
import { SANDBOX_HOSTNAME, sandboxHosts, sandboxResolvConf } from '../../src/builder/sandbox-files.js';
import { createVirtualShell } from '../../src/shell/executor.js';
import { readTarEntries } from '../../src/tar/index.js';
import type { Store } from '../../src/store/store.js';
import type { Digest } from '../../src/digest/digest.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { makeTar } from './helpers.js';

const files = (table: Record<string, string>) => (path: string) => table[path];

describe('sandboxResolvConf follows BuildKit', () => {
  const GOOGLE =
    'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n';
  it.each([
    {
      what: 'loopback servers are dropped, the others kept; search: the last wins; options accumulate; other lines kept',
      host: '# c\nnameserver 127.0.0.1\nnameserver 10.1.2.3\n; x\ndomain a.example\nsearch b.example c.example\noptions ndots:2\noptions edns0\nsortlist 10.0.0.0\nnameserver ::1\nnameserver fd00::1\n',
      network: 'default' as const,
      want: 'nameserver 10.1.2.3\nnameserver fd00::1\nsearch b.example c.example\noptions ndots:2 edns0\nsortlist 10.0.0.0\n',
    },
    {
      what: 'with the host network the file is kept (loopback servers are reachable)',
      host: 'nameserver 127.0.0.1\nnameserver 10.1.2.3\n',
      network: 'host' as const,
      want: 'nameserver 127.0.0.1\nnameserver 10.1.2.3\n',
    },
    {
      what: 'only loopback servers: Google public DNS',
      host: 'nameserver 127.0.0.1\nsearch lan\n',
      network: 'none' as const,
      want: `${GOOGLE}search lan\n`,
    },
    { what: 'no file: Google public DNS', host: undefined, network: 'default' as const, want: GOOGLE },
    {
      what: 'no server even for host: Google public DNS',
      host: 'search x\n',
      network: 'host' as const,
      want: `${GOOGLE}search x\n`,
    },
    {
      what: "systemd-resolved's stub alone: the resolver's own file",
      host: 'nameserver 127.0.0.53\noptions edns0 trust-ad\n',
      systemd: 'nameserver 192.0.2.1\nsearch corp\n',
      network: 'default' as const,
      want: 'nameserver 192.0.2.1\nsearch corp\n',
    },
    {
      what: "systemd-resolved's stub with the host network: the stub",
      host: 'nameserver 127.0.0.53\n',
      systemd: 'nameserver 192.0.2.1\n',
      network: 'host' as const,
      want: 'nameserver 127.0.0.53\n',
    },
    {
      what: 'an invalid server is dropped',
      host: 'nameserver nope\nnameserver 1.1.1.1\n',
      network: 'default' as const,
      want: 'nameserver 1.1.1.1\n',
    },
  ])('$what', ({ host, systemd, network, want }) => {
    const table: Record<string, string> = {};
    if (host !== undefined) table['/etc/resolv.conf'] = host;
    if (systemd !== undefined) table['/run/systemd/resolve/resolv.conf'] = systemd;
    expect(sandboxResolvConf({ network, readHostFile: files(table) })).toBe(want);
  });

  it('hosts maps localhost and the sandbox name', () => {
    expect(sandboxHosts()).toBe('127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  });
});

const linuxSkip = !hasBusybox()
  ? 'busybox-static is not installed (Debian package busybox-static)'
  : linuxExecutorUnavailable();

/** The paths of the layer a step wrote. */
async function layerPaths(store: Store, digest: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTarEntries([gunzipSync(await store.blobs.read(digest as Digest))])) out.push(e.header.path);
  return out;
}

/** A function executor that copies what it sees of the two files, and tries to change them. */
const copying = functionExecutor(async ({ fs, hostname }) => {
  await fs.writeFile('/out-hosts', await fs.readFile('/etc/hosts'));
  await fs.writeFile('/out-resolv', await fs.readFile('/etc/resolv.conf'));
  await fs.writeFile('/out-hostname', `${hostname ?? ''}\n`);
  const refused = await fs.appendFile('/etc/hosts', 'x').then(
    () => 'written',
    (e: NodeJS.ErrnoException) => e.code ?? 'error',
  );
  await fs.writeFile('/out-write', `${refused}\n`);
  return { exitCode: 0 };
}, 'copying');

const EXECUTORS: Array<{ name: string; make: () => Executor; skip: string | undefined; write: string }> = [
  {
    name: 'virtual shell',
    make: () => createVirtualShell(),
    skip: hasBusybox() ? undefined : 'no busybox',
    write: 'refused',
  },
  { name: 'linux executor', make: () => linuxExecutor(), skip: linuxSkip, write: 'refused' },
  { name: 'function executor', make: () => copying, skip: hasBusybox() ? undefined : 'no busybox', write: 'EROFS' },
];

describe.each(EXECUTORS)(
  'RUN sees /etc/hosts, /etc/resolv.conf and its host name, with the $name',
  ({ make, skip, write }) => {
    it.skipIf(skip !== undefined)(
      `read-only, never in a layer, over the image's own files or none${skip ? ` (skipped: ${skip})` : ''}`,
      async ({ store, tmp }) => {
        await makeBusyboxImage(store);
        const script =
          'cat /etc/hosts > /out-hosts; cat /etc/resolv.conf > /out-resolv; hostname > /out-hostname; (echo x >> /etc/hosts) 2>/dev/null && echo written > /out-write || echo refused > /out-write';
        const run = async (dockerfile: string) => {
          const result = await build({ store, context: tmp, dockerfileText: dockerfile, executor: make() });
          const flat = await flattenImage({ store, image: result.image });
          const read = (p: string) => readFlatFile(flat, p).toString();
          const step = result.steps.filter((s) => s.instruction.startsWith('RUN')).at(-1)!;
          return { read, paths: await layerPaths(store, step.layer!.digest) };
        };
        const resolv = sandboxResolvConf({
          network: 'default',
          readHostFile: (p) => {
            try {
              return readFileSync(p, 'utf8');
            } catch {
              return undefined;
            }
          },
        });
        // The busybox image has no /etc/hosts or /etc/resolv.conf: empty stubs, removed afterwards.
        const bare = await run(`FROM busybox:test\nRUN ${script}\n`);
        expect(bare.read('/out-hosts')).toBe(sandboxHosts());
        expect(bare.read('/out-resolv')).toBe(resolv);
        expect(bare.read('/out-hostname')).toBe(`${SANDBOX_HOSTNAME}\n`);
        expect(bare.read('/out-write')).toBe(`${write}\n`);
        expect(bare.paths.sort()).toEqual(['out-hostname', 'out-hosts', 'out-resolv', 'out-write']);
        // An image with its own files keeps them as they are.
        writeFileSync(join(tmp, 'hosts'), '10.0.0.1 mine\n');
        const own = await run(
          `FROM busybox:test\nCOPY hosts /etc/hosts\nCOPY hosts /etc/resolv.conf\nCOPY hosts /etc/hostname\nRUN ${script}\n`,
        );
        expect(own.read('/out-hosts')).toBe(sandboxHosts());
        // the image's /etc/hostname does not name the sandbox (BuildKit sets the UTS name)
        expect(own.read('/out-hostname')).toBe(`${SANDBOX_HOSTNAME}\n`);
        expect(own.read('/etc/hosts')).toBe('10.0.0.1 mine\n');
        expect(own.read('/etc/resolv.conf')).toBe('10.0.0.1 mine\n');
        expect(own.paths.sort()).toEqual(['out-hostname', 'out-hosts', 'out-resolv', 'out-write']);
        // An image whose /etc/resolv.conf is a dangling symlink (systemd-resolved's stub) builds,
        // and keeps its link as it was.
        writeFileSync(
          join(tmp, 'links.tar'),
          await makeTar([
            { path: 'etc/resolv.conf', type: 'symlink', linkTarget: '/run/systemd/resolve/stub-resolv.conf' },
          ]),
        );
        const dangling = await run(`FROM busybox:test\nADD links.tar /\nRUN ${script}\n`);
        expect(dangling.paths.sort()).toEqual(['out-hostname', 'out-hosts', 'out-resolv', 'out-write']);
        expect(dangling.read('/out-hosts')).toBe(sandboxHosts());
      },
    );
  },
);

describe.skipIf(linuxSkip !== undefined)(
  `RUN's network with the linux executor${linuxSkip ? ` (skipped: ${linuxSkip})` : ''}`,
  () => {
    let server: http.Server;
    let loopbackServer: http.Server;
    let hostIp: string | undefined;
    // one context, so the cache explains a miss against the build before
    let context: string;
    it.beforeAll(async ({ fileTmp }) => {
      context = fileTmp;
      hostIp = Object.values(networkInterfaces())
        .flat()
        .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
      const serve = (host: string) =>
        new Promise<http.Server>((resolve) => {
          const s = http.createServer((_req, res) => res.end(`hello from ${host}\n`));
          s.listen(0, host, () => resolve(s));
        });
      loopbackServer = await serve('127.0.0.1');
      if (hostIp !== undefined) server = await serve(hostIp);
    });
    afterAll(() => {
      loopbackServer?.close();
      server?.close();
    });
    const port = (s: http.Server) => (s.address() as AddressInfo).port;

    const probe = async (
      store: Store,
      options: { executor: Executor; network?: 'none' | 'default'; flag?: string; url: string },
    ) => {
      {
        const result = await build({
          store,
          context,
          executor: options.executor,
          ...(options.network ? { network: options.network } : {}),
          dockerfileText: `FROM busybox:test\nRUN mkdir -p /proc /dev\nRUN ${options.flag ?? ''} wc -l < /proc/net/dev > /devs; busybox ip link show lo | grep -c UP > /lo-up; busybox timeout 10 busybox wget -q -O /got ${options.url} 2>/dev/null || echo unreachable > /got\n`,
        });
        const flat = await flattenImage({ store, image: result.image });
        const read = (p: string) => readFlatFile(flat, p).toString().trim();
        return { devs: Number(read('/devs')), loUp: read('/lo-up'), got: read('/got'), steps: result.steps };
      }
    };

    it.skipIf(!hasSlirp4netns())(
      `by default a NAT through slirp4netns: the host's addresses are reachable, its loopback is not${hasSlirp4netns() ? '' : ' (skipped: slirp4netns is not installed; Debian package slirp4netns)'}`,
      async ({ store }) => {
        expect(hostIp).toBeDefined();
        await makeBusyboxImage(store);
        const outside = await probe(store, { executor: linuxExecutor(), url: `http://${hostIp}:${port(server)}/` });
        expect(outside).toMatchObject({ devs: 4, loUp: '1', got: `hello from ${hostIp}` });
        // 10.0.2.2 is the host's loopback in slirp4netns's network, and it is disabled
        const loopback = await probe(store, {
          executor: linuxExecutor(),
          url: `http://10.0.2.2:${port(loopbackServer)}/`,
        });
        expect(loopback.got).toBe('unreachable');
      },
    );

    it("by default the host's namespace where slirp4netns is not used, as buildah's chroot isolation", async ({
      store,
    }) => {
      await makeBusyboxImage(store);
      const got = await probe(store, {
        executor: linuxExecutor({ defaultNetwork: 'host' }),
        url: `http://127.0.0.1:${port(loopbackServer)}/`,
      });
      expect(got.got).toBe('hello from 127.0.0.1');
      expect(got.devs).toBe(readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length);
    });

    it('none per build or per step: loopback only, up; the network mode is in the cache key', async ({ store }) => {
      await makeBusyboxImage(store);
      const url = `http://127.0.0.1:${port(loopbackServer)}/`;
      const executor = linuxExecutor({ defaultNetwork: 'host' });
      const perBuild = await probe(store, { executor, network: 'none', url });
      expect(perBuild).toMatchObject({ devs: 3, loUp: '1', got: 'unreachable' });
      const perStep = await probe(store, { executor, flag: '--network=none', url });
      expect(perStep).toMatchObject({ devs: 3, loUp: '1', got: 'unreachable' });
      // the same RUN with the default network misses the cache, and says why
      const open = await probe(store, { executor, url });
      const run = open.steps.filter((s) => s.instruction.startsWith('RUN')).at(-1)!;
      expect(run.status).toBe('built');
      expect(run.explanation?.map((r) => r.kind)).toContain('network');
      // RUN --network=default takes the build's mode
      const again = await probe(store, { executor, network: 'none', flag: '--network=default', url });
      expect(again).toMatchObject({ devs: 3, got: 'unreachable' });
    });
  },
);
