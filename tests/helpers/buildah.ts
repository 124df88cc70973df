/**
 * Building the same Dockerfile with layerkit and with buildah, and comparing what comes out.
 *
 * - {@link makeBusyboxLayout}: a base image made at test time with umoci from Debian's
 *   busybox-static: /bin/busybox, a symlink per applet the scripts use, /etc/passwd and
 *   /etc/group with root and `app` (uid/gid 1000), PATH=/bin.
 * - {@link BuildahStore}: a private buildah store (vfs driver, which is reliable here) under a
 *   folder, with the base copied in by skopeo as `containers-storage:[vfs@ROOT+RUNROOT]NAME`
 *   and the Dockerfiles saying `FROM NAME`. (`FROM oci:/abs/layout:tag` works too, but only for
 *   an all-lower-case path: buildah 1.28 names the image after the path and fails with
 *   "repository name must be lowercase" for mkdtemp's mixed-case folders.) Then `build`
 *   (`--isolation chroot --layers --timestamp 0 --pull=never`; the default `oci` isolation
 *   fails here on hybrid cgroups) and `push` to an OCI layout.
 * - {@link unpackedTree}: `umoci unpack` of a layout and its normalised listing (path, type, mode,
 *   owner, size, sha256, link target; never mtimes).
 * - {@link compareTrees} / {@link comparableConfig}: the differences, with buildah's RUN
 *   mount-point noise filtered out.
 *
 * Every function runs its tool synchronously (`buildAsync` excepted) and throws with the tool's
 * stderr on failure.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig, ImageConfig, Manifest } from '../../src/oci/types.js';
import { layoutManifestDigest, listTree, run, runAsync, type TreeEntry } from './peers.js';

/** The busybox applets the fixtures' RUN commands use (each becomes a symlink to busybox). */
export const BUSYBOX_APPLETS = [
  'sh',
  'mkdir',
  'echo',
  'cat',
  'ln',
  'chmod',
  'chown',
  'touch',
  'cp',
  'mv',
  'rm',
  'ls',
  'pwd',
  'true',
  'false',
  'id',
  'test',
  '[',
] as const;

/** /etc/passwd and /etc/group of the busybox base: root and `app` (1000:1000). */
export const BUSYBOX_USERS = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  group: 'root:x:0:\napp:x:1000:\n',
};

/** An OCI layout holding one image. */
export interface LayoutImage {
  layout: string;
  tag: string;
}

/**
 * Makes the busybox base with umoci: one layer (bin/, bin/busybox, applet symlinks, etc/passwd,
 * etc/group, home/app owned by 1000), config Env PATH=/bin and Cmd /bin/sh.
 */
export function makeBusyboxLayout(dir: string, tag = 'test'): LayoutImage {
  const layout = join(dir, 'busybox-layout');
  const bundle = join(dir, 'busybox-bundle');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${tag}`]);
  run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  const r = join(bundle, 'rootfs');
  fs.mkdirSync(join(r, 'bin'), { mode: 0o755 });
  fs.mkdirSync(join(r, 'etc'), { mode: 0o755 });
  fs.mkdirSync(join(r, 'home/app'), { recursive: true, mode: 0o755 });
  fs.chownSync(join(r, 'home/app'), 1000, 1000);
  fs.copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
  fs.chmodSync(join(r, 'bin/busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) fs.symlinkSync('busybox', join(r, 'bin', applet));
  fs.writeFileSync(join(r, 'etc/passwd'), BUSYBOX_USERS.passwd, { mode: 0o644 });
  fs.writeFileSync(join(r, 'etc/group'), BUSYBOX_USERS.group, { mode: 0o644 });
  fs.writeFileSync(join(r, 'etc/motd'), 'welcome\n', { mode: 0o644 });
  run('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
  run('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
  run('umoci', ['gc', '--layout', layout]);
  fs.rmSync(bundle, { recursive: true, force: true });
  return { layout, tag };
}

/** What {@link BuildahStore.build} builds, and how. */
export interface BuildahBuildOptions {
  context: string;
  dockerfile: string;
  tag: string;
  buildArgs?: Record<string, string> | undefined;
  secretFiles?: Record<string, string> | undefined;
  /** More `buildah build` flags (`--build-context NAME=DIR`...). */
  extraArgs?: string[] | undefined;
  /** buildah's `--isolation` (default `chroot`; `oci` runs each RUN in runc, with seccomp). */
  isolation?: 'oci' | 'chroot' | undefined;
}

/** A private buildah store (vfs) under one folder. */
export class BuildahStore {
  readonly root: string;
  readonly runroot: string;
  readonly #tmp: string;

  constructor(dir: string) {
    this.root = join(dir, 'buildah-root');
    this.runroot = join(dir, 'buildah-runroot');
    this.#tmp = join(dir, 'buildah-tmp');
    fs.mkdirSync(this.#tmp, { recursive: true });
  }

  /** The global flags naming this store. */
  get flags(): string[] {
    return ['--root', this.root, '--runroot', this.runroot, '--storage-driver', 'vfs'];
  }

  get #env(): NodeJS.ProcessEnv {
    return { ...process.env, TMPDIR: this.#tmp };
  }

  /** Copies an image from an OCI layout into the store under `name` (`localhost/busybox:test`). */
  importLayout(image: LayoutImage, name: string): void {
    run(
      'skopeo',
      [
        'copy',
        '--quiet',
        `oci:${image.layout}:${image.tag}`,
        `containers-storage:[vfs@${this.root}+${this.runroot}]${name}`,
      ],
      { env: this.#env },
    );
  }

  /** `buildah build` of `dockerfile` in `context`, one layer per step, every timestamp 0. */
  build(options: BuildahBuildOptions): void {
    run('buildah', this.#buildArgs(options), { env: this.#env });
  }

  /** {@link build}, without blocking this process (for cases that run concurrently). */
  async buildAsync(options: BuildahBuildOptions): Promise<void> {
    await runAsync('buildah', this.#buildArgs(options), { env: this.#env });
  }

  #buildArgs(options: BuildahBuildOptions): string[] {
    const args = [
      ...(options.extraArgs ?? []),
      ...Object.entries(options.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      ...Object.entries(options.secretFiles ?? {}).flatMap(([id, file]) => ['--secret', `id=${id},src=${file}`]),
    ];
    return [
      ...this.flags,
      'build',
      '--quiet',
      '--pull=never',
      '--isolation',
      options.isolation ?? 'chroot',
      '--layers',
      '--timestamp',
      '0',
      ...args,
      '-t',
      options.tag,
      '-f',
      options.dockerfile,
      options.context,
    ];
  }

  /** Pushes a built image to an OCI layout as `layout:tag`. */
  push(name: string, target: LayoutImage): void {
    run('buildah', [...this.flags, 'push', '--quiet', name, `oci:${target.layout}:${target.tag}`], { env: this.#env });
  }

  /** Removes every image and container (unmounts what buildah mounted). */
  close(): void {
    try {
      run('buildah', [...this.flags, 'rm', '--all'], { env: this.#env });
      run('buildah', [...this.flags, 'rmi', '--all', '--force'], { env: this.#env });
    } catch {
      // Best effort: the caller removes the folder anyway.
    }
  }
}

/** Unpacks `layout:tag` with umoci (as root: owners kept) into `bundle` and lists its rootfs. */
export function unpackedTree(image: LayoutImage, bundle: string): TreeEntry[] {
  run('umoci', ['unpack', '--image', `${image.layout}:${image.tag}`, bundle]);
  return listTree(join(bundle, 'rootfs'));
}

/** Reads a JSON blob of a layout. */
export function layoutBlobJson<T>(layout: string, digest: string): T {
  return JSON.parse(fs.readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as T;
}

/**
 * Names the only manifest of a layout `tag` (the `org.opencontainers.image.ref.name` umoci and
 * skopeo look up): layerkit's export writes a normalised reference (`built:latest`) there.
 */
export function nameLayoutManifest(layout: string, tag: string): LayoutImage {
  const path = join(layout, 'index.json');
  const index = JSON.parse(fs.readFileSync(path, 'utf8')) as {
    manifests: Array<{ annotations?: Record<string, string> }>;
  };
  if (index.manifests.length !== 1) throw new Error(`${layout} holds ${index.manifests.length} manifests, not 1`);
  index.manifests[0]!.annotations = { ...index.manifests[0]!.annotations, 'org.opencontainers.image.ref.name': tag };
  fs.writeFileSync(path, JSON.stringify(index));
  return { layout, tag };
}

/** The image config of `layout:tag`. */
export function layoutConfig(image: LayoutImage): ImageConfig {
  const manifest = layoutBlobJson<Manifest>(image.layout, layoutManifestDigest(image.layout, image.tag));
  return layoutBlobJson<ImageConfig>(image.layout, manifest.config.digest);
}

/**
 * What buildah's RUN leaves in a layer that a build without mounts does not: the mount points
 * /dev, /proc, /sys, /run and empty /etc/hostname, /etc/hosts, /etc/resolv.conf.
 */
export const BUILDAH_RUN_NOISE = ['/dev', '/proc', '/sys', '/run', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];

/** One difference between two trees. */
export interface TreeDifference {
  path: string;
  /** `only-left`, `only-right`, or the name of the first field that differs. */
  kind: string;
  left?: TreeEntry;
  right?: TreeEntry;
}

/** Options for {@link compareTrees}. */
export interface CompareTreesOptions {
  /** Paths (and everything below them) left out of the comparison on both sides. */
  ignore?: readonly string[];
  /** Fields left out of the comparison for some paths (`{ '/app': ['uid', 'gid'] }`). */
  ignoreFields?: Readonly<Record<string, ReadonlyArray<keyof TreeEntry>>>;
}

/** Compares two listings entry by entry (path, type, mode, owner, size, content hash, link target). */
export function compareTrees(
  left: readonly TreeEntry[],
  right: readonly TreeEntry[],
  options: CompareTreesOptions = {},
): TreeDifference[] {
  const ignored = (p: string) => (options.ignore ?? []).some((x) => p === x || p.startsWith(`${x}/`));
  const l = new Map(left.filter((e) => !ignored(e.path)).map((e) => [e.path, e]));
  const r = new Map(right.filter((e) => !ignored(e.path)).map((e) => [e.path, e]));
  const out: TreeDifference[] = [];
  for (const path of [...new Set([...l.keys(), ...r.keys()])].sort()) {
    const a = l.get(path);
    const b = r.get(path);
    if (!a) out.push({ path, kind: 'only-right', right: b! });
    else if (!b) out.push({ path, kind: 'only-left', left: a });
    else {
      const skip = options.ignoreFields?.[path] ?? [];
      const field = (['type', 'mode', 'uid', 'gid', 'size', 'sha256', 'linkTarget'] as const).find(
        (f) => !skip.includes(f) && a[f] !== b[f],
      );
      if (field) out.push({ path, kind: field, left: a, right: b });
    }
  }
  return out;
}

/** The config fields both builders must agree on; empty values normalised away, buildah's own label dropped. */
export function comparableConfig(config: ImageConfig): Partial<ContainerConfig> {
  const c = config.config ?? {};
  const labels = { ...(c.Labels ?? {}) };
  delete labels['io.buildah.version'];
  const out: Partial<ContainerConfig> = {};
  const set = <K extends keyof ContainerConfig>(k: K, v: ContainerConfig[K] | undefined, empty: boolean) => {
    if (v !== undefined && v !== null && !empty) out[k] = v;
  };
  set('Env', c.Env, (c.Env ?? []).length === 0);
  set('Cmd', c.Cmd, (c.Cmd ?? []).length === 0);
  set('Entrypoint', c.Entrypoint, (c.Entrypoint ?? []).length === 0);
  set('WorkingDir', c.WorkingDir, !c.WorkingDir);
  set('User', c.User, !c.User);
  set('ExposedPorts', c.ExposedPorts, Object.keys(c.ExposedPorts ?? {}).length === 0);
  set('Labels', labels, Object.keys(labels).length === 0);
  set('Volumes', c.Volumes, Object.keys(c.Volumes ?? {}).length === 0);
  set('StopSignal', c.StopSignal, !c.StopSignal);
  return out;
}
