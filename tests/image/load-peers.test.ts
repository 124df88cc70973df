/**
 * What layerkit exports, the real engines load and run: `podman load` of our docker-archive and
 * oci-archive gives an image with our diffIDs and config, `podman run` of it sees every layer
 * (a whiteout applied, WORKDIR and USER in force), and the docker CLI's `docker load` / `docker
 * run` (talking to `podman system service`, as on this machine there is no Docker daemon) do the
 * same. The other way round, an image podman made (`podman commit` of a container that changed
 * and deleted files) saved by `podman save` in both formats, and by `docker save`, imports into
 * layerkit and flattens to the tree umoci unpacks from `podman push … oci:`. podman runs rootful with vfs storage, no network and runc, with the settings
 * shared/reference/real-tools-on-this-machine.md §(e) found necessary here.
 */
import { beforeAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  build,
  exportImage,
  flattenImage,
  importImage,
  listFlat,
  loadImage,
  openStore,
  type Image,
  type Store,
} from '../../src/index.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { listTree, missingPeer, run, treeFromListing, umociUnpack } from '../helpers/peers.js';
import { hasTool } from '../helpers/tools.js';

const skip =
  missingPeer('podman', 'runc', 'umoci') ??
  (hasBusybox() ? undefined : 'busybox is not installed (Debian package: busybox-static); .ci/run installs it');

const DOCKERFILE = `FROM busybox:test
RUN mkdir -p /app/data && echo layered > /app/data/one.txt && rm /bin/ls
COPY greeting.txt /app/
RUN ln /app/greeting.txt /app/hard && chown -R 1000:1000 /app
WORKDIR /app
USER 1000
ENV GREETING=hello MODE=test
LABEL org.example.kind=smoke
EXPOSE 8080/tcp
CMD ["sh", "-c", "cat greeting.txt data/one.txt; id -u; pwd; echo $GREETING; test ! -e /bin/ls && echo no-ls"]
`;
const EXPECTED_OUTPUT = 'hi from layerkit\nlayered\n1000\n/app\nhello\nno-ls\n';

/** podman with its own storage and settings under `dir`. */
class Podman {
  readonly env: NodeJS.ProcessEnv;
  constructor(readonly dir: string) {
    const { hardNofile, hardNproc } = hardLimits();
    fs.mkdirSync(join(dir, 'tmp'), { recursive: true });
    fs.writeFileSync(
      join(dir, 'storage.conf'),
      `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`,
    );
    fs.writeFileSync(
      join(dir, 'containers.conf'),
      `[containers]\nnetns = "none"\ndefault_ulimits = ["nofile=${hardNofile}:${hardNofile}", "nproc=${hardNproc}:${hardNproc}"]\n` +
        `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\ntmp_dir = "${dir}/tmp"\n`,
    );
    this.env = {
      ...process.env,
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      CONTAINERS_CONF: join(dir, 'containers.conf'),
    };
  }

  run(args: string[], env: NodeJS.ProcessEnv = {}): string {
    return run(args[0]!, args.slice(1), { env: { ...this.env, ...env } });
  }

  /** `podman load -i archive`; returns the name it loaded the image as. */
  load(archive: string): string {
    const out = this.run(['podman', 'load', '-q', '-i', archive]);
    const m = /Loaded image(?:\(s\))?: (\S+)/.exec(out);
    if (!m) throw new Error(`podman load printed no image name: ${out}`);
    return m[1]!;
  }

  /** Starts `podman system service` on a socket under `dir`; returns it and how to stop it. */
  async serve(): Promise<{ socket: string; stop: () => Promise<void> }> {
    const socket = join(this.dir, 'podman.sock');
    const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
      env: this.env,
      stdio: 'ignore',
    });
    for (let i = 0; i < 200 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
    if (!fs.existsSync(socket)) throw new Error('podman system service did not create its socket');
    return {
      socket,
      stop: () =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}

/** podman asks for more open files than root may have here; stay within the hard limits (≤ 1024). */
function hardLimits(): { hardNofile: number; hardNproc: number } {
  const read = (flag: string): number => {
    const v = run('bash', ['-c', `ulimit -H${flag}`]).trim();
    return v === 'unlimited' ? 1024 : Math.min(1024, Number(v));
  };
  return { hardNofile: read('n'), hardNproc: read('u') };
}

interface Inspected {
  Config: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
  };
  RootFS: { Layers: string[] };
}

describe.skipIf(skip !== undefined)(
  `podman and docker load what layerkit exports${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let tmp: string;
    let store: Store;
    let image: Image;
    let podman: Podman;

    test.beforeAll(async ({ fileTmp }) => {
      tmp = fileTmp;
      store = await openStore({ root: join(tmp, 'store'), durable: false });
      await makeBusyboxImage(store);
      const context = join(tmp, 'context');
      fs.mkdirSync(context);
      fs.writeFileSync(join(context, 'Dockerfile'), DOCKERFILE);
      fs.writeFileSync(join(context, 'greeting.txt'), 'hi from layerkit\n');
      await build({ store, context, tags: ['lk/smoke:1'], sourceDateEpoch: 0 });
      image = await loadImage({ store, image: 'lk/smoke:1' });
      podman = new Podman(join(tmp, 'podman'));
    }, 60_000);

    const expectSameImage = (inspected: Inspected): void => {
      const c = image.config.config ?? {};
      expect(inspected.RootFS.Layers).toEqual(image.diffIds);
      expect(inspected.Config.Env).toEqual(c.Env);
      expect(inspected.Config.Cmd).toEqual(c.Cmd);
      expect(inspected.Config.WorkingDir).toBe('/app');
      expect(inspected.Config.User).toBe('1000');
      expect(inspected.Config.Labels).toEqual({ 'org.example.kind': 'smoke' });
      expect(Object.keys(inspected.Config.ExposedPorts ?? {})).toEqual(['8080/tcp']);
    };

    it.each(['docker-archive', 'oci-archive'] as const)(
      'podman loads our %s and runs it with every layer applied',
      async (format) => {
        const archive = join(tmp, `smoke.${format}.tar`);
        await exportImage({ store, image: 'lk/smoke:1', format, output: archive });
        const name = podman.load(archive);
        expect(name).toMatch(/lk\/smoke:1$/);
        const [inspected] = JSON.parse(podman.run(['podman', 'image', 'inspect', name])) as Inspected[];
        expectSameImage(inspected!);
        expect(podman.run(['podman', 'run', '--rm', name])).toBe(EXPECTED_OUTPUT);
        // the hard link survived as one inode of two names
        expect(podman.run(['podman', 'run', '--rm', name, 'sh', '-c', 'stat -c %h /app/hard /app/greeting.txt'])).toBe(
          '2\n2\n',
        );
        podman.run(['podman', 'rmi', '-f', name]);
      },
      60_000,
    );

    describe('archives podman and docker save', () => {
      let reference: ReturnType<typeof listTree>;
      let diffIds: string[];
      const made = 'localhost/podman/made:1';
      beforeAll(async () => {
        const base = join(tmp, 'base.tar');
        await exportImage({ store, image: 'busybox:test', format: 'oci-archive', output: base });
        const name = podman.load(base);
        podman.run([
          'podman',
          'run',
          '--name',
          'changer',
          name,
          'sh',
          '-c',
          'mkdir -p /made/deep && echo podman > /made/deep/f && ln -s deep/f /made/link && rm /bin/ls /etc/group && chmod 0600 /etc/passwd',
        ]);
        podman.run(['podman', 'commit', '-q', 'changer', made]);
        podman.run(['podman', 'rm', 'changer']);
        const layout = join(tmp, 'pushed');
        podman.run(['podman', 'push', '-q', made, `oci:${layout}:made`]);
        reference = listTree(umociUnpack(`${layout}:made`, join(tmp, 'reference')));
        const [inspected] = JSON.parse(podman.run(['podman', 'image', 'inspect', made])) as Inspected[];
        diffIds = inspected!.RootFS.Layers;
      }, 60_000);

      const importAndCompare = async (archive: string): Promise<void> => {
        const target = await openStore({
          root: join(tmp, `store-${Math.random().toString(36).slice(2)}`),
          durable: false,
        });
        const { images } = await importImage({ store: target, source: archive });
        expect(images).toHaveLength(1);
        const imported = images[0]!.image;
        expect(imported.diffIds).toEqual(diffIds);
        const tree = treeFromListing(
          listFlat(await flattenImage({ store: target, image: imported }), { recursive: true }),
        );
        expect(tree).toEqual(reference);
        expect(tree.find((e) => e.path === '/made/deep/f')).toMatchObject({ type: 'file', size: 7 });
        expect(tree.find((e) => e.path === '/bin/ls')).toBeUndefined();
        expect(tree.find((e) => e.path === '/etc/passwd')).toMatchObject({ mode: 0o600 });
      };

      it.each(['oci-archive', 'docker-archive'] as const)(
        "podman save --format %s imports and flattens to umoci's tree",
        async (format) => {
          const archive = join(tmp, `podman-save.${format}.tar`);
          podman.run(['podman', 'save', '-q', '--format', format, '-o', archive, made]);
          await importAndCompare(archive);
        },
        60_000,
      );

      it.skipIf(!hasTool('docker'))(
        "docker save (through podman system service) imports and flattens to umoci's tree",
        async () => {
          const archive = join(tmp, 'docker-save.tar');
          const service = await podman.serve();
          try {
            podman.run(['docker', 'save', '-o', archive, made], { DOCKER_HOST: `unix://${service.socket}` });
          } finally {
            await service.stop();
          }
          await importAndCompare(archive);
        },
        60_000,
      );
    });

    it.skipIf(!hasTool('docker'))(
      'the docker CLI loads our docker-archive and runs it (through podman system service)',
      async () => {
        const archive = join(tmp, 'smoke.docker.tar');
        await exportImage({ store, image: 'lk/smoke:1', format: 'docker-archive', output: archive });
        const service = await podman.serve();
        try {
          const env = { DOCKER_HOST: `unix://${service.socket}` };
          expect(podman.run(['docker', 'load', '-i', archive], env)).toContain('lk/smoke:1');
          const [inspected] = JSON.parse(podman.run(['docker', 'image', 'inspect', 'lk/smoke:1'], env)) as Inspected[];
          expectSameImage(inspected!);
          expect(podman.run(['docker', 'run', '--rm', '--network', 'none', 'lk/smoke:1'], env)).toBe(EXPECTED_OUTPUT);
          podman.run(['docker', 'rmi', '-f', 'lk/smoke:1'], env);
        } finally {
          await service.stop();
        }
      },
      60_000,
    );
  },
);
