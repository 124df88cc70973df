/**
 * A V8 code cache for the built CLI: most of a short command's time past Node's own start is V8
 * parsing and compiling the CLI's modules (about 1 MB of JavaScript for a cached `build`), work
 * that is the same on every run. Node 20 has no compile cache of its own (`module.enableCompileCache`
 * is Node 22), but V8 can serialize the bytecode of a CommonJS script (`vm.Script` `cachedData`),
 * so the built CLI is CommonJS (`dist/cli-main.cjs` and the chunks it shares with the library's
 * `require` build) and this hook compiles those files with the bytecode an earlier run left.
 *
 * - Entries are per command (the bytecode of the functions that command ran), per Node version,
 *   per file name, size and modification time (the chunks' names carry a hash of their content),
 *   and V8 checks each entry again (its version, flags and the source's length), so a stale or
 *   foreign entry is only compiled afresh and rewritten.
 * - Entries are written when the process exits, atomically (a temporary file renamed), and only
 *   for files compiled without one; a failure to read or write the cache never fails a command.
 * - The folder is `$LAYERKIT_COMPILE_CACHE`, else `$XDG_CACHE_HOME/layerkit/compile` or
 *   `~/.cache/layerkit/compile`, made mode 700. An entry is used only if the file belongs to the
 *   process's user and nobody else may write it: bytecode is code. `LAYERKIT_COMPILE_CACHE=0`
 *   turns the cache off.
 *
 * This file is bundled into `dist/cli.cjs` and must load nothing but Node's built-ins.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

/** Where the code cache lives, from the environment (undefined: off). */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.LAYERKIT_COMPILE_CACHE;
  if (set !== undefined && set !== '') return /^(0|off|false|no)$/i.test(set) ? undefined : set;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'layerkit', 'compile') : undefined;
}

/**
 * The cache key of a command line: the command's name (the first word that is neither an option
 * nor the value of `--store`), `help` for any help (a command's help runs little of it, and an
 * entry V8 accepts is never rewritten), or `main` for `--version` and the like.
 */
export function compileCacheKey(argv: readonly string[]): string {
  const help = (a: string | undefined) => a === '--help' || a === '-h';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (help(a)) return 'help';
    if (a === '--store') i++;
    else if (!a.startsWith('-')) {
      // `layerkit run IMG ls -h` is a run: only `COMMAND --help` is the command's help.
      if (help(argv[i + 1])) return 'help';
      return /^[a-z][a-z0-9-]{0,31}$/.test(a) ? a : 'other';
    }
  }
  return 'main';
}

/** Options for {@link installCompileCache}. */
export interface CompileCacheOptions {
  /** The folder whose `.cjs` files go through the cache (the built CLI's folder). */
  root: string;
  /** The cache folder ({@link compileCacheDir}); undefined: the hook is not installed. */
  dir: string | undefined;
  /** The entries' key ({@link compileCacheKey}): each command keeps the bytecode it runs. */
  key: string;
}

/** What {@link installCompileCache} did in this process. */
export interface CompileCache {
  /** Files compiled with an entry V8 accepted. */
  readonly hits: string[];
  /** Files compiled without one (none, or rejected): written by {@link CompileCache.flush}. */
  readonly misses: string[];
  /**
   * Writes the entries of the missed files (the bytecode of every function compiled so far) and
   * removes the entries of this key that this process did not use. Called on process exit.
   */
  flush(): void;
  /** Restores Node's own compile (tests). */
  uninstall(): void;
}

type Compile = (this: Module, content: string, filename: string) => unknown;

/** Installs the code cache for the `.cjs` files directly in `options.root`. */
export function installCompileCache(options: CompileCacheOptions): CompileCache {
  const hits: string[] = [];
  const misses: string[] = [];
  const fresh: { entry: string; script: Script }[] = [];
  const used = new Set<string>();
  const folder = options.dir && join(options.dir, `${process.version}-${process.arch}`, options.key);
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  let installed: Compile | undefined;
  const cache: CompileCache = {
    hits,
    misses,
    flush: () => {
      if (!folder || fresh.length === 0) return;
      try {
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        for (const { entry, script } of fresh.splice(0)) writeAtomic(join(folder, entry), script.createCachedData());
        for (const name of readdirSync(folder)) if (!used.has(name)) unlinkSync(join(folder, name));
      } catch {
        // A cache that cannot be written costs the next run its speed, nothing else.
      }
    },
    uninstall: () => {
      if (installed && proto._compile === installed) proto._compile = original;
    },
  };
  if (!folder) return cache;
  const compile: Compile = function (this: Module, content, filename) {
    // Only the CLI's own files, and only those that `vm.Script` runs exactly as Node would.
    if (dirname(filename) !== options.root || !filename.endsWith('.cjs') || content.startsWith('#!'))
      return original.call(this, content, filename);
    let entry: string;
    try {
      const st = statSync(filename, { bigint: true });
      entry = `${basename(filename)}.${st.size}.${st.mtimeNs}`;
    } catch {
      return original.call(this, content, filename);
    }
    used.add(entry);
    const cachedData = readEntry(join(folder, entry));
    const script = new Script(Module.wrap(content), {
      filename,
      cachedData,
      importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (cachedData && !script.cachedDataRejected) hits.push(filename);
    else {
      misses.push(filename);
      fresh.push({ entry, script });
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const require = createRequire(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  proto._compile = compile;
  installed = compile;
  return cache;
}

/**
 * An entry's bytes, if the file is the user's own and nobody else can write it (bytecode another
 * user could write would run as this one: `sudo` keeping `HOME` must not run the user's bytes as
 * root).
 */
function readEntry(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o022) !== 0) return undefined;
    if (process.geteuid && st.uid !== process.geteuid()) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < data.length) {
      const n = readSync(fd, data, at, data.length - at, at);
      if (n === 0) return undefined;
      at += n;
    }
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function writeAtomic(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
