/**
 * Shared pieces of the builder tests: contexts written from a table of files (on tmpfs), small
 * base images made straight into a store (an /etc/passwd with root and a user 1000, no tools
 * needed), and the image's flattened tree, files, config and step table to assert on.
 */
import * as fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { build } from '../../src/builder/build.js';
import type { StepRecord } from '../../src/builder/events.js';
import type { BuildOptions, BuildResult } from '../../src/builder/types.js';
import { addLayer } from '../../src/image/add-layer.js';
import type { Image } from '../../src/image/image.js';
import { flattenImage, listFlat, readFlatFile, type ListedEntry } from '../../src/image/listing.js';
import { hostPlatform } from '../../src/image/platform.js';
import { writeImage } from '../../src/image/write-image.js';
import type { ContainerConfig, History, ImageConfig } from '../../src/oci/types.js';
import { openStore, type Store } from '../../src/store/store.js';
import { compareTarPaths } from '../../src/tar/path.js';
import type { LayerEntryInput } from '../../src/tar/layer-writer.js';
import { TarWriter } from '../../src/tar/writer.js';
import { withTempDir } from '../helpers/tmp.js';
import type { MissFileChange, MissReason } from '../../src/builder/cache.js';

/** One file of a test context or image: text, or bytes/mode/mtime, a symlink, or a directory. */
export type FileSpec =
  | string
  | { content: string | Buffer; mode?: number; mtime?: number; uid?: number; gid?: number }
  | { symlink: string }
  | { dir: true; mode?: number; uid?: number; gid?: number };

/** A table of files by relative path (`src/app.js`). */
export type FileTable = Record<string, FileSpec>;

/** Fixed mtime for context files (seconds), so listings and fingerprints never depend on the clock. */
export const CONTEXT_MTIME = 1_600_000_000;

/** Writes `files` under `dir` (parents made as needed). */
export function writeFiles(dir: string, files: FileTable): void {
  for (const [path, spec] of Object.entries(files)) {
    const full = join(dir, path);
    fs.mkdirSync(dirname(full), { recursive: true });
    if (typeof spec !== 'string' && 'symlink' in spec) {
      fs.rmSync(full, { force: true });
      fs.symlinkSync(spec.symlink, full);
      continue;
    }
    if (typeof spec !== 'string' && 'dir' in spec) {
      fs.mkdirSync(full, { recursive: true });
      if (spec.mode !== undefined) fs.chmodSync(full, spec.mode);
      continue;
    }
    const content = typeof spec === 'string' ? spec : spec.content;
    fs.writeFileSync(full, content);
    fs.chmodSync(full, typeof spec === 'string' ? 0o644 : (spec.mode ?? 0o644));
    const mtime = typeof spec === 'string' ? CONTEXT_MTIME : (spec.mtime ?? CONTEXT_MTIME);
    fs.utimesSync(full, mtime, mtime);
  }
}

/** A new context folder under `parent` (a test's `tmp` or `fileTmp`) holding `files`. */
export function makeContext(parent: string, files: FileTable): { dir: string } {
  const dir = fs.mkdtempSync(join(parent, 'ctx-'));
  fs.chmodSync(dir, 0o755); // as a folder a user makes: COPY . copies the context root's mode
  writeFiles(dir, files);
  return { dir };
}

/**
 * Runs `fn` with a context folder holding `files`, removed however `fn` ends: for helpers that
 * build once and return what they built, so that their callers need no folder of their own.
 */
export function withContext<T>(files: FileTable, fn: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir((tmp) => fn(makeContext(tmp, files).dir), 'layerkit-build-ctx-');
}

/** A new disk store in a folder under `parent` (durable off, as tests want). */
export async function makeDiskStore(parent: string): Promise<{ store: Store; root: string }> {
  const root = join(fs.mkdtempSync(join(parent, 'disk-')), 'store');
  return { store: await openStore({ root, durable: false }), root };
}

/** The /etc/passwd and /etc/group of test base images: root, and `app` with uid and gid 1000. */
export const BASE_USERS: FileTable = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app user:/home/app:/bin/sh\n',
  'etc/group': 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n',
};

/** Options for {@link makeBaseImage}. */
export interface BaseImageOptions {
  store: Store;
  tag: string;
  /** Files of the one layer (default: {@link BASE_USERS}). */
  files?: FileTable;
  /** The execution defaults (`config.config`). */
  config?: ContainerConfig;
  history?: History[];
}

/** Writes a one-layer image into the store (directories for every parent, 0755, root-owned). */
export async function makeBaseImage({
  store,
  tag,
  files = BASE_USERS,
  config = {},
  history,
}: BaseImageOptions): Promise<Image> {
  const entries = new Map<string, LayerEntryInput>();
  const addDirs = (path: string): void => {
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent === '' || entries.has(parent)) return;
    addDirs(parent);
    entries.set(parent, {
      header: { path: parent, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: CONTEXT_MTIME },
    });
  };
  for (const [path, spec] of Object.entries(files)) {
    addDirs(path);
    if (typeof spec !== 'string' && 'symlink' in spec) {
      entries.set(path, {
        header: { path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: CONTEXT_MTIME, linkTarget: spec.symlink },
      });
    } else if (typeof spec !== 'string' && 'dir' in spec) {
      entries.set(path, {
        header: {
          path,
          type: 'directory',
          mode: spec.mode ?? 0o755,
          uid: spec.uid ?? 0,
          gid: spec.gid ?? 0,
          mtime: CONTEXT_MTIME,
        },
      });
    } else {
      const data = Buffer.from(typeof spec === 'string' ? spec : spec.content);
      const s: { mode?: number; uid?: number; gid?: number; mtime?: number } = typeof spec === 'string' ? {} : spec;
      entries.set(path, {
        header: {
          path,
          type: 'file',
          mode: s.mode ?? 0o644,
          uid: s.uid ?? 0,
          gid: s.gid ?? 0,
          mtime: s.mtime ?? CONTEXT_MTIME,
          size: data.length,
        },
        data,
      });
    }
  }
  const sorted = [...entries.values()].sort((a, b) => compareTarPaths(a.header.path, b.header.path));
  return store.withLease(async (lease) => {
    const layer = await addLayer({ store, entries: sorted, lease });
    const p = hostPlatform();
    const imageConfig: ImageConfig = {
      architecture: p.architecture,
      os: p.os,
      created: '2020-01-01T00:00:00Z',
      config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: history ?? [{ created: '2020-01-01T00:00:00Z', created_by: `base image ${tag}` }],
    };
    return writeImage({ store, config: imageConfig, layers: [layer.descriptor], tags: [tag], lease });
  });
}

/** The flattened tree of an image, by absolute path (`/etc/passwd`). */
export async function imageTree(store: Store, image: Image): Promise<Map<string, ListedEntry>> {
  const flat = await flattenImage({ store, image });
  return new Map(listFlat(flat, { recursive: true }).map((e) => [e.path, e]));
}

/** A file of an image as text (symlinks followed inside the image). */
export async function imageFile(store: Store, image: Image, path: string): Promise<string> {
  const flat = await flattenImage({ store, image });
  return readFlatFile(flat, path).toString('utf8');
}

/** `[instruction, status, first explanation kind]` per step, for table assertions. */
export type StepRow = [instruction: string, status: StepRecord['status'], kind?: string];

/** The step table of a build: only non-metadata steps unless `all`. */
export function stepRows(result: Pick<BuildResult, 'steps'>, options: { all?: boolean } = {}): StepRow[] {
  return result.steps
    .filter((s) => options.all === true || !s.metadata)
    .map(
      (s): StepRow =>
        s.status === 'built' && s.explanation?.[0]
          ? [s.instruction, s.status, s.explanation[0].kind]
          : [s.instruction, s.status],
    );
}

/** Builds from Dockerfile text and a table of context files in a fresh context; cleans the context up. */
export async function buildText(
  store: Store,
  dockerfile: string,
  files: FileTable = {},
  options: Partial<BuildOptions> = {},
): Promise<BuildResult> {
  return withContext(files, (context) => build({ store, context, dockerfileText: dockerfile, ...options }));
}

/** The `config.config` of a built image. */
export function containerConfig(result: BuildResult): ContainerConfig {
  return result.image.config.config ?? {};
}

/** One entry of a test tar. */
export interface TarSpec {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  data?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkTarget?: string;
}

/** The bytes of a small tar (for ADD), gzip-compressed when asked. */
export async function makeTar(entries: TarSpec[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const writer = new TarWriter();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    writer.stream.on('data', (c: Buffer) => chunks.push(c));
    writer.stream.on('end', resolve);
    writer.stream.on('error', reject);
  });
  for (const e of entries) {
    const data = e.data !== undefined ? Buffer.from(e.data) : undefined;
    await writer.add(
      {
        path: e.path,
        type: e.type,
        mode: e.mode ?? (e.type === 'file' ? 0o644 : 0o755),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? CONTEXT_MTIME,
        ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
        ...(data ? { size: data.length } : {}),
      },
      data,
    );
  }
  await writer.finish();
  await done;
  const tar = Buffer.concat(chunks);
  return options.gzip ? gzipSync(tar) : tar;
}

/**
 * The flattened tree of an image as `path → description`: `dir 755 0:0`, `file 644 0:0 "text"`,
 * `symlink 0:0 -> target`. Paths under `exclude` prefixes (and the prefixes) are left out.
 */
export async function describeTree(
  store: Store,
  image: Image,
  options: { exclude?: string[] } = {},
): Promise<Record<string, string>> {
  const flat = await flattenImage({ store, image });
  const out: Record<string, string> = {};
  const excluded = (p: string) => (options.exclude ?? []).some((x) => p === x || p.startsWith(`${x}/`));
  for (const e of listFlat(flat, { recursive: true })) {
    if (excluded(e.path)) continue;
    const owner = `${e.uid}:${e.gid}`;
    if (e.type === 'directory') out[e.path] = `dir ${e.mode.toString(8)} ${owner}`;
    else if (e.type === 'symlink') out[e.path] = `symlink ${owner} -> ${e.linkTarget ?? ''}`;
    else if (e.type === 'file' || e.type === 'hardlink')
      out[e.path] =
        `file ${e.mode.toString(8)} ${owner} ${JSON.stringify(readFlatFile(flat, e.path).toString('utf8'))}`;
    else out[e.path] = `${e.type} ${e.mode.toString(8)} ${owner}`;
  }
  return out;
}

/** The changed files of a `files` miss reason (undefined for any other kind). */
export function missFiles(reason: MissReason | undefined): MissFileChange[] | undefined {
  return reason?.kind === 'files' ? reason.files : undefined;
}
