/**
 * The fs contract: the `node:fs/promises` methods the virtual shell and every executor use, with
 * their Node signatures and Node-style errors. layerkit's `UnionFS` implements it, and so does
 * memfs's `fs.promises`; it lives here, below the shell and the builder, which both depend on it.
 */

/**
 * The filesystem an executor works on: the `node:fs/promises` methods a shell needs, with their
 * Node signatures and Node-style errors. layerkit's `UnionFS` implements it, and so does memfs's
 * `fs.promises`.
 */
export interface ExecutorFs {
  readFile(path: string): Promise<Buffer>;
  readFile(path: string, encoding: BufferEncoding): Promise<string>;
  writeFile(path: string, data: string | Uint8Array, options?: { mode?: number; flag?: string }): Promise<void>;
  appendFile(path: string, data: string | Uint8Array): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<ExecutorDirent[]>;
  stat(path: string): Promise<ExecutorStats>;
  lstat(path: string): Promise<ExecutorStats>;
  access(path: string, mode?: number): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string, mode?: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
  link(existing: string, newPath: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  lchown(path: string, uid: number, gid: number): Promise<void>;
  utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void>;
  truncate(path: string, length?: number): Promise<void>;
}

/** The `fs.Stats` fields executors use. */
export interface ExecutorStats {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  nlink: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** The `fs.Dirent` fields executors use. */
export interface ExecutorDirent {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}
