/**
 * Real peer tools for interop tests: small functions that make images with umoci, convert them
 * with skopeo, build one with buildah, unpack with umoci, and compare trees as normalised
 * listings (path, type, mode, uid, gid, size, sha256, link target; never mtimes).
 *
 * Every function runs its tool synchronously and throws with the tool's stderr when it fails.
 * Callers check `hasTool()` first and skip with `missingToolMessage()`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { hasTool, missingToolMessage } from './tools.js';

/** Runs a tool and returns its stdout; a failure throws with the command line and stderr. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      ...options,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/**
 * {@link run} without blocking this process: for peers that run for seconds while other work (the
 * other cases of a concurrent test table) could go on.
 */
export function runAsync(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(); // as run's 'ignore': nothing to read
  });
}

/** One entry of a normalised tree listing. Hardlinks are listed as the file they share. */
export interface TreeEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  linkTarget?: string;
}

/**
 * Lists a directory tree with lstat (symlinks are never followed): paths are absolute inside
 * the tree (`/etc/passwd`), sorted by code unit; the root itself is not listed.
 */
export function listTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(join(root, rel))) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, relPath);
      const st = fs.lstatSync(full);
      const e: TreeEntry = {
        path: `/${relPath}`,
        type: typeOf(st),
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: st.isFile() ? st.size : 0,
      };
      if (st.isFile()) e.sha256 = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      if (st.isSymbolicLink()) e.linkTarget = fs.readlinkSync(full);
      out.push(e);
      if (st.isDirectory()) walk(relPath);
    }
  };
  walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Groups of paths that share an inode (hardlinks), each sorted, for files with more than one link. */
export function hardlinkGroups(root: string): string[][] {
  const byInode = new Map<string, string[]>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(join(root, rel))) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(join(root, relPath));
      if (st.isDirectory()) walk(relPath);
      else if (st.isFile() && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        byInode.set(key, [...(byInode.get(key) ?? []), `/${relPath}`]);
      }
    }
  };
  walk('');
  return [...byInode.values()].map((g) => g.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

function typeOf(st: fs.Stats): TreeEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/** What `layerkit ls --json` / `listFlat` gives, reduced to a {@link TreeEntry} (hardlinks become files). */
export function treeFromListing(
  listed: ReadonlyArray<{
    path: string;
    type: string;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    sha256?: string;
    linkTarget?: string;
  }>,
): TreeEntry[] {
  return listed
    .map((l) => {
      const type = (l.type === 'hardlink' ? 'file' : l.type) as TreeEntry['type'];
      const e: TreeEntry = {
        path: l.path,
        type,
        mode: l.mode,
        uid: l.uid,
        gid: l.gid,
        size: type === 'file' ? l.size : 0,
      };
      if (type === 'file') e.sha256 = l.sha256 ?? createHash('sha256').digest('hex');
      if (type === 'symlink') e.linkTarget = l.linkTarget ?? '';
      return e;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A long file name (> 100 bytes, so ustar cannot hold the path and PAX is needed). */
export const LONG_NAME = `${'long-name-'.repeat(11)}end`;
/** A name with non-ASCII characters (NFC), a CJK part and a space. */
export const UNICODE_NAME = 'café ünï-日本語';

/** The image {@link makeUmociImage} made. */
export interface PeerImage {
  /** The OCI layout folder. */
  layout: string;
  tag: string;
  /** `layout:tag`, as umoci and skopeo's `oci:` transport take it. */
  ref: string;
}

/**
 * Makes a three-layer image with umoci (as root, so owners are kept):
 *
 * 1. files, dirs, a relative and an absolute symlink, a hardlink, a setuid file, a file and a
 *    dir owned by 1000:1000 (mode 0640), a long path, a unicode name, files to delete later;
 * 2. deletes a file (umoci writes a per-file whiteout), deletes and re-creates a directory with
 *    a new child (per-file whiteouts, no opaque marker), rewrites a file;
 * 3. deletes a whole directory, changes a directory's mode, adds a file.
 */
export function makeUmociImage(dir: string, tag = 'img'): PeerImage {
  const layout = join(dir, 'umoci-layout');
  const bundle = join(dir, 'umoci-bundle');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${tag}`]);
  run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  const r = join(bundle, 'rootfs');
  const write = (p: string, text: string, mode = 0o644) => {
    fs.writeFileSync(join(r, p), text);
    fs.chmodSync(join(r, p), mode);
  };
  for (const d of ['bin', 'etc', 'usr/share/doc/gone/sub', 'data/old', 'home/user', 'opt/deep/er'])
    fs.mkdirSync(join(r, d), { recursive: true });
  write('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  write('bin/tool', '#!/bin/sh\necho tool\n', 0o755);
  fs.linkSync(join(r, 'bin/tool'), join(r, 'bin/tool-hardlink'));
  fs.symlinkSync('tool', join(r, 'bin/sh'));
  fs.symlinkSync('/etc/passwd', join(r, 'etc/passwd-link'));
  write('bin/suid', 'setuid program\n', 0o4755);
  write('bin/sgid-sticky', 'sgid\n', 0o2755);
  write('home/user/file', 'mine\n', 0o640);
  fs.chownSync(join(r, 'home/user/file'), 1000, 1000);
  fs.chownSync(join(r, 'home/user'), 1000, 1000);
  write('etc/delete-me', 'going away\n');
  write('data/old/a', 'a\n');
  write('data/old/b', 'b\n');
  write('usr/share/doc/gone/readme', 'doc\n');
  write('usr/share/doc/gone/sub/deeper', 'deeper\n');
  write(`opt/deep/er/${LONG_NAME}`, 'a long path\n');
  write(`etc/${UNICODE_NAME}`, 'unicode\n');
  write('etc/empty', '');
  fs.chmodSync(join(r, 'opt/deep'), 0o750);
  run('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:${tag}`, bundle]);

  fs.rmSync(join(r, 'etc/delete-me'));
  fs.rmSync(join(r, 'data/old'), { recursive: true });
  fs.mkdirSync(join(r, 'data/old'));
  write('data/old/new', 'new\n');
  write('etc/passwd', 'root:x:0:0:root:/root:/bin/ash\n');
  run('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:${tag}`, bundle]);

  fs.rmSync(join(r, 'usr/share/doc/gone'), { recursive: true });
  fs.chmodSync(join(r, 'data'), 0o700);
  write('etc/three', 'layer three\n');
  run('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:${tag}`, bundle]);
  run('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
  run('umoci', ['gc', '--layout', layout]);
  fs.rmSync(bundle, { recursive: true, force: true });
  return { layout, tag, ref: `${layout}:${tag}` };
}

/** Unpacks `layout:tag` with `umoci unpack` (as root: owners kept) and returns the rootfs path. */
export function umociUnpack(ref: string, bundle: string): string {
  run('umoci', ['unpack', '--image', ref, bundle]);
  return join(bundle, 'rootfs');
}

/** `skopeo copy` with extra flags; `src` and `dest` are transport:reference strings. */
export function skopeoCopy(src: string, dest: string, flags: string[] = []): void {
  run('skopeo', ['copy', '--quiet', ...flags, src, dest]);
}

/** The manifest digest `index.json` of a layout gives for `tag` (or its only entry). */
export function layoutManifestDigest(layout: string, tag?: string): string {
  const index = JSON.parse(fs.readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const found =
    tag === undefined
      ? index.manifests[0]
      : index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!found) throw new Error(`${layout} has no manifest tagged ${tag}`);
  return found.digest;
}

/** `oci-image-tool validate --type image DIR`; returns its output (throws on a validation failure). */
export function ociImageToolValidate(layout: string): string {
  return run('oci-image-tool', ['validate', '--type', 'image', layout]);
}

/**
 * Builds an image with buildah (`--isolation chroot`, overlay driver, private storage under
 * `dir`) from a busybox base made with umoci: one RUN that deletes and re-creates a directory
 * (overlay writes `.wh..wh..opq`), deletes a file and writes files, then a COPY. Pushes it to an
 * OCI layout and returns it. Leaves no mounts behind (the caller removes `dir`).
 */
export function makeBuildahImage(dir: string): PeerImage {
  const base = join(dir, 'busybox-layout');
  const bundle = join(dir, 'busybox-bundle');
  run('umoci', ['init', '--layout', base]);
  run('umoci', ['new', '--image', `${base}:base`]);
  run('umoci', ['unpack', '--image', `${base}:base`, bundle]);
  const r = join(bundle, 'rootfs');
  fs.mkdirSync(join(r, 'bin'));
  fs.copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
  fs.chmodSync(join(r, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'rm', 'mkdir', 'echo', 'chmod']) fs.symlinkSync('busybox', join(r, 'bin', applet));
  fs.mkdirSync(join(r, 'data/old'), { recursive: true });
  fs.writeFileSync(join(r, 'data/old/a'), 'a\n');
  fs.writeFileSync(join(r, 'data/old/b'), 'b\n');
  fs.writeFileSync(join(r, 'data/keep'), 'keep\n');
  fs.writeFileSync(join(r, 'data/drop'), 'drop\n');
  run('umoci', ['repack', '--image', `${base}:base`, bundle]);
  run('umoci', ['config', '--image', `${base}:base`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
  const root = join(dir, 'buildah-root');
  const runroot = join(dir, 'buildah-runroot');
  const storage = ['--root', root, '--runroot', runroot, '--storage-driver', 'overlay'];
  // The tmpdir path may hold upper-case letters, which buildah's FROM oci:... refuses: name the base.
  skopeoCopy(`oci:${base}:base`, `containers-storage:[overlay@${root}+${runroot}]localhost/lk-base:1`);
  const ctx = join(dir, 'buildah-ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(join(ctx, 'copied'), 'copied by COPY\n');
  fs.writeFileSync(
    join(ctx, 'Containerfile'),
    [
      'FROM localhost/lk-base:1',
      'RUN rm -rf /data/old /data/drop && mkdir /data/old && echo new > /data/old/new && echo x > /data/x && chmod 0700 /data/old',
      'COPY copied /etc/copied',
      '',
    ].join('\n'),
  );
  const tmp = join(dir, 'buildah-tmp');
  fs.mkdirSync(tmp);
  const env = { ...process.env, TMPDIR: tmp };
  run(
    'buildah',
    [
      ...storage,
      'build',
      '--pull=never',
      '--isolation',
      'chroot',
      '--timestamp',
      '0',
      '-t',
      'localhost/lk-built:1',
      '-f',
      join(ctx, 'Containerfile'),
      ctx,
    ],
    { env },
  );
  const layout = join(dir, 'buildah-layout');
  run('buildah', [...storage, 'push', 'localhost/lk-built:1', `oci:${layout}:built`], { env });
  return { layout, tag: 'built', ref: `${layout}:built` };
}

/** The skip note for the first of `tools` that is missing, or undefined when all are installed. */
export function missingPeer(...tools: string[]): string | undefined {
  const missing = tools.find((t) => !hasTool(t));
  return missing === undefined ? undefined : missingToolMessage(missing);
}
