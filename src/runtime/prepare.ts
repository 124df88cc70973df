/**
 * Everything between "run this container" and `runc run`: the writable layer made the kernel's,
 * the image's layers extracted (once), the init layer, the overlay, the files bound at
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, the command looked up (127/126 before runc),
 * and the spec written as the bundle's config.json. Undone (unmounted) when any step fails.
 *
 * The overlay of a container with an empty upper is the spec's first mount: runc mounts it in the
 * container's mount namespace (it goes when the container goes: no mount or umount process here,
 * nothing left on the host by a crash), and the user, the working directory and the command are
 * looked up through the layers as overlayfs merges them. An upper the kernel wrote before, or a
 * layer extracted by an older layerkit (no record of its opaque folders), is mounted on the host
 * first, as containerd's shim does, and read through that mount.
 */
import nodeFs from 'node:fs';
import { hostname as hostHostname, release } from 'node:os';
import { join } from 'node:path';
import { containerImage, getContainer, kernelUpperPaths } from '../container/container-record.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Image } from '../image/image.js';
import type { Store } from '../store/store.js';
import { cgroupMode, cgroupsPathFor, swapAccounting } from './cgroups.js';
import { type LayerStack, lookupCommand, readInRoot, resolveInRoot, type RootfsView } from './rootfs-read.js';
import { ensureSnapshot, mountOverlay, snapshotOpaqueDirs, unmount, writeInitLayer } from './snapshotter.js';
import { generateSpec, type RunSpecOptions, type RuntimeSpec } from './spec.js';
import { runtimePaths, type RuntimePaths } from './state.js';

/** Options for {@link prepareContainer}. */
export interface PrepareOptions {
  store: Store;
  name: string;
  id: string;
  options: RunSpecOptions;
  /** The container's image when the caller has it loaded already (a container just created). */
  image?: Image | undefined;
  signal?: AbortSignal | undefined;
}

function hostFile(path: string, fallback: string): string {
  try {
    return nodeFs.readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Mounts the container's rootfs and writes its bundle; returns the spec and paths. */
export async function prepareContainer({
  store,
  name,
  id,
  options,
  image: loaded,
  signal,
}: PrepareOptions): Promise<{ spec: RuntimeSpec; paths: RuntimePaths }> {
  if (store.memory)
    throw new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, 'containers need a store on disk, not a memory store', {});
  // A container the virtual shell saved gets a kernel upper once; that needs the union view, loaded only then.
  if (getContainer({ store, name }).format !== 'kernel') {
    const { convertToKernelUpper } = await import('../container/containers.js');
    await convertToKernelUpper({ store, name });
  }
  const image = loaded ?? (await containerImage({ store, name }));
  const lowers: string[] = [];
  for (let i = image.layers.length - 1; i >= 0; i--)
    lowers.push(await ensureSnapshot({ store, descriptor: image.layers[i]!, diffId: image.diffIds[i]!, signal }));
  const paths = runtimePaths(store, name);
  const { upper, work } = kernelUpperPaths({ store, name });
  nodeFs.mkdirSync(paths.bundle, { recursive: true });
  nodeFs.mkdirSync(upper, { recursive: true });
  unmount(paths.rootfs);
  nodeFs.rmSync(work, { recursive: true, force: true });
  const mountPoints = (options.mounts ?? []).map((m) => {
    let directory = true;
    try {
      directory = nodeFs.statSync(m.source).isDirectory();
    } catch {
      nodeFs.mkdirSync(m.source, { recursive: true }); // docker run -v makes a missing source folder
    }
    return { path: m.destination, directory };
  });
  writeInitLayer({ dir: paths.init, mountPoints, lowers });
  const inside = namespaceOverlay({ init: paths.init, lowers, upper, work });
  lowers.unshift(paths.init);
  let view: RootfsView = paths.rootfs;
  if (inside) {
    nodeFs.mkdirSync(paths.rootfs, { recursive: true });
    nodeFs.mkdirSync(work, { recursive: true });
    view = inside.view;
  } else mountOverlay({ lowers, upper, work, target: paths.rootfs });
  try {
    const host = options.network === 'host';
    const hostname = options.hostname ?? (host ? hostHostname() : id.slice(0, 12));
    nodeFs.mkdirSync(paths.etc, { recursive: true });
    const etcFiles = {
      hosts: join(paths.etc, 'hosts'),
      hostname: join(paths.etc, 'hostname'),
      resolvConf: join(paths.etc, 'resolv.conf'),
    };
    nodeFs.writeFileSync(
      etcFiles.hosts,
      host
        ? hostFile('/etc/hosts', '127.0.0.1\tlocalhost\n')
        : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`,
    );
    nodeFs.writeFileSync(etcFiles.hostname, `${hostname}\n`);
    nodeFs.writeFileSync(etcFiles.resolvConf, host ? hostFile('/etc/resolv.conf', '') : '');
    const spec = generateSpec(
      image.config,
      { ...options, hostname },
      {
        rootfs: paths.rootfs,
        passwd: readInRoot(view, '/etc/passwd'),
        group: readInRoot(view, '/etc/group'),
        cgroupsPath: cgroupsPathFor(id),
        cgroupV2: cgroupMode() === 'v2',
        swapAccounting: swapAccounting(),
        etcFiles,
        kernel: release(),
      },
    );
    if (inside) spec.mounts.unshift(inside.mount);
    const cwdHost = resolveInRoot(view, spec.process.cwd);
    const cwdExists = cwdHost !== undefined && nodeFs.existsSync(cwdHost);
    const found = lookupCommand(view, spec.process.args[0]!, spec.process.env, cwdExists ? spec.process.cwd : '/');
    if (!found.found)
      throw new LayerkitError(ErrorCodes.ERR_CONTAINER_COMMAND, `cannot run the container's command: ${found.reason}`, {
        exitCode: found.exitCode,
        command: spec.process.args[0],
      });
    nodeFs.writeFileSync(paths.config, JSON.stringify(spec, null, 2));
    return { spec, paths };
  } catch (err) {
    unmount(paths.rootfs);
    throw err;
  }
}

/** The page of mount options the kernel accepts, less a margin. */
const MAX_OVERLAY_OPTIONS = 4000;

/**
 * The overlay as the first of the spec's mounts (destination `/`), mounted by runc inside the
 * container's mount namespace, so it goes with the container and no mount or umount process runs
 * here; and the layers to read the rootfs through until then. Only for an empty upper whose
 * lowers all record their opaque folders (the host cannot read the xattrs without a process, and
 * an upper the kernel wrote may hold opaque folders of its own), and options that fit in a page
 * with absolute paths; undefined otherwise, and the overlay is mounted on the host as before.
 */
function namespaceOverlay(o: {
  init: string;
  lowers: string[];
  upper: string;
  work: string;
}): { mount: RuntimeSpec['mounts'][number]; view: LayerStack } | undefined {
  if (nodeFs.readdirSync(o.upper).length > 0) return undefined;
  const layers: LayerStack['layers'] = [{ dir: o.init, opaque: new Set() }];
  for (const dir of o.lowers) {
    const opaque = snapshotOpaqueDirs(dir);
    if (opaque === undefined) return undefined;
    layers.push({ dir, opaque });
  }
  const options = [`lowerdir=${[o.init, ...o.lowers].join(':')}`, `upperdir=${o.upper}`, `workdir=${o.work}`];
  if (options.join(',').length > MAX_OVERLAY_OPTIONS) return undefined;
  return { mount: { destination: '/', type: 'overlay', source: 'overlay', options }, view: { layers } };
}
