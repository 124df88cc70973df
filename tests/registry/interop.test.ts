/**
 * Interoperability through a real registry (distribution 2.8), both ways: what layerkit pushes,
 * skopeo copies byte-exact and umoci unpacks to the tree layerkit flattens, and podman pulls and
 * runs with every layer applied; what skopeo pushes (a three-layer umoci image with whiteouts,
 * links, owners and odd names), layerkit pulls and flattens to the tree umoci unpacks.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import {
  addLayer,
  flattenImage,
  listFlat,
  openStore,
  pullImage,
  pushImage,
  writeImage,
  type Store,
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
} from '../helpers/peers.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';

const skip =
  registryTestbedMissing() ??
  missingPeer('skopeo', 'umoci', 'podman', 'runc') ??
  (hasBusybox() ? undefined : 'busybox is not installed (Debian package: busybox-static); .ci/run installs it');
const env = { HOME: '/nonexistent-home' };

function hardLimit(flag: string): number {
  const v = run('bash', ['-c', `ulimit -H${flag}`]).trim();
  return v === 'unlimited' ? 1024 : Math.min(1024, Number(v));
}

describe.skipIf(skip !== undefined)(`registry interop with skopeo, umoci and podman${skip ? ` (${skip})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  let store: Store;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    tmp = fileTmp;
    store = await openStore({ root: join(tmp, 'store') });
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('layerkit pushes; skopeo copies it byte-exact, umoci unpacks our tree, podman runs it', async () => {
    const base = await makeBusyboxImage(store);
    const top = await addLayer({
      store,
      sourceDateEpoch: 0,
      entries: [
        { header: { path: 'app', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
        {
          header: { path: 'app/msg', type: 'file', mode: 0o644, uid: 1000, gid: 1000, mtime: 0, size: 14 },
          data: Buffer.from('from layerkit\n'),
        },
      ],
    });
    const image = await writeImage({
      store,
      config: {
        ...base.config,
        config: {
          ...base.config.config,
          Cmd: ['sh', '-c', 'cat /app/msg; stat -c %u /app/msg; test -x /bin/busybox && echo base'],
        },
        rootfs: { type: 'layers', diff_ids: [...base.diffIds, top.diffId] },
      },
      layers: [...base.layers, top.descriptor],
      tags: ['interop:1'],
    });
    const ref = `${bed.plain!.host}/interop/app:1`;
    await pushImage({ store, image: 'interop:1', ref, env });

    const layout = join(tmp, 'skopeo-layout');
    skopeoCopy(`docker://${ref}`, `oci:${layout}:t`, ['--src-tls-verify=false']);
    expect(layoutManifestDigest(layout, 't')).toBe(image.descriptor.digest);
    const theirs = listTree(umociUnpack(`${layout}:t`, join(tmp, 'umoci-ours')));
    const ours = treeFromListing(listFlat(await flattenImage({ store, image: 'interop:1' }), { recursive: true }));
    expect(ours).toEqual(theirs);

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
    const podEnv = {
      ...process.env,
      CONTAINERS_STORAGE_CONF: join(pod, 'storage.conf'),
      CONTAINERS_CONF: join(pod, 'containers.conf'),
    };
    run('podman', ['pull', '-q', '--tls-verify=false', ref], { env: podEnv });
    expect(run('podman', ['run', '--rm', ref], { env: podEnv })).toBe('from layerkit\n1000\nbase\n');
    run('podman', ['rmi', '-f', ref], { env: podEnv });
  });

  it('skopeo pushes a umoci image; layerkit pulls it and flattens to the tree umoci unpacks', async () => {
    const peer = makeUmociImage(tmp, 'peer');
    const ref = `${bed.plain!.host}/interop/umoci:1`;
    skopeoCopy(`oci:${peer.ref}`, `docker://${ref}`, ['--dest-tls-verify=false']);
    const target = await openStore({ root: join(tmp, 'pulled') });
    const pulled = await pullImage({ store: target, ref, env });
    expect(pulled.image.descriptor.digest).toBe(layoutManifestDigest(peer.layout, peer.tag));
    expect(pulled.image.layers).toHaveLength(3);
    const reference = listTree(umociUnpack(peer.ref, join(tmp, 'umoci-theirs')));
    const tree = treeFromListing(listFlat(await flattenImage({ store: target, image: ref }), { recursive: true }));
    expect(tree).toEqual(reference);
    expect(tree.find((e) => e.path === '/etc/delete-me')).toBeUndefined();
  });
});
