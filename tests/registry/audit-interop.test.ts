/**
 * Interoperability, the way in: what skopeo and podman push to a real registry (distribution
 * 2.8), layerkit pulls (the digest the peer reports), flattens to the tree umoci unpacks, and
 * builds FROM (pulled by the build itself, a COPY and a RUN on top). podman pushes with
 * `--format v2s2`, so Docker's schema-2 media types come in too; skopeo pushes OCI.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import {
  addLayer,
  build,
  createVirtualShell,
  flattenImage,
  listFlat,
  openStore,
  pullImage,
  pushImage,
  readFlatFile,
  writeImage,
} from '../../src/index.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import {
  layoutManifestDigest,
  listTree,
  makeUmociImage,
  missingPeer,
  run,
  skopeoCopy,
  treeFromListing,
  umociUnpack,
  type PeerImage,
} from '../helpers/peers.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';

const skip = registryTestbedMissing() ?? missingPeer('skopeo', 'umoci', 'podman');
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH };

describe.skipIf(skip !== undefined)(`peers push, layerkit pulls and builds FROM${skip ? ` (${skip})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  let peer: PeerImage;
  let reference: ReturnType<typeof listTree>;
  let podEnv: NodeJS.ProcessEnv;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    tmp = fileTmp;
    peer = makeUmociImage(tmp, 'peer');
    reference = listTree(umociUnpack(peer.ref, join(tmp, 'umoci-reference')));
    const pod = join(tmp, 'podman');
    fs.mkdirSync(join(pod, 'tmp'), { recursive: true });
    fs.writeFileSync(
      join(pod, 'storage.conf'),
      `[storage]\ndriver = "vfs"\ngraphroot = "${pod}/root"\nrunroot = "${pod}/run"\n`,
    );
    fs.writeFileSync(
      join(pod, 'containers.conf'),
      `[containers]\nnetns = "none"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\ntmp_dir = "${pod}/tmp"\n`,
    );
    podEnv = {
      ...process.env,
      CONTAINERS_STORAGE_CONF: join(pod, 'storage.conf'),
      CONTAINERS_CONF: join(pod, 'containers.conf'),
    };
  });
  afterAll(async () => {
    if (podEnv) {
      try {
        run('podman', ['rmi', '-a', '-f'], { env: podEnv });
      } catch {
        // nothing to remove
      }
    }
    await bed?.stop();
  });

  /** Pushes the umoci image with one peer; resolves the reference and the digest the peer reports. */
  function pushWith(who: 'skopeo' | 'podman'): { ref: string; digest: string } {
    const ref = `${bed.plain!.host}/audit/${who}:1`;
    if (who === 'skopeo') {
      skopeoCopy(`oci:${peer.ref}`, `docker://${ref}`, ['--dest-tls-verify=false']);
      return { ref, digest: layoutManifestDigest(peer.layout, peer.tag) };
    }
    // into podman's own storage (skopeo reads the same storage.conf), then podman pushes it
    const local = 'localhost/audit/peer:1';
    run('skopeo', ['copy', '--quiet', `oci:${peer.ref}`, `containers-storage:${local}`], { env: podEnv });
    const digestFile = join(tmp, 'podman.digest');
    run(
      'podman',
      ['push', '-q', '--tls-verify=false', '--format', 'v2s2', '--digestfile', digestFile, local, `docker://${ref}`],
      { env: podEnv },
    );
    return { ref, digest: fs.readFileSync(digestFile, 'utf8').trim() };
  }

  it.for(['skopeo', 'podman'] as const)(
    'what %s pushes, layerkit pulls with the same digest, flattens to umoci’s tree, and builds FROM',
    async (who) => {
      const { ref, digest } = pushWith(who);
      const store = await openStore({ root: join(tmp, `store-${who}`) });
      const pulled = await pullImage({ store, ref, env });
      expect(pulled.image.descriptor.digest).toBe(digest);
      expect(pulled.image.layers).toHaveLength(3);
      if (who === 'podman') {
        expect(pulled.image.descriptor.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
        expect(pulled.image.layers[0]!.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
      }
      const tree = treeFromListing(listFlat(await flattenImage({ store, image: ref }), { recursive: true }));
      expect(tree).toEqual(reference);

      // A build in another store pulls the base itself (FROM of an image the store lacks).
      const ctx = join(tmp, `ctx-${who}`);
      fs.mkdirSync(ctx, { recursive: true });
      fs.writeFileSync(join(ctx, 'app.txt'), `built on ${who}'s image\n`);
      const other = await openStore({ memory: true });
      const built = await build({
        store: other,
        context: ctx,
        dockerfileText: `FROM ${ref}\nCOPY app.txt /app.txt\nRUN cat /etc/three /app.txt > /combined\n`,
        executor: createVirtualShell(),
        registry: { env },
      });
      const flat = await flattenImage({ store: other, image: built.image });
      expect(readFlatFile(flat, '/combined').toString()).toBe(`layer three\nbuilt on ${who}'s image\n`);
      expect(readFlatFile(flat, '/etc/passwd').toString()).toBe('root:x:0:0:root:/root:/bin/ash\n');
      expect(listFlat(flat, { path: '/etc' }).map((e) => e.path)).not.toContain('/etc/delete-me');
      expect(built.image.layers.slice(0, 3).map((l) => l.digest)).toEqual(pulled.image.layers.map((l) => l.digest));
    },
  );

  it.skipIf(!hasBusybox() || missingPeer('runc') !== undefined)(
    'what layerkit pushes, podman runs with every layer applied: a whiteout, an opaque folder, a changed mode',
    async () => {
      const store = await openStore({ root: join(tmp, 'store-run') });
      const base = await makeBusyboxImage(store);
      const meta = { uid: 0, gid: 0, mtime: 0 };
      const dir = (path: string) => ({ header: { path, type: 'directory' as const, mode: 0o755, ...meta } });
      const file = (path: string, text: string, mode = 0o644) => ({
        header: { path, type: 'file' as const, mode, ...meta, size: Buffer.byteLength(text) },
        data: Buffer.from(text),
      });
      const one = await addLayer({
        store,
        sourceDateEpoch: 0,
        entries: [
          dir('app'),
          dir('app/cache'),
          file('app/cache/old', 'old\n'),
          file('app/gone', 'gone\n'),
          file('app/kept', 'kept\n'),
          file('app/tool', 'x\n'),
        ],
      });
      const two = await addLayer({
        store,
        sourceDateEpoch: 0,
        entries: [
          dir('app'),
          file('app/.wh.gone', ''),
          dir('app/cache'),
          file('app/cache/.wh..wh..opq', ''),
          file('app/cache/new', 'new\n'),
          file('app/tool', 'x\n', 0o755),
        ],
      });
      await writeImage({
        store,
        config: {
          ...base.config,
          config: { ...base.config.config, Cmd: ['sh', '-c', 'ls /app /app/cache; stat -c %a /app/tool'] },
          rootfs: { type: 'layers', diff_ids: [...base.diffIds, one.diffId, two.diffId] },
        },
        layers: [...base.layers, one.descriptor, two.descriptor],
        tags: ['applied:1'],
      });
      const ref = `${bed.plain!.host}/audit/applied:1`;
      await pushImage({ store, image: 'applied:1', ref, env });
      // and layerkit's own flatten agrees with what podman shows below
      const flat = await flattenImage({ store, image: 'applied:1' });
      expect(listFlat(flat, { path: '/app' }).map((e) => e.path)).toEqual(['/app/cache', '/app/kept', '/app/tool']);
      run('podman', ['pull', '-q', '--tls-verify=false', ref], { env: podEnv });
      const n = Math.min(1024, Number(run('bash', ['-c', 'ulimit -Hn']).trim()) || 1024);
      const u = Math.min(1024, Number(run('bash', ['-c', 'ulimit -Hu']).trim()) || 1024);
      const out = run(
        'podman',
        ['run', '--rm', '--runtime', 'runc', '--ulimit', `nofile=${n}:${n}`, '--ulimit', `nproc=${u}:${u}`, ref],
        { env: podEnv },
      );
      // layer two hid /app/gone, emptied /app/cache but for "new", and made /app/tool executable
      expect(out).toBe('/app:\ncache\nkept\ntool\n\n/app/cache:\nnew\n755\n');
    },
  );
});
