// A small image that can really run, for the container lessons: Debian's static busybox
// (/bin/busybox, package busybox-static) with every applet linked in /bin, an /etc/passwd and
// /etc/group, and /tmp. Made here with layerkit's own addLayer + writeImage: nothing is shipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { compareTarPaths } from 'layerkit/low-level';
import { layerkit } from './_lib.mjs';

/**
 * Why the container lessons cannot run here (one line naming what is missing), or undefined:
 * they need runc and root (layerkit's runtime says which), and busybox-static for the image.
 */
export function containersUnavailable() {
  const why = layerkit.runtimeUnavailable();
  if (why) return why;
  if (!existsSync('/bin/busybox')) return 'busybox is not installed (Debian package: busybox-static)';
  return undefined;
}

/** Writes the busybox image into the store under `tag`. */
export async function makeBusyboxImage(store, tag) {
  const bin = readFileSync('/bin/busybox');
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  const header = (path, type, mode, extra = {}) => ({ path, type, mode, uid: 0, gid: 0, mtime: 0, ...extra });
  const dir = (path, mode = 0o755) => ({ header: header(path, 'directory', mode) });
  const file = (path, data, mode = 0o644) => {
    const b = Buffer.from(data);
    return { header: header(path, 'file', mode, { size: b.length }), data: b };
  };
  const entries = [
    dir('bin'),
    file('bin/busybox', bin, 0o755),
    ...applets.map((a) => ({ header: header(`bin/${a}`, 'symlink', 0o777, { linkTarget: 'busybox' }) })),
    dir('etc'),
    file('etc/group', 'root:x:0:\napp:x:1000:\n'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n'),
    dir('home'),
    dir('root', 0o700),
    dir('tmp', 0o1777),
  ].sort((a, b) => compareTarPaths(a.header.path, b.header.path));
  const layer = await layerkit.addLayer({ store, entries, sourceDateEpoch: 0 });
  return layerkit.writeImage({
    store,
    config: {
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'busybox-static from Debian' }],
    },
    layers: [layer.descriptor],
    tags: [tag],
  });
}
