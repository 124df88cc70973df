/**
 * Named build contexts (`docker buildx build --build-context NAME=VALUE`), every form buildx
 * takes but `target:`:
 * - a folder, read as the main context is (its own .dockerignore applies);
 * - `docker-image://REF`: an image that stands in for NAME (from the store, else pulled as FROM pulls);
 * - `oci-layout://PATH[:TAG][@sha256:DIGEST]`: an image of an OCI layout folder on disk, imported
 *   for the build (and let go after it unless the store had it already);
 * - a git repository (`https://host/r.git#REF:SUBDIR`, `git://`, `ssh://`, `git@`, `file://`) or an
 *   HTTP(S) tarball, fetched into a temporary folder that is removed after the build.
 */
import nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { UNTAGGED_ROOT } from '../image/images.js';
import { importImage } from '../image/import.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { parseReference } from '../oci/reference.js';
import type { Store } from '../store/store.js';
import { type BuildContext, openContext } from './context.js';
import { type FetchRemoteContextOptions, fetchRemoteContext, parseRemoteContext, redactUrl } from './remote-context.js';

/** One named context, opened. `vertex` is what progress shows after `[context NAME] `. */
export type NamedContext =
  | { kind: 'dir'; dir: string; context: BuildContext; vertex: string }
  | { kind: 'image'; ref: string; vertex: string };

/** The named contexts of a build, and what to undo once it is over. */
export interface OpenedNamedContexts {
  contexts: Map<string, NamedContext>;
  /** Removes fetched folders and lets go of images imported from OCI layouts. */
  close: () => void;
}

/** Options for {@link openNamedContexts}. */
export interface OpenNamedContextsOptions {
  contexts: Record<string, string> | undefined;
  store: Store;
  signal?: AbortSignal | undefined;
  /** The proxy settings for contexts given as HTTP(S) URLs (see {@link fetchRemoteContext}). */
  proxy?: FetchRemoteContextOptions['proxy'];
}

/** Opens every named context; a missing folder, a bad form or a failed fetch fails before the first step. */
export async function openNamedContexts({
  contexts,
  store,
  signal,
  proxy,
}: OpenNamedContextsOptions): Promise<OpenedNamedContexts> {
  const out = new Map<string, NamedContext>();
  const undo: Array<() => void> = [];
  const close = (): void => {
    for (const f of undo.splice(0).reverse()) {
      try {
        f();
      } catch {
        // best effort: a temporary folder left behind is not worth failing the build for
      }
    }
  };
  try {
    for (const [name, value] of Object.entries(contexts ?? {})) {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
        throw new LayerkitError(
          ErrorCodes.ERR_USAGE,
          `build context name ${JSON.stringify(name)} is not valid: use letters, digits, '_', '.', '-'`,
          { name },
        );
      const what = `build context ${name}`;
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
      const remote = parseRemoteContext(value);
      if (scheme === 'docker-image') {
        const ref = value.slice('docker-image://'.length);
        parseReference(ref);
        out.set(name.toLowerCase(), { kind: 'image', ref, vertex: ref });
      } else if (scheme === 'oci-layout') {
        const { digest, imported } = await importLayout({ store, value, what, signal });
        if (imported) undo.push(() => store.removeRoot(UNTAGGED_ROOT, digest));
        out.set(name.toLowerCase(), { kind: 'image', ref: digest, vertex: 'OCI load from client' });
      } else if (remote !== undefined) {
        const fetched = await fetchRemoteContext({ source: remote, what, signal, proxy });
        undo.push(fetched.cleanup);
        const vertex = redactUrl(value);
        out.set(name.toLowerCase(), {
          kind: 'dir',
          dir: fetched.dir,
          context: await openContext({ dir: fetched.dir, signal }),
          vertex,
        });
      } else if (scheme !== undefined || value.startsWith('target:')) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSUPPORTED,
          `${what}=${redactUrl(value)}: use a folder, docker-image://REF, oci-layout://PATH[:TAG][@DIGEST], a git URL or an HTTP(S) tarball`,
          { name, value: redactUrl(value) },
        );
      } else {
        out.set(name.toLowerCase(), {
          kind: 'dir',
          dir: value,
          context: await openContext({ dir: value, signal }),
          vertex: 'load from client',
        });
      }
    }
  } catch (err) {
    close();
    throw err;
  }
  return { contexts: out, close };
}

/**
 * `oci-layout://PATH[:TAG][@sha256:DIGEST]`: the image of the layout that the digest (or else the
 * tag, `org.opencontainers.image.ref.name`; or else the layout's only image, or `latest`) names,
 * imported into the store unless it is there already.
 */
async function importLayout(options: {
  store: Store;
  value: string;
  what: string;
  signal?: AbortSignal | undefined;
}): Promise<{ digest: Digest; imported: boolean }> {
  const { store, value, what, signal } = options;
  let rest = value.slice('oci-layout://'.length);
  let digest: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /^sha256:[0-9a-f]{64}$/.test(rest.slice(at + 1))) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const path = isAbsolute(rest) ? rest : resolve(rest);
  const fail = (message: string, cause?: unknown): LayerkitError =>
    new LayerkitError(
      ErrorCodes.ERR_BUILD_CONTEXT,
      `${what} ${value}: ${message}`,
      { path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
      cause === undefined ? undefined : { cause },
    );
  let index: ImageIndex;
  try {
    index = JSON.parse(nodeFs.readFileSync(join(path, 'index.json'), 'utf8')) as ImageIndex;
  } catch (err) {
    throw fail(`${path} is not an OCI layout (no readable index.json)`, err);
  }
  if (!Array.isArray(index.manifests)) throw fail(`${path}/index.json lists no manifests`);
  const nameOf = (d: Descriptor): string | undefined => d.annotations?.['org.opencontainers.image.ref.name'];
  let chosen: Descriptor | undefined;
  if (digest !== undefined) chosen = index.manifests.find((d) => d.digest === digest);
  // The tag alone (buildx, umoci) or a whole name ending in it (layerkit's and docker's exports).
  else if (tag !== undefined) chosen = index.manifests.find((d) => nameOf(d) === tag || nameOf(d)?.endsWith(`:${tag}`));
  else chosen = index.manifests.length === 1 ? index.manifests[0] : index.manifests.find((d) => nameOf(d) === 'latest');
  if (chosen === undefined) {
    const tags = index.manifests.flatMap((d) => nameOf(d) ?? []);
    throw fail(
      `the layout has no image ${digest ?? (tag !== undefined ? `tagged ${tag}` : 'tagged latest')}` +
        (tags.length > 0 ? ` (it has ${tags.join(', ')})` : ''),
    );
  }
  if (store.blobs.has(chosen.digest)) return { digest: chosen.digest, imported: false };
  // A layout of just that image (the blobs are the original's), imported untagged.
  const staging = nodeFs.mkdtempSync(join(tmpdir(), 'layerkit-oci-layout-'));
  try {
    nodeFs.copyFileSync(join(path, 'oci-layout'), join(staging, 'oci-layout'));
    const { annotations: _a, ...descriptor } = chosen;
    nodeFs.writeFileSync(join(staging, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [descriptor] }));
    nodeFs.symlinkSync(join(path, 'blobs'), join(staging, 'blobs'));
    const result = await importImage({ store, source: staging, ...(signal ? { signal } : {}) });
    const image = result.images[0]!;
    return { digest: image.image.descriptor.digest, imported: true };
  } catch (err) {
    if (err instanceof LayerkitError && err.code !== ErrorCodes.ERR_ABORTED) throw fail(err.message, err);
    throw err;
  } finally {
    nodeFs.rmSync(staging, { recursive: true, force: true });
  }
}
