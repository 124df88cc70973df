/**
 * Everything between "run this container" and `runc run`: the writable layer made the kernel's,
 * the image's layers extracted (once), the init layer, the overlay mounted, the files bound at
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, the command looked up (127/126 before runc),
 * and the spec written as the bundle's config.json. Undone (unmounted) when any step fails.
 */
import nodeFs from 'node:fs';
import { hostname as hostHostname, release } from 'node:os';
import { join } from 'node:path';
import { containerImage, getContainer, kernelUpperPaths } from '../container/container-record.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Image } from '../image/image.js';
import type { Store } from '../store/store.js';
import { cgroupMode, cgroupsPathFor, swapAccounting } from './cgroups.js';
import { lookupCommand, readInRoot, resolveInRoot } from './rootfs-read.js';
import { ensureSnapshot, mountOverlay, unmount, writeInitLayer } from './snapshotter.js';
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
  if (lowers.length === 0) lowers.push(paths.init);
  else lowers.unshift(paths.init);
  mountOverlay({ lowers, upper, work, target: paths.rootfs });
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
        passwd: readInRoot(paths.rootfs, '/etc/passwd'),
        group: readInRoot(paths.rootfs, '/etc/group'),
        cgroupsPath: cgroupsPathFor(id),
        cgroupV2: cgroupMode() === 'v2',
        swapAccounting: swapAccounting(),
        etcFiles,
        kernel: release(),
      },
    );
    const cwdHost = resolveInRoot(paths.rootfs, spec.process.cwd);
    const cwdExists = cwdHost !== undefined && nodeFs.existsSync(cwdHost);
    const found = lookupCommand(
      paths.rootfs,
      spec.process.args[0]!,
      spec.process.env,
      cwdExists ? spec.process.cwd : '/',
    );
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
