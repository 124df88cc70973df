/**
 * `RUN --mount`, BuildKit's four local kinds:
 * - `bind` (the default): the build context, or an earlier stage / an image (`from=`), or a path
 *   inside it (`source=`), at `target`; read-only unless `rw`, and writes are discarded. Its
 *   contents are in the cache key (the same content digest a COPY of it would have).
 * - `cache`: a directory kept in the store across builds (`id=`, default the target), never in a
 *   layer or a key; `sharing=locked|private` serialise its users, `shared` does not; `mode`,
 *   `uid`, `gid` shape it when created, `from`/`source` seed it.
 * - `tmpfs`: an empty directory, discarded; `size=` limits the bytes of file data it holds
 *   (ENOSPC beyond; the Linux executor mounts a real tmpfs of that size, which counts pages).
 * - `secret`: the bytes of a secret the build was given (`secrets` option / `--secret`) as a file
 *   (default `/run/secrets/<id>`, mode 0400) and/or an environment variable (`env=`); only its id
 *   and target are in the key. A missing secret fails when `required`, else is not mounted.
 * `ssh` needs an SSH agent to forward, which an in-process builder does not have: refused.
 *
 * Mount points missing in the step's view are created for the command and removed afterwards
 * when they are still empty (BuildKit's mount stubs), so they never land in the layer.
 */
import { posix } from 'node:path';
import { readFileSync } from 'node:fs';
import type { RunMount } from '../../dockerfile/index.js';
import { ErrorCodes } from '../../errors.js';
import { stepError } from '../step-error.js';
import { mountImage, type ImageFS } from '../../union/mount-image.js';
import { cacheMountLock, CACHE_MOUNT_DIR, openCacheMount, type OpenCacheMount } from '../cache-mounts.js';
import type { InputSet } from '../content-digest.js';
import type { ExecMount } from '../../union/executor.js';
import { contextSource, type SourceTree } from '../sources.js';
import type { FsStepContext } from '../cached-step.js';
import { fromTree } from './copy-step.js';
import { applyCopy, planCopy, type CopyPlan } from './copy.js';

/** A secret given to a build: a file to read, an environment variable of the builder, or the bytes. */
export type BuildSecret = { file: string } | { env: string } | { value: string | Uint8Array };

/** Where a bind mount's contents sit inside its view. */
const BIND_ROOT = '/m';

interface PlannedMount {
  /** The `--mount` it comes from; none for the sandbox's own files. */
  spec?: RunMount;
  /** Mounted on a file (a secret, /etc/hosts): its stub is an empty file. */
  file?: boolean;
  /** What the key holds about this mount (bind inputs go to `inputs`). */
  key: Record<string, unknown>;
  /** A bind's inputs (the content digest of what it shows). */
  inputs?: InputSet;
  /** Where it is mounted and how its view is made (after a cache miss); absent for an env-only secret. */
  target?: string;
  open?: () => Promise<{ mount: ExecMount; save?: () => Promise<void> }>;
  /** A lock to hold while the command runs (cache `sharing=locked|private`). */
  lock?: string;
}

/** What a RUN's mounts add to its step. */
export interface RunMounts {
  /** Cache key part: every mount's spec as it applies. */
  key: Array<Record<string, unknown>>;
  /** Cache key part: what bind mounts show, by `mount TARGET: path`. */
  inputs: InputSet;
  /** Environment variables secrets are exposed as. */
  env: Record<string, string>;
  /** Runs `fn` with the mounts open: creates the stubs, opens the views, holds the locks, then keeps caches and removes stubs. */
  use<T>(view: ImageFS, fn: (mounts: ExecMount[]) => Promise<T>): Promise<T>;
}

/** The files every RUN gets mounted read-only, by target (`/etc/hosts`, `/etc/resolv.conf`). */
export type SandboxFiles = Readonly<Record<string, string>>;

/**
 * Plans a RUN's mounts: validates them and computes their key parts; views are opened only by
 * `use`. `sandbox` files are mounted read-only at their targets too (unless a `--mount` takes the
 * target), outside the key: what BuildKit mounts for every command.
 */
export async function planRunMounts(
  ctx: FsStepContext,
  specs: readonly RunMount[],
  cwd: string,
  sandbox: SandboxFiles = {},
): Promise<RunMounts> {
  const { run } = ctx;
  const planned: PlannedMount[] = [];
  const env: Record<string, string> = {};
  const targets = new Set<string>();
  const inputs: InputSet = {};
  for (const spec of specs) {
    const p = await planOne(ctx, spec, cwd, env);
    if (p === undefined) continue;
    if (p.target !== undefined) {
      if (targets.has(p.target))
        throw stepError(ErrorCodes.ERR_DOCKERFILE_FLAG, `RUN --mount: two mounts at ${p.target}`, {
          target: p.target,
        });
      targets.add(p.target);
    }
    for (const [path, fingerprint] of Object.entries(p.inputs ?? {}))
      inputs[`mount ${p.target}: ${path}`] = fingerprint;
    planned.push(p);
  }
  const keyed = planned.length;
  const files = Object.entries(sandbox).filter(([target]) => !targets.has(target));
  if (files.length > 0) {
    let view: Promise<ImageFS> | undefined;
    const sandboxView = () =>
      (view ??= (async () => {
        const v = await mountImage({ store: run.services.store, image: [] });
        for (const [i, [, text]] of files.entries()) await v.writeFile(`/${i}`, text, { mode: 0o644 });
        return v;
      })());
    for (const [i, [target]] of files.entries())
      planned.push({
        file: true,
        target,
        key: {},
        open: async () => ({
          mount: { kind: 'bind', target, fs: await sandboxView(), root: `/${i}`, readOnly: true, persistent: false },
        }),
      });
  }
  return {
    key: planned.slice(0, keyed).map((p) => p.key),
    inputs,
    env,
    async use<T>(view: ImageFS, fn: (mounts: ExecMount[]) => Promise<T>): Promise<T> {
      const created = makeStubs(view, planned);
      const body = async (): Promise<T> => {
        const opened: Array<{ mount: ExecMount; save?: () => Promise<void> }> = [];
        for (const p of planned) if (p.open) opened.push(await p.open());
        const result = await fn(opened.map((o) => o.mount));
        for (const o of opened) await o.save?.();
        return result;
      };
      const locks = [...new Set(planned.flatMap((p) => (p.lock ? [p.lock] : [])))].sort();
      try {
        let guarded = body;
        for (const name of locks) {
          const inner = guarded;
          guarded = () =>
            run.services.store.withLock(name, inner, run.services.signal ? { signal: run.services.signal } : {});
        }
        return await guarded();
      } finally {
        removeStubs(view, created);
      }
    },
  };
}

async function planOne(
  ctx: FsStepContext,
  spec: RunMount,
  cwd: string,
  env: Record<string, string>,
): Promise<PlannedMount | undefined> {
  const { run } = ctx;
  const targetOf = (fallback?: string): string => {
    const t = spec.target ?? fallback;
    if (t === undefined || t === '')
      throw stepError(ErrorCodes.ERR_DOCKERFILE_FLAG, `RUN --mount=type=${spec.type}: target is required`, {
        type: spec.type,
      });
    return posix.resolve(cwd, t);
  };
  switch (spec.type) {
    case 'bind': {
      const target = targetOf();
      const { tree, from } = await sourceOf(ctx, spec);
      const plan = planSource(ctx, tree, spec.source ?? '/');
      return {
        spec,
        target,
        key: { type: 'bind', target, from: from ?? 'context', source: spec.source ?? '/', readOnly: spec.readOnly },
        inputs: plan.inputs,
        open: async () => ({
          mount: {
            kind: 'bind',
            target,
            fs: await viewOf(ctx, plan),
            root: BIND_ROOT,
            readOnly: spec.readOnly,
            persistent: false,
          },
        }),
      };
    }
    case 'cache': {
      const target = targetOf();
      const id = spec.id ?? target;
      const sharing = spec.sharing ?? 'shared';
      const seedFrom = spec.from !== undefined ? await sourceOf(ctx, spec) : undefined;
      return {
        spec,
        target,
        key: {
          type: 'cache',
          target,
          id,
          sharing,
          readOnly: spec.readOnly,
          mode: spec.mode ?? 0o755,
          uid: spec.uid ?? 0,
          gid: spec.gid ?? 0,
          ...(spec.from !== undefined ? { from: spec.from, source: spec.source ?? '/' } : {}),
        },
        ...(sharing === 'shared' ? {} : { lock: cacheMountLock(id) }),
        open: async () => {
          const cache: OpenCacheMount = await openCacheMount({
            store: run.services.store,
            lease: run.services.lease,
            id,
            uid: spec.uid ?? 0,
            gid: spec.gid ?? 0,
            mode: spec.mode ?? 0o755,
            signal: run.services.signal,
            ...(seedFrom
              ? {
                  seed: (view: ImageFS) =>
                    applyCopy(view, planSource(ctx, seedFrom.tree, spec.source ?? '/', `${CACHE_MOUNT_DIR}/`), {}),
                }
              : {}),
          });
          return {
            mount: {
              kind: 'cache',
              target,
              fs: cache.view,
              root: CACHE_MOUNT_DIR,
              readOnly: spec.readOnly,
              persistent: !spec.readOnly,
            },
            ...(spec.readOnly ? {} : { save: cache.save }),
          };
        },
      };
    }
    case 'tmpfs': {
      const target = targetOf();
      return {
        spec,
        target,
        key: { type: 'tmpfs', target, ...(spec.sizeLimit !== undefined ? { size: spec.sizeLimit } : {}) },
        open: async () => {
          const view = await mountImage({ store: run.services.store, image: [] });
          await view.mkdir('/tmpfs', { mode: 0o1777 });
          await view.chmod('/tmpfs', 0o1777);
          return {
            mount: {
              kind: 'tmpfs',
              target,
              fs: view,
              root: '/tmpfs',
              readOnly: false,
              persistent: false,
              ...(spec.sizeLimit !== undefined ? { sizeLimit: spec.sizeLimit } : {}),
            },
          };
        },
      };
    }
    case 'secret': {
      const id = spec.id ?? (spec.target !== undefined ? posix.basename(spec.target) : undefined);
      if (id === undefined || id === '')
        throw stepError(
          ErrorCodes.ERR_DOCKERFILE_FLAG,
          `RUN --mount=type=secret needs id= (or a target to take it from)`,
          {},
        );
      const bytes = secretBytes(run.options.secrets?.[id], id);
      if (bytes === undefined) {
        if (spec.required) {
          throw stepError(
            ErrorCodes.ERR_BUILD_STEP,
            `secret ${JSON.stringify(id)} is required but the build was not given it (pass it with --secret id=${id},src=FILE)`,
            { secret: id },
          );
        }
        return undefined;
      }
      if (spec.env !== undefined) env[spec.env] = Buffer.from(bytes).toString('utf8');
      // With only env= the secret is not mounted as a file (BuildKit mounts a file when a target is given, or no env).
      if (spec.env !== undefined && spec.target === undefined)
        return { spec, key: { type: 'secret', id, env: spec.env } };
      const target = targetOf(`/run/secrets/${id}`);
      return {
        spec,
        file: true,
        target,
        key: {
          type: 'secret',
          id,
          target,
          mode: spec.mode ?? 0o400,
          uid: spec.uid ?? 0,
          gid: spec.gid ?? 0,
          ...(spec.env !== undefined ? { env: spec.env } : {}),
        },
        open: async () => {
          const view = await mountImage({ store: run.services.store, image: [] });
          await view.writeFile('/secret', bytes, { mode: spec.mode ?? 0o400 });
          await view.chmod('/secret', spec.mode ?? 0o400);
          await view.chown('/secret', spec.uid ?? 0, spec.gid ?? 0);
          return { mount: { kind: 'secret', target, fs: view, root: '/secret', readOnly: true, persistent: false } };
        },
      };
    }
    case 'ssh':
      throw stepError(
        ErrorCodes.ERR_UNSUPPORTED,
        `RUN --mount=type=ssh forwards an SSH agent into the build, and layerkit's builder has none to forward; fetch what needs SSH before the build and COPY it, or bind-mount it from the context`,
        { type: 'ssh' },
      );
  }
}

/** The tree a bind (or a cache seed) reads: the context, or `from=` a stage or image. */
async function sourceOf(ctx: FsStepContext, spec: RunMount): Promise<{ tree: SourceTree; from: string | undefined }> {
  if (spec.from === undefined) return { tree: contextSource(ctx.run.services.context), from: undefined };
  return { tree: await fromTree(ctx, spec.from, 'RUN --mount from'), from: spec.from };
}

/** The source path as a COPY of it into an empty view would be, which fingerprints every input. */
function planSource(ctx: FsStepContext, tree: SourceTree, source: string, dest = BIND_ROOT): CopyPlan {
  return planCopy({
    tree,
    sources: [source.replace(/^\/+/, '') || '.'],
    dest,
    workdir: '/',
    excludes: [],
    isDirectory: () => false,
    cache: ctx.run.services.fingerprints,
    now: ctx.run.options.sourceDateEpoch ?? Math.floor(ctx.run.services.clock() / 1000),
    what: `RUN --mount source=${source}`,
    unpackArchives: false,
    parents: false,
  });
}

/** A fresh in-memory view holding a planned source at {@link BIND_ROOT} (discarded after the command). */
async function viewOf(ctx: FsStepContext, plan: CopyPlan): Promise<ImageFS> {
  const view = await mountImage({ store: ctx.run.services.store, image: [] });
  await applyCopy(view, plan, {});
  if (!view.existsSync(BIND_ROOT)) view.mkdirSync(BIND_ROOT, { mode: 0o755 });
  return view;
}

function secretBytes(secret: BuildSecret | undefined, id: string): Uint8Array | undefined {
  if (secret === undefined) return undefined;
  if ('value' in secret) return typeof secret.value === 'string' ? Buffer.from(secret.value) : secret.value;
  if ('env' in secret) {
    const v = process.env[secret.env];
    return v === undefined ? undefined : Buffer.from(v);
  }
  try {
    return readFileSync(secret.file);
  } catch (err) {
    throw stepError(
      ErrorCodes.ERR_NOT_FOUND,
      `secret ${JSON.stringify(id)}: cannot read ${secret.file} (${(err as Error).message})`,
      { secret: id, path: secret.file },
      { cause: err },
    );
  }
}

/** What {@link makeStubs} created, and the times of the existing directories it created them in. */
interface Stubs {
  created: string[];
  parents: Map<string, { atimeMs: number; mtimeMs: number }>;
}

/** True when something (a dangling symlink too) is at `path`. */
function lexists(view: ImageFS, path: string): boolean {
  try {
    view.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates missing mount points (directories; a file for a file mount); returns what it created, deepest last. */
function makeStubs(view: ImageFS, planned: readonly PlannedMount[]): Stubs {
  const created: string[] = [];
  const parents = new Map<string, { atimeMs: number; mtimeMs: number }>();
  for (const p of planned) {
    if (p.target === undefined) continue; // an env-only secret
    const isFile = p.file === true;
    const dirs: string[] = [];
    for (let d = isFile ? posix.dirname(p.target) : p.target; d !== '/' && !view.existsSync(d); d = posix.dirname(d))
      dirs.unshift(d);
    // A file mount point is made only where nothing is, not even a dangling symlink (an image's
    // /etc/resolv.conf -> /run/systemd/...): writing through it would fail or land elsewhere.
    const fileMissing = isFile && !lexists(view, p.target);
    const first = dirs[0] ?? (fileMissing ? p.target : undefined);
    if (first !== undefined) {
      const parent = posix.dirname(first);
      if (!parents.has(parent) && !created.includes(parent)) {
        const st = view.statSync(parent);
        parents.set(parent, { atimeMs: st.atimeMs, mtimeMs: st.mtimeMs });
      }
    }
    for (const d of dirs) {
      view.mkdirSync(d, { mode: 0o755 });
      created.push(d);
    }
    if (fileMissing) {
      view.writeFileSync(p.target, '');
      created.push(p.target);
    }
  }
  return { created, parents };
}

/**
 * Removes the stubs it made, deepest first, where the command left them empty, and gives the
 * directories they were made in their times back, so an untouched parent is no change.
 */
function removeStubs(view: ImageFS, { created, parents }: Stubs): void {
  for (const path of [...created].reverse()) {
    try {
      const st = view.lstatSync(path);
      if (st.isDirectory()) {
        if (view.readdirSync(path).length === 0) view.rmdirSync(path);
      } else if (st.isFile() && st.size === 0) {
        view.unlinkSync(path);
      }
    } catch {
      // the command removed it already
    }
  }
  for (const [dir, t] of parents) {
    try {
      view.utimesSync(dir, t.atimeMs / 1000, t.mtimeMs / 1000);
    } catch {
      // the command removed it
    }
  }
}
