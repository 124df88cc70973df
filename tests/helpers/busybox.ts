/**
 * A busybox base image made at test time from Debian's busybox-static (/bin/busybox): the
 * binary, symlinks for the applets tests use, /etc/passwd and /etc/group with root and a user
 * 1000 ("app"), and /tmp. Written with layerkit's own addLayer + writeImage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { addLayer, writeImage, type Image, type Store } from '../../src/index.js';
import type { LayerEntryInput } from '../../src/low-level.js';

/** The applets linked in /bin. */
export const BUSYBOX_APPLETS = [
  'sh',
  'echo',
  'cat',
  'mkdir',
  'rm',
  'rmdir',
  'cp',
  'mv',
  'ln',
  'touch',
  'chmod',
  'chown',
  'ls',
  'pwd',
  'true',
  'false',
  'tee',
  'head',
  'tail',
  'wc',
  'sort',
  'env',
  'id',
  'sleep',
  'printf',
  'test',
  '[',
  'grep',
  'sed',
  'tr',
  'cut',
  'find',
  'basename',
  'dirname',
  'seq',
  'uname',
];

/** True when Debian's busybox-static binary is present. */
export function hasBusybox(): boolean {
  return existsSync('/bin/busybox');
}

/** Writes the busybox base image into the store and tags it. */
export async function makeBusyboxImage(store: Store, tag = 'busybox:test'): Promise<Image> {
  const bin = readFileSync('/bin/busybox');
  const dir = (path: string, mode = 0o755): LayerEntryInput => ({
    header: { path, type: 'directory', mode, uid: 0, gid: 0, mtime: 0 },
  });
  const file = (path: string, data: Buffer | string, mode = 0o644): LayerEntryInput => {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
    return { header: { path, type: 'file', mode, uid: 0, gid: 0, mtime: 0, size: b.length }, data: b };
  };
  const entries: LayerEntryInput[] = [
    dir('bin'),
    file('bin/busybox', bin, 0o755),
    ...BUSYBOX_APPLETS.map(
      (a): LayerEntryInput => ({
        header: { path: `bin/${a}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkTarget: 'busybox' },
      }),
    ),
    dir('etc'),
    file('etc/group', 'root:x:0:\napp:x:1000:\n'),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n'),
    dir('home'),
    dir('root', 0o700),
    dir('tmp', 0o1777),
  ].sort((a, b) => (a.header.path < b.header.path ? -1 : 1));
  const { compareTarPaths } = await import('../../src/low-level.js');
  entries.sort((a, b) => compareTarPaths(a.header.path, b.header.path));
  const layer = await addLayer({ store, entries, sourceDateEpoch: 0 });
  return writeImage({
    store,
    config: {
      architecture: 'amd64',
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
