/**
 * A container's record in the store (`containers/<name>/container.json`) and what needs nothing
 * more than that record: look-up, listing, removal, the image it was made from, and creating a
 * container whose writable layer starts as the kernel's (an empty overlay `upper/`), as `run`
 * does. Nothing here loads the union view: a `layerkit run` or `ps` reads records only, and the
 * view (containers.ts) is loaded by the commands that open a container's files.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { loadImage, type Image } from '../image/image.js';
import { checkFormatVersion, corruptFile, readJsonFile, type JsonFileMeaning } from '../store/state.js';
import type { Store } from '../store/store.js';

/** @internal The state folder of containers. */
export const CONTAINERS_DIR = 'containers';
/** @internal The kind of the gc roots containers record. */
export const CONTAINER_ROOT_KIND = 'containers';
/** @internal What a damaged container file is, and how to get past it. */
export const CONTAINER_MEANING: JsonFileMeaning = {
  what: 'container state',
  fix: "restore it, or remove the container's folder (its writable layer is lost) and run 'layerkit verify'",
};

/** The format version of `container.json` (files from before versions have none and read the same). */
const FORMAT = 1;

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** What the store records about a container. */
export interface ContainerInfo {
  name: string;
  /** The image's manifest digest. */
  image: Digest;
  /** The ref it was created from. */
  imageRef: string;
  created: string;
  /** The folder holding the current saved upper layer ('' with format 'kernel'). */
  state: string;
  /** 'kernel': the writable layer is the overlayfs upper directory `upper/` (a runtime ran it). */
  format?: 'kernel';
}

/** @internal Reads a container's record (undefined: none); `ERR_STORE_CORRUPT` when damaged. */
export function readContainerInfo(store: Store, name: string): ContainerInfo | undefined {
  const path = store.statePath(CONTAINERS_DIR, name, 'container.json');
  const value = readJsonFile(store.fs, path, CONTAINER_MEANING) as
    | (Partial<ContainerInfo> & { version?: unknown })
    | undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof value.image !== 'string' || typeof value.state !== 'string')
    throw corruptFile(path, CONTAINER_MEANING, 'is not a container record');
  checkFormatVersion(path, CONTAINER_MEANING.what, value.version, FORMAT);
  const { version: _version, ...info } = value;
  return info as ContainerInfo;
}

/** @internal Writes a container's record (atomically, durably). */
export function writeContainerInfo(store: Store, name: string, info: ContainerInfo): void {
  store.writeState(`${CONTAINERS_DIR}/${name}/container.json`, JSON.stringify({ ...info, version: FORMAT }));
}

/** @internal Refuses a name that is not a valid container name (`ERR_CONTAINER`). */
export function checkContainerName(name: string): void {
  if (!NAME.test(name)) {
    throw new LayerkitError(
      ErrorCodes.ERR_CONTAINER,
      `invalid container name ${JSON.stringify(name)}: use letters, digits, '_', '.', '-', starting with a letter or digit`,
      { name },
    );
  }
}

/** @internal Refuses a name that a container already has (`ERR_CONTAINER`). */
export function checkNameFree(store: Store, name: string): void {
  if (hasContainer({ store, name }))
    throw new LayerkitError(
      ErrorCodes.ERR_CONTAINER,
      `a container named ${JSON.stringify(name)} already exists; choose another name or remove it first`,
      { name },
    );
}

/** Reads a container's record; `ERR_NOT_FOUND` when there is none. */
export function getContainer({ store, name }: { store: Store; name: string }): ContainerInfo {
  checkContainerName(name);
  const info = readContainerInfo(store, name);
  if (!info) throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no container named ${JSON.stringify(name)}`, { name });
  return info;
}

/** True when a container with this name exists. */
export function hasContainer({ store, name }: { store: Store; name: string }): boolean {
  return NAME.test(name) && store.readState(`${CONTAINERS_DIR}/${name}/container.json`) !== undefined;
}

/** Every container, sorted by name. */
export function listContainers({ store }: { store: Store }): ContainerInfo[] {
  return store
    .listState(CONTAINERS_DIR)
    .flatMap((name) => (hasContainer({ store, name }) ? [getContainer({ store, name })] : []));
}

/** The overlayfs `upper/` and `work/` directories of a container (the kernel format's home). */
export function kernelUpperPaths({ store, name }: { store: Store; name: string }): { upper: string; work: string } {
  checkContainerName(name);
  return {
    upper: store.statePath(CONTAINERS_DIR, name, 'upper'),
    work: store.statePath(CONTAINERS_DIR, name, 'work'),
  };
}

/** Removes a container and its writable layer (its image stays; gc may then collect it). */
export async function removeContainer({ store, name }: { store: Store; name: string }): Promise<void> {
  getContainer({ store, name });
  await store.withLock(`container-${name}`, async () => {
    store.removeState(`${CONTAINERS_DIR}/${name}`);
    store.removeRoot(CONTAINER_ROOT_KIND, name);
  });
}

/** The image a container was created from. */
export async function containerImage({ store, name }: { store: Store; name: string }): Promise<Image> {
  const info = getContainer({ store, name });
  return loadImage({
    store,
    image: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: info.image,
      size: store.blobs.stat(info.image)?.size ?? 0,
    },
  });
}

/** Options for {@link createKernelContainer}. */
export interface CreateKernelContainerOptions {
  store: Store;
  /** The image (ref, digest or prefix). */
  image: string;
  name: string;
}

/**
 * @internal Creates a container whose writable layer is the kernel's from the start: an empty
 * overlay `upper/` and `work/` (what {@link createContainer} followed by a conversion gives, without
 * building the union view of an empty layer). Returns the record and the loaded image.
 */
export async function createKernelContainer({
  store,
  image,
  name,
}: CreateKernelContainerOptions): Promise<{ info: ContainerInfo; image: Image }> {
  checkContainerName(name);
  return store.withLock(`container-${name}`, async () => {
    checkNameFree(store, name);
    const loaded = await loadImage({ store, image });
    const info: ContainerInfo = {
      name,
      image: loaded.descriptor.digest,
      imageRef: image,
      created: new Date().toISOString(),
      state: '',
      format: 'kernel',
    };
    const { upper, work } = kernelUpperPaths({ store, name });
    store.fs.rmSync(upper, { recursive: true, force: true });
    store.fs.rmSync(work, { recursive: true, force: true });
    store.fs.mkdirSync(upper, { recursive: true });
    store.fs.mkdirSync(work, { recursive: true });
    store.setRoot(CONTAINER_ROOT_KIND, name, { digests: [loaded.descriptor.digest], diffIds: loaded.diffIds });
    writeContainerInfo(store, name, info);
    return { info, image: loaded };
  });
}
