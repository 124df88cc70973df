/**
 * Containers: named, persistent writable layers over an image, kept in the store (Docker's image
 * vs container distinction). Many containers share one image's layers; each has its own upper.
 * A container is a gc root for its image.
 *
 * ```
 * layerkit/containers/<name>/container.json   { name, image, imageRef, created, state }
 * layerkit/containers/<name>/<state>/upper.json + files/<n>   (a new state folder per save)
 * layerkit/containers/<name>/upper/, work/   (format 'kernel': the overlayfs upper a runtime wrote)
 * ```
 *
 * A container that ran on a real runtime keeps its writable layer as the kernel wrote it (see
 * kernel-upper.ts); the union view reads it from there, and saving from the virtual shell turns
 * it back into the serialized form. The records, and what needs nothing but them (look-up,
 * listing, removal, a container `run` creates in the kernel form), are in container-record.ts,
 * which does not load the union view.
 */
import { randomHex } from '#platform';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { loadImage } from '../image/image.js';
import type { GcRoot } from '../store/gc.js';
import { checkFormatVersion, readJsonFile } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { UnionChange } from '../union/changes.js';
import {
  deserializeUpper,
  serializeUpper,
  UPPER_FORMAT_VERSION,
  type SerializedUpperMeta,
} from '../union/upper-serialize.js';
import type { UpperLayer } from '../union/upper-layer.js';
import { ImageFS, mountImage, type CommitOptions } from '../union/mount-image.js';
import type { CommitResult } from '../union/commit-diff.js';
import { readKernelUpper, writeKernelUpper } from './kernel-upper.js';
import { indexImageLayers } from '../layer/layer-store.js';
import {
  checkContainerName,
  checkNameFree,
  CONTAINER_MEANING as MEANING,
  CONTAINER_ROOT_KIND as ROOT_KIND,
  CONTAINERS_DIR as DIR,
  type ContainerInfo,
  getContainer,
  kernelUpperPaths,
  readContainerInfo as readInfo,
  writeContainerInfo as writeInfo,
} from './container-record.js';

export {
  type ContainerInfo,
  containerImage,
  getContainer,
  hasContainer,
  kernelUpperPaths,
  listContainers,
  removeContainer,
} from './container-record.js';

/** The saved writable layer's metadata; a newer layerkit's (a larger `version`) is refused. */
function readUpperMeta(store: Store, base: string): SerializedUpperMeta | undefined {
  const path = store.statePath(base, 'upper.json');
  const meta = readJsonFile(store.fs, path, MEANING) as SerializedUpperMeta | undefined;
  checkFormatVersion(path, 'saved container layer', meta?.version, UPPER_FORMAT_VERSION);
  return meta;
}

/** @internal Containers in gc: their roots keep their images; a damaged record or saved layer is reported. */
export const containerGcRoot: GcRoot = {
  name: 'containers',
  mark(store) {
    const damaged: LayerkitError[] = [];
    for (const name of store.listState(DIR)) {
      try {
        const info = readInfo(store, name);
        if (info?.state) readUpperMeta(store, `${DIR}/${name}/${info.state}`);
      } catch (err) {
        if (!(err instanceof LayerkitError)) throw err;
        damaged.push(err);
      }
    }
    return { damaged };
  },
};
/** Options for {@link createContainer}. */
export interface CreateContainerOptions {
  store: Store;
  /** The image (ref, digest or prefix). */
  image: string;
  name: string;
}

/** Creates a container over an image, with an empty writable layer. */
export async function createContainer({ store, image, name }: CreateContainerOptions): Promise<ContainerInfo> {
  checkContainerName(name);
  return store.withLock(`container-${name}`, async () => {
    checkNameFree(store, name);
    const loaded = await loadImage({ store, image });
    const fs = await mountImage({ store, image: loaded });
    const info: ContainerInfo = {
      name,
      image: loaded.descriptor.digest,
      imageRef: image,
      created: new Date().toISOString(),
      state: '',
    };
    store.setRoot(ROOT_KIND, name, { digests: [loaded.descriptor.digest], diffIds: loaded.diffIds });
    info.state = saveUpper(store, name, fs.upper);
    writeInfo(store, name, info);
    return info;
  });
}

function saveUpper(store: Store, name: string, upper: UpperLayer): string {
  const state = `state-${Date.now().toString(36)}-${randomHex(4)}`;
  const { meta, blobs } = serializeUpper(upper);
  for (const [key, bytes] of blobs) store.writeState(`${DIR}/${name}/${state}/files/${key}`, bytes);
  store.writeState(`${DIR}/${name}/${state}/upper.json`, JSON.stringify(meta));
  return state;
}

function loadUpper(store: Store, info: ContainerInfo): UpperLayer {
  const base = `${DIR}/${info.name}/${info.state}`;
  const meta = readUpperMeta(store, base);
  if (!meta)
    throw new LayerkitError(
      ErrorCodes.ERR_STORE_CORRUPT,
      `container ${info.name}: its saved layer ${base}/upper.json is missing`,
      { name: info.name },
    );
  const blobs = new Map<string, Buffer>();
  for (const key of store.listState(`${base}/files`)) blobs.set(key, store.readState(`${base}/files/${key}`)!);
  return deserializeUpper({ meta, blobs });
}

/** A mounted container: the union view plus `save()` (persist the writable layer). */
export class ContainerFS extends ImageFS {
  /** The container's name. */
  containerName = '';

  /** Persists the writable layer; the next `openContainer` sees exactly this state. */
  async save(): Promise<void> {
    const store = this.store;
    const name = this.containerName;
    await store.withLock(`container-${name}`, async () => {
      const info = getContainer({ store, name });
      const old = info.format === 'kernel' ? '' : info.state;
      info.state = saveUpper(store, name, this.upper);
      const wasKernel = info.format === 'kernel';
      delete info.format;
      writeInfo(store, name, info);
      if (old) store.removeState(`${DIR}/${name}/${old}`);
      if (wasKernel) for (const d of ['upper', 'work']) store.removeState(`${DIR}/${name}/${d}`);
    });
  }
}

/** Opens a container's view (its image's layers plus its saved writable layer). */
export async function openContainer({
  store,
  name,
  readOnly,
}: {
  store: Store;
  name: string;
  readOnly?: boolean;
}): Promise<ContainerFS> {
  const info = getContainer({ store, name });
  const image = await loadImage({
    store,
    image: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: info.image,
      size: store.blobs.stat(info.image)?.size ?? 0,
    },
  });
  const { indexes } = await indexImageLayers({ store, image });
  const kernel = info.format === 'kernel';
  const fs = new ContainerFS({
    store,
    image,
    layers: indexes,
    ...(kernel ? {} : { upper: loadUpper(store, info) }),
  });
  fs.containerName = name;
  if (kernel) {
    const dir = store.statePath(DIR, name, 'upper');
    if (store.fs.existsSync(dir)) await readKernelUpper(fs, dir);
  }
  if (!readOnly) return fs;
  const ro = new ContainerFS({ store, image, layers: indexes, upper: fs.upper, readOnly: true });
  ro.containerName = name;
  return ro;
}

/**
 * Makes a container's writable layer the kernel's: a serialized layer (what the virtual shell
 * saves) is written out as an overlayfs upper directory, once. Needs root.
 */
export async function convertToKernelUpper({ store, name }: { store: Store; name: string }): Promise<ContainerInfo> {
  return store.withLock(`container-${name}`, async () => {
    const info = getContainer({ store, name });
    if (info.format === 'kernel') return info;
    const fs = await openContainer({ store, name, readOnly: true });
    const { upper, work } = kernelUpperPaths({ store, name });
    const staging = `${upper}.new`;
    store.fs.rmSync(staging, { recursive: true, force: true });
    writeKernelUpper(fs.diff(), staging);
    store.fs.rmSync(upper, { recursive: true, force: true });
    store.fs.renameSync(staging, upper);
    store.fs.mkdirSync(work, { recursive: true });
    const old = info.state;
    const next: ContainerInfo = { ...info, state: '', format: 'kernel' };
    writeInfo(store, name, next);
    if (old) store.removeState(`${DIR}/${name}/${old}`);
    return next;
  });
}

/** What a container changed, `docker diff` style. */
export async function diffContainer({ store, name }: { store: Store; name: string }): Promise<UnionChange[]> {
  return (await openContainer({ store, name, readOnly: true })).changes();
}

/** Commits a container's writable layer as a new image. */
export async function commitContainer({
  store,
  name,
  ...options
}: { store: Store; name: string } & CommitOptions): Promise<CommitResult> {
  const fs = await openContainer({ store, name });
  return fs.commit({ createdBy: `layerkit commit ${name}`, ...options });
}
