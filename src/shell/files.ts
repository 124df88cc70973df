/**
 * Opening files for commands: output files for redirections and utilities (created with the
 * umask applied and owned by the running user, truncated or appended), input files, and the
 * virtual devices `/dev/null`, `/dev/stdin`, `/dev/stdout`, `/dev/stderr` and `/dev/fd/N`,
 * which never touch the filesystem.
 */
import { posix } from 'node:path';
import type { ExecutorFs, ExecutorStats } from '../union/fs-contract.js';
import type { FdTable } from './runtime.js';
import { nullWriter, type Writer } from './io.js';
import type { ResolvedUser } from './users.js';

/** Where and as whom a command creates files. */
export interface FileEnv {
  fs: ExecutorFs;
  cwd: string;
  umask: number;
  user: ResolvedUser;
}

/** An error opening a file, with the message the shell prints (`can't create x: ...`). */
export class OpenError extends Error {
  override readonly name = 'OpenError';
}

/** The fd a virtual device path stands for (`/dev/stdout` → 1), or undefined. */
export function deviceFd(path: string): number | undefined {
  switch (path) {
    case '/dev/stdin':
      return 0;
    case '/dev/stdout':
      return 1;
    case '/dev/stderr':
      return 2;
    default: {
      const m = /^\/dev\/fd\/([0-9]+)$/.exec(path);
      return m ? Number(m[1]) : undefined;
    }
  }
}

/** True for the devices the shell provides itself (`/dev/null`, `/dev/stdin`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`). */
export function isVirtualDevice(absPath: string): boolean {
  return absPath === '/dev/null' || deviceFd(absPath) !== undefined;
}

/** Stats for a virtual device when the filesystem has no such entry: a character device, mode 0666. */
export const DEVICE_STATS: ExecutorStats = {
  mode: 0o20666,
  uid: 0,
  gid: 0,
  size: 0,
  mtimeMs: 0,
  nlink: 1,
  isFile: () => false,
  isDirectory: () => false,
  isSymbolicLink: () => false,
  isFIFO: () => false,
  isCharacterDevice: () => true,
  isBlockDevice: () => false,
};

/** Gives a newly created path to the running user; root needs nothing. */
export async function ownCreated(env: FileEnv, path: string, options: { symlink?: boolean } = {}): Promise<void> {
  if (env.user.uid === 0 && env.user.gid === 0) return;
  if (options.symlink === true) await env.fs.lchown(path, env.user.uid, env.user.gid);
  else await env.fs.chown(path, env.user.uid, env.user.gid);
}

async function statOrUndefined(
  fs: ExecutorFs,
  path: string,
): Promise<{ isDirectory(): boolean; isFile(): boolean } | undefined> {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}

function createErrorText(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'nonexistent directory';
  if (code === 'ENOTDIR') return 'Not a directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EISDIR') return 'Is a directory';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens an output file: creates it (mode `0666 & ~umask`, owned by the user), truncates it
 * unless `append`, refuses to overwrite under `noclobber`. Writes go straight to the file.
 * @throws OpenError with the shell's message.
 */
export async function openOutputFile(
  env: FileEnv,
  path: string,
  options: { append: boolean; noclobber?: boolean; fds?: FdTable },
): Promise<Writer> {
  if (path === '/dev/null') return nullWriter;
  const dev = deviceFd(path);
  if (dev !== undefined && options.fds !== undefined) return options.fds.output(dev);
  const abs = posix.resolve(env.cwd, path);
  const st = await statOrUndefined(env.fs, abs);
  if (st?.isDirectory() === true) throw new OpenError(`can't create ${path}: Is a directory`);
  try {
    if (st === undefined) {
      await env.fs.writeFile(abs, '', { mode: 0o666 & ~env.umask });
      await env.fs.chmod(abs, 0o666 & ~env.umask);
      await ownCreated(env, abs);
    } else if (!options.append) {
      if (options.noclobber === true && st.isFile()) throw new OpenError(`can't create ${path}: File exists`);
      await env.fs.truncate(abs, 0);
    }
  } catch (err) {
    if (err instanceof OpenError) throw err;
    throw new OpenError(`can't create ${path}: ${createErrorText(err)}`);
  }
  return {
    write: async (data) => {
      if (data.length > 0) await env.fs.appendFile(abs, data);
    },
  };
}

/**
 * Reads an input file (`/dev/null` is empty).
 * @throws the fs error (ENOENT, EISDIR...).
 */
export async function readInputFile(env: FileEnv, path: string): Promise<Uint8Array> {
  if (path === '/dev/null') return new Uint8Array(0);
  const abs = posix.resolve(env.cwd, path);
  const st = await env.fs.stat(abs);
  if (st.isDirectory()) {
    const err = new Error(`EISDIR: illegal operation on a directory, read '${abs}'`) as Error & { code: string };
    err.code = 'EISDIR';
    throw err;
  }
  return env.fs.readFile(abs);
}
