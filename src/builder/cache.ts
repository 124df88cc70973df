/**
 * The build cache, kept in the store so every process shares it. A filesystem step's key is the
 * hash of its components (parent key, canonical expanded instruction, the ARG/ENV it sees where
 * they matter, and the content digest of its inputs); the components themselves are kept too,
 * per Dockerfile position, so a miss can be explained by diffing them against the last build of
 * the same step. Records are gc roots for their layer blobs.
 */
import { digestHex, sha256, type Digest } from '../digest/digest.js';
import { canonicalJson } from '../oci/canonical-json.js';
import type { Descriptor } from '../oci/types.js';
import { LayerkitError } from '../errors.js';
import type { GcRoot } from '../store/gc.js';
import { removeRoot, rootNames, setRoot } from '../store/roots.js';
import { defineState } from '../store/state.js';
import type { Store } from '../store/store.js';
import { describeFingerprintChange, digestInputs, type InputSet } from './content-digest.js';
import { envToMap } from './state.js';
import { dropBuildMemos } from './build-memo-state.js';

/** What a step's cache key is made of. */
export interface KeyComponents {
  /** The previous filesystem step's key, or the base image's manifest digest (`scratch` for none). */
  parent: string;
  /** The instruction as it will run: expanded, canonical. */
  instruction: string;
  /** RUN: the environment (`K=V`, sorted), user, working directory, shell. */
  env?: string[];
  user?: string;
  workdir?: string;
  platform?: string;
  /** RUN: which executor ran it (`virtual-shell`, `linux`): they may produce different layers. */
  executor?: string;
  /** COPY/ADD `--chown`: the uid:gid the name resolved to (a `--link` copy has no parent to change instead). */
  owner?: string;
  /** The build's SOURCE_DATE_EPOCH: the layer's mtimes are clamped to it, so it shapes every layer. */
  sourceDateEpoch?: number;
  /** RUN in shell form: the SHELL its command is wrapped in (`["/bin/sh","-c"]`). */
  shell?: string[];
  /** COPY/ADD, and RUN bind mounts: every input's fingerprint, by path (a mount's as `mount TARGET: path`). */
  inputs?: InputSet;
  /** RUN `--mount`s as they apply (expanded): type, target, id, source... (never contents). */
  mounts?: Array<Record<string, unknown>>;
  /** RUN `--network` and `--security`, when not the defaults. */
  network?: string;
  security?: string;
}

/** A cached result. */
export interface CacheRecord {
  key: Digest;
  layer: Descriptor;
  diffId: Digest;
  created: string;
  durationMs: number;
  /** When a build last reused it (absent until the first reuse: then `created` counts). */
  lastUsed?: string;
}

const ROOT_KIND = 'build-cache';
const FIX = "remove it, or drop the build cache with 'layerkit gc --prune-cache'";

/** Build-cache records, owned here: `cache/records/<key hex>.json`, each a gc root (kind `build-cache`). */
export const CACHE_RECORDS = defineState<CacheRecord>({
  folder: 'cache/records',
  version: 1,
  what: 'build cache record',
  fix: FIX,
  check: (v) => {
    const r = v as Partial<CacheRecord>;
    return typeof r.key === 'string' && typeof r.diffId === 'string' && typeof r.layer?.digest === 'string'
      ? undefined
      : 'is not a build cache record';
  },
});

/** The key components each Dockerfile position last used (for explanations): `cache/positions/<id>/<stage>-<n>.json`. */
export const CACHE_POSITIONS = defineState<KeyComponents>({
  folder: 'cache/positions',
  version: 1,
  what: 'build cache position',
  fix: FIX,
  // Explanations only: a crash may lose one (the next miss is explained less), never corrupt one.
  durable: false,
});

/** Build-cache records in gc: their roots keep their layers; a damaged record is reported. */
export const buildCacheGcRoot: GcRoot = {
  name: 'build cache records',
  mark(store) {
    const damaged = CACHE_RECORDS.scan(store).damaged;
    for (const id of store.listState(CACHE_POSITIONS.folder)) {
      for (const file of store.listState(`${CACHE_POSITIONS.folder}/${id}`)) {
        if (!file.endsWith('.json')) continue;
        try {
          CACHE_POSITIONS.read(store, `${id}/${file.slice(0, -'.json'.length)}`);
        } catch (err) {
          if (!(err instanceof LayerkitError)) throw err;
          damaged.push(err);
        }
      }
    }
    return { damaged };
  },
};

/** Drops the whole build cache: records (and their roots) and positions. */
export function dropBuildCacheRecords(store: Store): number {
  const names = [...new Set([...CACHE_RECORDS.names(store), ...rootNames(store, ROOT_KIND)])];
  for (const name of names) {
    removeRoot(store, ROOT_KIND, name);
    CACHE_RECORDS.remove(store, name);
  }
  store.removeState(CACHE_POSITIONS.folder);
  dropBuildMemos(store);
  return names.length;
}

/** The key of a set of components. */
export function cacheKey(c: KeyComponents): Digest {
  const { inputs, ...rest } = c;
  return sha256(canonicalJson({ v: 1, ...rest, ...(inputs ? { inputs: digestInputs(inputs) } : {}) }));
}

/** Looks up a record whose layer blob is still in the store (a missing blob is a miss, never an error). */
export function lookupRecord(store: Store, key: Digest): CacheRecord | undefined {
  const record = CACHE_RECORDS.read(store, digestHex(key));
  if (!record) return undefined;
  const stat = store.blobs.stat(record.layer.digest);
  return stat && stat.size === record.layer.size ? record : undefined;
}

/** Whether a record exists but its blob is gone (for the explanation). */
export function recordBlobMissing(store: Store, key: Digest): boolean {
  return CACHE_RECORDS.read(store, digestHex(key)) !== undefined && lookupRecord(store, key) === undefined;
}

/** Stores a record and makes its layer a gc root. */
export function saveRecord(store: Store, record: CacheRecord): void {
  // The step's one fsync: the record. Its root is written atomically but not synced: losing it in a
  // crash only lets gc collect the layer, and then the record is a miss (lookupRecord checks the blob).
  setRoot(
    store,
    ROOT_KIND,
    digestHex(record.key),
    { digests: [record.layer.digest], diffIds: [record.diffId] },
    { durable: false },
  );
  CACHE_RECORDS.write(store, digestHex(record.key), record);
}

/** Notes that a build reused the record now (what a prune by age or size looks at). */
export function touchRecord(store: Store, record: CacheRecord, now: number = Date.now()): void {
  // lastUsed only orders a prune: not worth an fsync per cache hit.
  CACHE_RECORDS.write(
    store,
    digestHex(record.key),
    { ...record, lastUsed: new Date(now).toISOString() },
    { durable: false },
  );
}

/** When the record was last used (made or reused), in ms since the epoch. */
export function recordLastUsed(record: CacheRecord): number {
  const t = Date.parse(record.lastUsed ?? record.created);
  return Number.isNaN(t) ? 0 : t;
}

/** Every cache record in the store (a damaged one is `ERR_STORE_CORRUPT` naming it). */
export function listCacheRecords(store: Store): CacheRecord[] {
  return CACHE_RECORDS.names(store).flatMap((name) => {
    const record = CACHE_RECORDS.read(store, name);
    return record ? [record] : [];
  });
}

/** Removes one record and its gc root (its layer goes at the next gc unless something else uses it). */
export function removeCacheRecord(store: Store, key: Digest): void {
  removeRoot(store, ROOT_KIND, digestHex(key));
  CACHE_RECORDS.remove(store, digestHex(key));
  // A memo summarises records: one that answered from this record must not outlive it.
  dropBuildMemos(store);
}

/** Where a step stands: which Dockerfile (by context and file), which stage, which instruction. */
export interface StepPosition {
  dockerfileId: string;
  stage: string;
  step: number;
}

/** The identity of a Dockerfile for positions: its context folder and path. */
export function dockerfileId(contextDir: string, dockerfile: string): string {
  return digestHex(sha256(`${contextDir}\0${dockerfile}`)).slice(0, 32);
}

function positionName(p: StepPosition): string {
  return `${p.dockerfileId}/${encodeURIComponent(p.stage)}-${p.step}`;
}

/** The components recorded for this position by the last build, if any. */
export function lastComponents(store: Store, p: StepPosition): KeyComponents | undefined {
  const value = CACHE_POSITIONS.read(store, positionName(p)) as (KeyComponents & { version?: number }) | undefined;
  if (value === undefined) return undefined;
  // The file's format version is not a component (a miss must not be explained by it).
  const { version: _version, ...components } = value;
  return components;
}

/** Records the components used at this position (after the step ran or hit). */
export function savePosition(store: Store, p: StepPosition, c: KeyComponents): void {
  CACHE_POSITIONS.write(store, positionName(p), c);
}

/** A structured reason for a miss. */
/** Why a step missed the cache, one kind per cause (the explain, progress and history code switch on them). */
export type MissKind =
  | 'no-previous-build'
  | 'no-cache'
  | 'blob-missing'
  | 'remote-invalid'
  | 'parent'
  | 'base-image'
  | 'instruction'
  | 'env'
  | 'shell'
  | 'owner'
  | 'source-date-epoch'
  | 'user'
  | 'workdir'
  | 'platform'
  | 'executor'
  | 'network'
  | 'security'
  | 'mounts'
  | 'files';

/** One changed input file of a `files` miss. */
export interface MissFileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  /** What changed in a modified file (content, mode, owner...). */
  detail?: string;
}

/** One reason a step missed: a `files` reason lists the changed files, the others say it in their message. */
export type MissReason =
  | { kind: 'files' /** One human line. */; message: string; files: MissFileChange[] }
  | { kind: Exclude<MissKind, 'files'> /** One human line. */; message: string };

/**
 * The lines that explain a miss, for any display: a `files` reason gives one line per file
 * (`path change (detail)`), every other kind its message. Reasons of kinds this version does not
 * know (a record written by a later one) show their message.
 */
export function missReasonLines(reason: MissReason): Array<{ text: string; file?: MissFileChange }> {
  switch (reason.kind) {
    case 'files':
      if (reason.files.length === 0) return [{ text: reason.message }];
      return reason.files.map((f) => ({ text: `${f.path} ${f.change}${f.detail ? `: ${f.detail}` : ''}`, file: f }));
    case 'no-previous-build':
    case 'no-cache':
    case 'blob-missing':
    case 'remote-invalid':
    case 'parent':
    case 'base-image':
    case 'instruction':
    case 'env':
    case 'shell':
    case 'owner':
    case 'source-date-epoch':
    case 'user':
    case 'workdir':
    case 'platform':
    case 'executor':
    case 'network':
    case 'security':
    case 'mounts':
      return [{ text: reason.message }];
    default: {
      const unknown: never = reason;
      return [{ text: String((unknown as { message?: unknown }).message ?? '') }];
    }
  }
}

/**
 * Explains why `now` missed, by comparing it with the components the last build recorded for
 * the same position.
 */
export function explainMiss(before: KeyComponents | undefined, now: KeyComponents): MissReason[] {
  if (before === undefined) return [{ kind: 'no-previous-build', message: 'no earlier build of this step' }];
  const reasons: MissReason[] = [];
  if (before.instruction !== now.instruction) {
    reasons.push({ kind: 'instruction', message: `the instruction changed: was \`${before.instruction}\`` });
  }
  if (before.parent !== now.parent) {
    const isImage = (s: string) => s === 'scratch' || s.startsWith('image:');
    reasons.push(
      isImage(before.parent) || isImage(now.parent)
        ? {
            kind: 'base-image',
            message: `the base image changed: ${before.parent.replace(/^image:/, '')} → ${now.parent.replace(/^image:/, '')}`,
          }
        : { kind: 'parent', message: 'an earlier step produced a different result (the parent layer changed)' },
    );
  }
  // Another kind of instruction now stands here (a RUN where a COPY was): its other components
  // were never comparable, and listing them would only be noise.
  const keyword = (c: KeyComponents) => c.instruction.split(/\s/, 1)[0]!.toUpperCase();
  if (keyword(before) !== keyword(now)) return reasons;
  if (JSON.stringify(before.env ?? []) !== JSON.stringify(now.env ?? [])) {
    const b = envToMap(before.env ?? []);
    const a = envToMap(now.env ?? []);
    const changes: string[] = [];
    for (const k of new Set([...b.keys(), ...a.keys()])) {
      if (b.get(k) === a.get(k)) continue;
      if (!b.has(k)) changes.push(`${k} added (=${a.get(k)})`);
      else if (!a.has(k)) changes.push(`${k} removed (was ${b.get(k)})`);
      else changes.push(`${k}: ${b.get(k)} → ${a.get(k)}`);
    }
    reasons.push({ kind: 'env', message: `ARG/ENV changed: ${changes.sort().join(', ')}` });
  }
  if (JSON.stringify(before.shell ?? []) !== JSON.stringify(now.shell ?? [])) {
    reasons.push({
      kind: 'shell',
      message: `SHELL changed: ${JSON.stringify(before.shell ?? [])} → ${JSON.stringify(now.shell ?? [])}`,
    });
  }
  if ((before.owner ?? '') !== (now.owner ?? '')) {
    reasons.push({
      kind: 'owner',
      message: `--chown resolves to another owner: ${before.owner || '(none)'} → ${now.owner || '(none)'}`,
    });
  }
  if (before.sourceDateEpoch !== now.sourceDateEpoch) {
    const show = (e: number | undefined) => (e === undefined ? '(none)' : String(e));
    reasons.push({
      kind: 'source-date-epoch',
      message: `sourceDateEpoch changed (it clamps the layer's mtimes): ${show(before.sourceDateEpoch)} → ${show(now.sourceDateEpoch)}`,
    });
  }
  const labels = {
    user: 'USER',
    workdir: 'WORKDIR',
    platform: 'platform',
    executor: 'the executor',
    network: 'the network (RUN --network, or the build network)',
    security: 'RUN --security',
  } as const;
  const unset = { network: 'default', security: 'sandbox' } as Record<string, string>;
  for (const field of ['user', 'workdir', 'platform', 'executor', 'network', 'security'] as const) {
    const show = (v: string | undefined) => v || (unset[field] ?? '(none)');
    if ((before[field] ?? '') !== (now[field] ?? ''))
      reasons.push({ kind: field, message: `${labels[field]} changed: ${show(before[field])} → ${show(now[field])}` });
  }
  if (JSON.stringify(before.mounts ?? []) !== JSON.stringify(now.mounts ?? [])) {
    const show = (m: Array<Record<string, unknown>> | undefined) =>
      (m ?? [])
        .map((x) =>
          Object.entries(x)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(','),
        )
        .join(' ') || '(none)';
    reasons.push({ kind: 'mounts', message: `RUN --mount changed: ${show(before.mounts)} → ${show(now.mounts)}` });
  }
  if (before.inputs !== undefined || now.inputs !== undefined) {
    const b = before.inputs ?? {};
    const a = now.inputs ?? {};
    const files: MissFileChange[] = [];
    for (const path of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
      if (b[path] === a[path]) continue;
      if (b[path] === undefined) files.push({ path, change: 'added' });
      else if (a[path] === undefined) files.push({ path, change: 'removed' });
      else files.push({ path, change: 'modified', detail: describeFingerprintChange(b[path]!, a[path]!) });
    }
    if (files.length > 0) {
      const shown = files.slice(0, 3).map((f) => `${f.path} ${f.change}${f.detail ? `: ${f.detail}` : ''}`);
      reasons.push({
        kind: 'files',
        message: `${files.length === 1 ? 'a source file changed' : `${files.length} source files changed`}: ${shown.join('; ')}${files.length > 3 ? `; and ${files.length - 3} more` : ''}`,
        files,
      });
    }
  }
  if (reasons.length === 0)
    reasons.push({
      kind: 'no-previous-build',
      message: 'no cached result for this key (the cache was pruned or the layer removed)',
    });
  return reasons;
}
