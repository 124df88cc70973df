/**
 * The remote build cache as the builder sees it (`--cache-from`, `--cache-to`, BuildKit's flags):
 * sources opened once per build, looked up by the key the step computed here (a remote record
 * never computes a key), a hit's layer verified into the store before it is used, and the
 * records of the build exported at its end: to a cache repository (`mode=min` the final image's
 * steps, `mode=max` every stage's), to a cache folder (`type=local`, an OCI layout in any fs, a
 * page's too), or inline in the image config. The registry client is loaded only by a build that
 * names a cache repository, the folder code only by one that names a folder: a plain build pays
 * for neither.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { parsePlatform } from '../image/platform.js';
import {
  CACHE_CONFIG_KEY,
  parseCacheReference,
  type InlineCacheRecord,
  type RemoteCacheEntry,
} from '../registry/cache-format.js';
import { localFs } from '#platform';
import type { CacheRecordSource } from '../registry/cache-format.js';
import type { CacheFs } from '../registry/cache-local.js';
import type { BuildRun } from './build-run.js';
import type { KeyComponents, MissReason } from './cache.js';
import type { StageState } from './state.js';

/**
 * Where `--cache-from` reads: a cache repository, or an image with an inline cache
 * (`type=registry,ref=REF`); or a cache folder another build exported (`type=local,src=DIR`),
 * in Node's filesystem or in `fs` (a memfs volume, a page's own: see {@link CacheFs}).
 */
export type CacheImport =
  | { type: 'registry'; ref: string }
  | { type: 'local'; src: string; tag?: string | undefined; fs?: CacheFs | undefined };

/**
 * Where `--cache-to` writes: a cache repository (`mode=min`, the default, exports the final
 * image's steps; `max` every built stage's), a cache folder (`type=local,dest=DIR`: an OCI layout,
 * in Node's filesystem or in `fs`; the index under `tag`, default `latest`), or `inline`, into
 * the image's own config.
 */
export type CacheExport =
  | { type: 'registry'; ref: string; mode?: 'min' | 'max' | undefined }
  | {
      type: 'local';
      dest: string;
      mode?: 'min' | 'max' | undefined;
      tag?: string | undefined;
      fs?: CacheFs | undefined;
    }
  | { type: 'inline' };

/** Where a cache hit came from: this store, a registry or a cache folder (`--cache-from`). */
export type CacheHitSource = { kind: 'local' } | { kind: 'registry'; ref: string } | { kind: 'folder'; path: string };

/** How a hit's source reads in progress, history and explain: `` or `from registry REF`. */
export function cacheHitText(source: CacheHitSource | undefined): string {
  if (source === undefined) return '';
  switch (source.kind) {
    case 'local':
      return '';
    case 'registry':
      return `from registry ${source.ref}`;
    case 'folder':
      return `from cache folder ${source.path}`;
    default: {
      const unknown: never = source;
      return String((unknown as { kind?: unknown }).kind ?? '');
    }
  }
}

function parseFields(spec: string, flag: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new LayerkitError(ErrorCodes.ERR_USAGE, `${flag} ${spec}: ${JSON.stringify(part)} is not KEY=VALUE`, {
        spec,
      });
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return fields;
}

/** A folder's tag field, checked as an OCI tag (it names the index in `index.json`). */
function folderTag(fields: Map<string, string>, flag: string, spec: string): { tag?: string } {
  const tag = fields.get('tag');
  if (tag === undefined) return {};
  if (!/^[\w][\w.-]{0,127}$/.test(tag))
    throw new LayerkitError(ErrorCodes.ERR_USAGE, `${flag} ${spec}: tag=${tag} is not a valid tag`, { spec });
  return { tag };
}

/**
 * Parses a `--cache-from` value: `type=registry,ref=REF`, a bare `REF` (as buildx accepts), or
 * `type=local,src=DIR[,tag=TAG]` (a folder path as given: the CLI resolves it).
 * @throws `ERR_USAGE` for another type or a missing ref or src; `ERR_INVALID_REFERENCE` for a bad ref.
 */
export function parseCacheImport(spec: string): CacheImport {
  if (!spec.includes('=')) {
    parseCacheReference(spec);
    return { type: 'registry', ref: spec };
  }
  const fields = parseFields(spec, '--cache-from');
  const type = fields.get('type') ?? 'registry';
  const ref = fields.get('ref');
  if (type === 'local' && fields.get('src'))
    return { type: 'local', src: fields.get('src')!, ...folderTag(fields, '--cache-from', spec) };
  if (type !== 'registry' || !ref)
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `--cache-from ${spec}: layerkit reads type=registry,ref=REF (a cache repository or an image with an inline cache) or type=local,src=DIR`,
      { spec },
    );
  parseCacheReference(ref);
  return { type: 'registry', ref };
}

/**
 * Parses a `--cache-to` value: `type=registry,ref=REF[,mode=min|max]`,
 * `type=local,dest=DIR[,mode=min|max][,tag=TAG]` or `type=inline`.
 * @throws `ERR_USAGE` for another type, a missing ref or dest, or an unknown mode.
 */
export function parseCacheExport(spec: string): CacheExport {
  const fields = parseFields(spec.includes('=') ? spec : `ref=${spec}`, '--cache-to');
  const type = fields.get('type') ?? 'registry';
  if (type === 'inline') return { type: 'inline' };
  const ref = fields.get('ref');
  const dest = fields.get('dest');
  const mode = fields.get('mode') ?? 'min';
  if (type === 'local' && dest && (mode === 'min' || mode === 'max'))
    return { type: 'local', dest, mode, ...folderTag(fields, '--cache-to', spec) };
  if (type !== 'registry' || !ref || (mode !== 'min' && mode !== 'max'))
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `--cache-to ${spec}: layerkit writes type=registry,ref=REF[,mode=min|max], type=local,dest=DIR[,mode=min|max] or type=inline`,
      { spec },
    );
  parseCacheReference(ref);
  return { type: 'registry', ref, mode };
}

/** The remote cache of one build: its open sources and the records it will export. */
interface RemoteState {
  /** The `--cache-from` sources, in order, each with where its hits come from. */
  sources: Promise<Array<{ source: CacheRecordSource; hit: CacheHitSource }>>;
  /** Every filesystem step's record, by key, in build order. */
  entries: Map<Digest, RemoteCacheEntry>;
}

const states = new WeakMap<object, RemoteState>();

/** The fs a cache folder is in: the one given, else Node's own (a page has none: it must pass one). */
function folderFs(fs: CacheFs | undefined, dir: string): CacheFs {
  const found = fs ?? (localFs() as unknown as CacheFs | undefined);
  if (found === undefined)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `the cache folder ${dir}: no filesystem to use here; pass fs with the folder (a memfs volume, or your own)`,
      { path: dir, reason: 'no-default-fs' },
    );
  return found;
}

/** Opens one `--cache-from` source (loading only the code its kind needs). */
async function openSource(run: BuildRun, c: CacheImport): Promise<{ source: CacheRecordSource; hit: CacheHitSource }> {
  const { signal } = run.services;
  if (c.type === 'local') {
    const { openLocalCacheSource } = await import('../registry/cache-local.js');
    const source = await openLocalCacheSource({ dir: c.src, fs: folderFs(c.fs, c.src), tag: c.tag, signal });
    return { source, hit: { kind: 'folder', path: c.src } };
  }
  const { openCacheSource } = await import('../registry/cache-remote.js');
  const source = await openCacheSource({
    ...run.options.registry,
    ref: c.ref,
    platform: run.options.platform,
    ...(signal ? { signal } : {}),
  });
  return { source, hit: { kind: 'registry', ref: c.ref } };
}

function stateOf(run: BuildRun): RemoteState {
  let s = states.get(run.journal);
  if (!s) {
    const sources = Promise.all(run.options.cacheFrom.map((c) => openSource(run, c)));
    // An unawaited rejection would crash the process; each caller awaits (and sees) it.
    sources.catch(() => undefined);
    s = { sources, entries: new Map() };
    states.set(run.journal, s);
  }
  return s;
}

/** The Dockerfile position of a step, as records carry it across machines (`Dockerfile#stage#step`). */
export function remotePosition(run: BuildRun, stage: string, step: number): string {
  return `${run.options.file}#${stage}#${step}`;
}

/** What a remote lookup gave a step. */
export type RemoteHit =
  | { hit: true; entry: RemoteCacheEntry; source: CacheHitSource; bytes: number }
  | { hit: false; reasons: MissReason[]; explainFrom?: Record<string, unknown> | undefined };

/**
 * Looks a key up in every `--cache-from` source, in order. The first record that verifies (its
 * manifest, config and layer bytes, and its key) is stored as a local record too; one that does
 * not is a miss whose reason says why.
 */
export async function lookupRemote(run: BuildRun, key: Digest, position: string): Promise<RemoteHit> {
  const sources = await stateOf(run).sources;
  const reasons: MissReason[] = [];
  const { store, lease } = run.services;
  for (const { source, hit } of sources) {
    const found = await source.lookup(key);
    if (found.status === 'absent') continue;
    if (found.status === 'invalid') {
      reasons.push({ kind: 'remote-invalid', message: `the cache ${source.ref} was not used: ${found.reason}` });
      continue;
    }
    try {
      const bytes = await source.fetchLayer({ store, lease, entry: found.entry, repository: found.repository });
      return { hit: true, entry: found.entry, source: hit, bytes };
    } catch (err) {
      if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_ABORTED) throw err;
      reasons.push({
        kind: 'remote-invalid',
        message: `the record in ${source.ref} failed verification and was not used: ${(err as Error).message}`,
      });
    }
  }
  let explainFrom: Record<string, unknown> | undefined;
  for (const { source } of sources) {
    explainFrom = await source.componentsAt(position).catch(() => undefined);
    if (explainFrom) break;
  }
  return { hit: false, reasons, explainFrom };
}

/** Notes a filesystem step's record for `--cache-to` (hit or built). */
export function noteCacheEntry(
  run: BuildRun,
  entry: Omit<RemoteCacheEntry, 'components'> & { components: KeyComponents },
): void {
  if (run.options.cacheTo.length === 0) return;
  stateOf(run).entries.set(entry.key, { ...entry, components: entry.components as unknown as Record<string, unknown> });
}

/** The inline cache of the final image: its steps' records, on the image's own layers. */
export function inlineCache(run: BuildRun, final: StageState): { records: InlineCacheRecord[] } | undefined {
  if (!run.options.cacheTo.some((c) => c.type === 'inline')) return undefined;
  const entries = stateOf(run).entries;
  const records: InlineCacheRecord[] = [];
  for (const [i, layer] of final.layers.entries()) {
    const entry = layer.cacheKey !== undefined ? entries.get(layer.cacheKey) : undefined;
    if (entry) records.push({ key: entry.key, layer: i, position: entry.position, components: entry.components });
  }
  return { records };
}

/** The config key the inline cache is written under. */
export const INLINE_CACHE_KEY = CACHE_CONFIG_KEY;

/** What one `--cache-to` export wrote: where (`ref`: the repository or the folder), how many records and bytes. */
export interface BuildCacheExport {
  exporter: 'registry' | 'local';
  ref: string;
  records: number;
  /** Blob bytes sent to the registry or written into the folder (0 when it had them all). */
  bytes: number;
}

/** Exports the build's records to every `type=registry` and `type=local` `--cache-to`. */
export async function exportBuildCache(run: BuildRun, final: StageState): Promise<BuildCacheExport[]> {
  const targets = run.options.cacheTo.filter((c) => c.type !== 'inline');
  if (targets.length === 0) return [];
  const entries = [...stateOf(run).entries.values()];
  const inFinal = new Set(final.layers.map((l) => l.cacheKey).filter((k) => k !== undefined));
  const { store, lease, signal } = run.services;
  const out: BuildCacheExport[] = [];
  for (const target of targets) {
    const chosen = target.mode === 'max' ? entries : entries.filter((e) => inFinal.has(e.key));
    if (target.type === 'local') {
      const { exportLocalCache } = await import('../registry/cache-local.js');
      const done = await exportLocalCache({
        store,
        lease,
        dir: target.dest,
        fs: folderFs(target.fs, target.dest),
        tag: target.tag,
        entries: chosen,
        platform: parsePlatform(run.options.platform),
        signal,
      });
      out.push({ exporter: 'local', ref: target.dest, records: done.records, bytes: done.bytesWritten });
      continue;
    }
    const { exportCache } = await import('../registry/cache-remote.js');
    const done = await exportCache({
      ...run.options.registry,
      store,
      lease,
      ref: target.ref,
      entries: chosen,
      platform: run.options.platform,
      ...(signal ? { signal } : {}),
    });
    out.push({ exporter: 'registry', ref: done.ref, records: done.records, bytes: done.bytesUploaded });
  }
  return out;
}

/** Closes the build's cache sources. */
export async function closeRemoteCache(run: BuildRun): Promise<void> {
  const s = states.get(run.journal);
  if (!s) return;
  const sources = await s.sources.catch(() => []);
  await Promise.all(sources.map(({ source }) => source.close()));
}
