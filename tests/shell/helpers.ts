/** Test helpers for the virtual shell: memfs trees, running scripts, snapshotting trees. */
import { posix } from 'node:path';
import { memfs } from 'memfs';
import type { ExecutorFs } from '../../src/union/fs-contract.js';
import { createVirtualShell, runShellScript } from '../../src/shell/index.js';
import type { Utility } from '../../src/shell/index.js';

/** One entry of a starting tree: file contents, or an object with mode / a symlink / a directory. */
export type TreeEntry =
  | string
  | { content?: string; mode?: number; symlink?: string; dir?: true; uid?: number; gid?: number };

/** A starting tree: relative paths to entries (parents are created). */
export type Tree = Record<string, TreeEntry>;

export const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000:App:/home/appuser:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
export const GROUP = 'root:x:0:\nappuser:x:1000:\nstaff:x:50:appuser\nnogroup:x:65534:\n';

/** A memfs volume holding `tree` under `root` (default `/`), plus /etc/passwd and /etc/group. */
export async function makeFs(tree: Tree = {}, options: { root?: string; etc?: boolean } = {}): Promise<ExecutorFs> {
  const { fs } = memfs({});
  const p = fs.promises as unknown as ExecutorFs;
  const root = options.root ?? '/';
  await p.mkdir(root, { recursive: true });
  if (options.etc !== false) {
    await p.mkdir('/etc', { recursive: true });
    await p.writeFile('/etc/passwd', PASSWD);
    await p.writeFile('/etc/group', GROUP);
    await p.mkdir('/tmp', { recursive: true });
  }
  await writeTree(p, root, tree);
  return p;
}

/** Writes a tree into an fs (memfs or node:fs/promises). */
export async function writeTree(fs: ExecutorFs, root: string, tree: Tree): Promise<void> {
  const ensureDir = async (dir: string): Promise<void> => {
    try {
      await fs.lstat(dir);
    } catch {
      await ensureDir(posix.dirname(dir));
      await fs.mkdir(dir);
      await fs.chmod(dir, 0o755);
    }
  };
  for (const [rel, entry] of Object.entries(tree)) {
    const path = posix.join(root, rel);
    await ensureDir(posix.dirname(path));
    if (typeof entry === 'string') {
      await fs.writeFile(path, entry);
      await fs.chmod(path, 0o644);
      continue;
    }
    if (entry.symlink !== undefined) {
      await fs.symlink(entry.symlink, path);
      continue;
    }
    if (entry.dir === true) await ensureDir(path);
    else await fs.writeFile(path, entry.content ?? '');
    await fs.chmod(path, entry.mode ?? (entry.dir === true ? 0o755 : 0o644));
    if (entry.uid !== undefined) await fs.chown(path, entry.uid, entry.gid ?? entry.uid);
  }
}

/** The outcome of one script run. */
export interface RunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a script with the virtual shell over `fs`. */
export async function run(
  script: string,
  options: {
    fs?: ExecutorFs;
    cwd?: string;
    env?: Record<string, string>;
    user?: string;
    stdin?: string;
    args?: string[];
    extraUtilities?: Record<string, Utility>;
    signal?: AbortSignal;
  } = {},
): Promise<RunOutcome> {
  const fs = options.fs ?? (await makeFs());
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const r = await runShellScript({
    script,
    fs,
    cwd: options.cwd ?? '/',
    env: options.env ?? { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' },
    user: options.user ?? '',
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
    ...(options.stdin === undefined ? {} : { stdin: Buffer.from(options.stdin) }),
    ...(options.args === undefined ? {} : { args: options.args }),
    ...(options.extraUtilities === undefined ? {} : { extraUtilities: options.extraUtilities }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: r.exitCode };
}

/** Runs an argv through the executor's `run()`. */
export async function runArgv(
  argv: string[],
  options: { fs?: ExecutorFs; cwd?: string; env?: Record<string, string>; user?: string } = {},
): Promise<RunOutcome> {
  const fs = options.fs ?? (await makeFs());
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const r = await createVirtualShell().run({
    argv,
    fs,
    cwd: options.cwd ?? '/',
    env: options.env ?? { PATH: '/usr/local/bin:/usr/bin:/bin' },
    user: options.user ?? '',
    stdout: (c) => out.push(c),
    stderr: (c) => err.push(c),
  });
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: r.exitCode };
}

/** One entry of a tree snapshot. */
export interface SnapshotEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: string;
  content?: string;
  target?: string;
}

/** Every entry under `root` (sorted, relative), with type, permission bits and contents. */
export async function snapshot(
  fs: ExecutorFs,
  root: string,
  options: { skip?: (rel: string) => boolean } = {},
): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  const visit = async (dir: string): Promise<void> => {
    const names = (await fs.readdir(dir)).sort();
    for (const name of names) {
      const path = posix.join(dir, name);
      const rel = posix.relative(root, path);
      if (options.skip?.(rel) === true) continue;
      const st = await fs.lstat(path);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push({ path: rel, type: 'symlink', mode: '-', target: await fs.readlink(path) });
      else if (st.isDirectory()) {
        out.push({ path: rel, type: 'dir', mode });
        await visit(path);
      } else if (st.isFile())
        out.push({ path: rel, type: 'file', mode, content: (await fs.readFile(path)).toString('latin1') });
      else out.push({ path: rel, type: 'other', mode });
    }
  };
  await visit(root);
  return out;
}

/**
 * A test double for the union view's ownership behaviour, which memfs lacks: memfs enforces
 * permission bits against the test process (no root bypass), so a file given to uid 1000 can
 * no longer be written. This wrapper records `chown`/`lchown` instead of applying them and
 * reports the recorded owners from `stat`/`lstat`, like a filesystem that keeps owners as data.
 */
export function ownershipFs(inner: ExecutorFs): ExecutorFs & { owners: Map<string, [number, number]> } {
  const owners = new Map<string, [number, number]>();
  const withOwner = async (path: string, st: Awaited<ReturnType<ExecutorFs['stat']>>, follow: boolean) => {
    const key = follow ? await inner.realpath(path).catch(() => path) : path;
    const o = owners.get(key);
    if (o === undefined) return st;
    return Object.assign(Object.create(Object.getPrototypeOf(st) as object) as object, st, {
      uid: o[0],
      gid: o[1],
    }) as typeof st;
  };
  const overrides: Partial<Record<keyof ExecutorFs, unknown>> = {
    chown: async (path: string, uid: number, gid: number) => {
      owners.set(await inner.realpath(path), [uid, gid]);
    },
    lchown: async (path: string, uid: number, gid: number) => {
      await inner.lstat(path);
      owners.set(path, [uid, gid]);
    },
    stat: async (path: string) => withOwner(path, await inner.stat(path), true),
    lstat: async (path: string) => withOwner(path, await inner.lstat(path), false),
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'owners') return owners;
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof ExecutorFs];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as ExecutorFs & { owners: Map<string, [number, number]> };
}
