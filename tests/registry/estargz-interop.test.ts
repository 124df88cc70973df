/**
 * eStargz as peers see it, through a real registry (distribution 2.8): `layerkit build
 * --compression estargz` and `layerkit push --compression estargz` (whole CLI processes) send
 * layers that carry the TOC annotations, that skopeo copies byte-exact, and that podman pulls and
 * runs with every file in place — it is still plain tar+gzip to them.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { addLayer, openStore, writeImage, type Store } from '../../src/index.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { layoutManifestDigest, missingPeer, run, skopeoCopy } from '../helpers/peers.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const skip =
  registryTestbedMissing() ??
  missingPeer('skopeo', 'podman', 'runc') ??
  (hasBusybox() ? undefined : 'busybox is not installed (Debian package: busybox-static); .ci/run installs it');

function hardLimit(flag: string): number {
  const v = run('bash', ['-c', `ulimit -H${flag}`]).trim();
  return v === 'unlimited' ? 1024 : Math.min(1024, Number(v));
}

describe.skipIf(skip !== undefined)(`eStargz through a registry, skopeo and podman${skip ? ` (${skip})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  let store: Store;
  let root: string;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    tmp = fileTmp;
    root = join(tmp, 'store');
    store = await openStore({ root });
  });
  afterAll(async () => {
    await bed?.stop();
  });

  function cli(args: string[]) {
    return spawnCli(['--store', root, ...args], {
      cleanEnv: true,
      env: { PATH: process.env.PATH, HOME: join(tmp, 'home'), SOURCE_DATE_EPOCH: '0' },
      timeoutMs: 120_000,
    });
  }

  function podman() {
    const pod = join(tmp, 'podman');
    fs.mkdirSync(join(pod, 'tmp'), { recursive: true });
    fs.writeFileSync(
      join(pod, 'storage.conf'),
      `[storage]\ndriver = "vfs"\ngraphroot = "${pod}/root"\nrunroot = "${pod}/run"\n`,
    );
    const n = hardLimit('n');
    const u = hardLimit('u');
    fs.writeFileSync(
      join(pod, 'containers.conf'),
      `[containers]\nnetns = "none"\ndefault_ulimits = ["nofile=${n}:${n}", "nproc=${u}:${u}"]\n` +
        `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\ntmp_dir = "${pod}/tmp"\n`,
    );
    return {
      ...process.env,
      CONTAINERS_STORAGE_CONF: join(pod, 'storage.conf'),
      CONTAINERS_CONF: join(pod, 'containers.conf'),
    };
  }

  /** Checks every layer of an OCI layout's image is eStargz as the annotations say, and returns the manifest. */
  function checkLayout(layout: string, tag: string) {
    const digest = layoutManifestDigest(layout, tag);
    const blob = (d: string) => fs.readFileSync(join(layout, 'blobs', ...d.split(':')));
    const manifest = JSON.parse(blob(digest).toString('utf8'));
    for (const layer of manifest.layers) {
      expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
      const bytes = blob(layer.digest);
      const tar = gunzipSync(bytes);
      expect(String(tar.length)).toBe(layer.annotations['io.containers.estargz.uncompressed-size']);
      // The footer's TOC offset: an empty gzip member with the SG extra field.
      const footer = bytes.subarray(bytes.length - 51);
      expect(footer.toString('latin1', 12, 14)).toBe('SG');
      expect(footer.toString('latin1', 32, 38)).toBe('STARGZ');
      expect(layer.annotations['containerd.io/snapshot/stargz/toc.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    return { digest, manifest };
  }

  it('push --compression estargz: skopeo copies it byte-exact, podman pulls and runs it', async () => {
    const base = await makeBusyboxImage(store);
    const big = Buffer.alloc(5 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const top = await addLayer({
      store,
      sourceDateEpoch: 0,
      entries: [
        { header: { path: 'app', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
        { header: { path: 'app/big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: big },
        { header: { path: 'app/empty', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: Buffer.alloc(0) },
        {
          header: { path: 'app/msg', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 0 },
          data: Buffer.from('from layerkit estargz\n'),
        },
      ],
    });
    await writeImage({
      store,
      config: {
        ...base.config,
        config: { ...base.config.config, Cmd: ['sh', '-c', 'cat /app/msg; wc -c < /app/big; stat -c %u /app/msg'] },
        rootfs: { type: 'layers', diff_ids: [...base.diffIds, top.diffId] },
      },
      layers: [...base.layers, top.descriptor],
      tags: ['esgz:1'],
    });
    const ref = `${bed.plain!.host}/esgz/app:1`;
    const pushed = await cli(['push', '--compression', 'estargz', 'esgz:1', ref]);
    expect(pushed.err).not.toMatch(/ERR_|error/i);
    expect(pushed.code).toBe(0);

    const layout = join(tmp, 'skopeo-layout');
    skopeoCopy(`docker://${ref}`, `oci:${layout}:t`, ['--src-tls-verify=false']);
    const { digest } = checkLayout(layout, 't');
    expect(pushed.out).toContain(digest);

    const env = podman();
    run('podman', ['pull', '-q', '--tls-verify=false', ref], { env });
    expect(run('podman', ['run', '--rm', ref], { env })).toBe(`from layerkit estargz\n${5 << 20}\n1000\n`);
    run('podman', ['rmi', '-f', ref], { env });

    const bad = await cli(['push', '--compression', 'zstd', 'esgz:1', ref]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--compression zstd: use estargz or gzip/);
  });

  it('build --compression estargz --push gives an eStargz image podman runs; a rebuild is identical', async () => {
    await makeBusyboxImage(store, 'busybox:test');
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(join(ctx, 'note.txt'), 'built as estargz\n');
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:test\nCOPY note.txt /note.txt\nCMD ["cat", "/note.txt"]\n');
    const ref = `${bed.plain!.host}/esgz/built:1`;
    const args = ['build', '--compression', 'estargz', '--push', '--insecure', '-q', '-t', ref, ctx];
    const first = await cli(args);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const again = await cli(args);
    expect(again.out).toBe(first.out);

    const layout = join(tmp, 'built-layout');
    skopeoCopy(`docker://${ref}`, `oci:${layout}:t`, ['--src-tls-verify=false']);
    const { manifest } = checkLayout(layout, 't');
    expect(manifest.layers).toHaveLength(2);
    const env = podman();
    run('podman', ['pull', '-q', '--tls-verify=false', ref], { env });
    expect(run('podman', ['run', '--rm', ref], { env })).toBe('built as estargz\n');
    run('podman', ['rmi', '-f', ref], { env });
  });
});
