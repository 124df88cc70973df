/**
 * Contexts that live elsewhere, fetched into a temporary folder for one build (as `docker build
 * URL` and `buildx --build-context NAME=URL` have them): a git repository (`https://host/r.git`,
 * `git://`, `ssh://`, `git@host:r.git`, `file://`; `#REF:SUBDIR` picks a branch, tag or commit
 * and a folder) cloned shallow with the `git` CLI, submodules included, or an HTTP(S) tarball (plain, gzip…) fetched
 * with undici and unpacked with the layer reader's path rules: no entry above the root, none
 * written through a symlink of the archive. A URL's user and password reach git or the server
 * only: every message shows the URL without them.
 */
import nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { ErrorCodes, isLayerkitError, LayerkitError, throwIfAborted } from '../errors.js';
import { decompressStream } from '../tar/compression.js';
import { readTarEntries } from '../tar/read-tar-entries.js';

export { parseRemoteContext, type RemoteContext, redactUrl } from './remote-context-url.js';
import { type RemoteContext, redactUrl } from './remote-context-url.js';

/** Options for {@link fetchRemoteContext}. */
export interface FetchRemoteContextOptions {
  source: RemoteContext;
  /** How messages name it (`--build-context lib`, `the build context`). */
  what: string;
  /** The name of the one file a URL that is not a tarball becomes (`context`, or `Dockerfile` for a build's context). */
  plainFile?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * The proxy for an HTTP(S) URL (git has its own `http_proxy` rules): `HTTPS_PROXY`, `HTTP_PROXY`
   * and `NO_PROXY` of `env` (default process.env), or `proxy` (a URL, or false), as registries use them.
   */
  proxy?: { env?: NodeJS.ProcessEnv | undefined; proxy?: string | false | undefined } | undefined;
}

/** A fetched context: its folder, removed by `cleanup`. */
export interface FetchedContext {
  dir: string;
  cleanup: () => void;
}

/**
 * Fetches a remote context into a new temporary folder.
 * @throws `ERR_BUILD_CONTEXT` naming the context and the URL (without credentials): git failed,
 *   the server answered other than 200, the ref or subfolder does not exist; `ERR_UNSAFE_PATH`
 *   for a tarball entry above the root or through a symlink; `ERR_UNSUPPORTED` without `git`.
 */
export async function fetchRemoteContext(options: FetchRemoteContextOptions): Promise<FetchedContext> {
  throwIfAborted(options.signal);
  const fs = nodeFs;
  const root = fs.mkdtempSync(join(tmpdir(), 'layerkit-context-'));
  const cleanup = (): void => fs.rmSync(root, { recursive: true, force: true });
  try {
    const dir =
      options.source.kind === 'git'
        ? await fetchGit(root, options.source, options)
        : await fetchHttp(root, options.source, options);
    return { dir, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

function contextError(what: string, url: string, message: string, cause?: unknown): LayerkitError {
  const shown = redactUrl(url);
  return new LayerkitError(
    ErrorCodes.ERR_BUILD_CONTEXT,
    `${what} ${shown}: ${message}`,
    { url: shown, context: what },
    cause === undefined ? undefined : { cause },
  );
}

async function fetchGit(
  root: string,
  source: Extract<RemoteContext, { kind: 'git' }>,
  { what, signal }: FetchRemoteContextOptions,
): Promise<string> {
  const repo = join(root, 'repo');
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(source.url)?.[1];
  const git = (args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      process.getBuiltinModule('node:child_process').execFile(
        'git',
        args,
        {
          cwd: root,
          signal,
          maxBuffer: 1 << 20,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
        },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          if ((err as NodeJS.ErrnoException).code === 'ENOENT')
            return reject(
              new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `${what}: fetching a git context needs git (Debian: git)`, {
                package: 'git',
              }),
            );
          if (signal?.aborted) return reject(new LayerkitError(ErrorCodes.ERR_ABORTED, `${what}: aborted`, {}));
          // git may repeat the URL, password and all: only the redacted one is shown.
          let said = String(stderr).trim().split('\n').slice(-3).join('; ');
          if (userinfo) said = said.split(userinfo).join('');
          const sub = args.find((a) => ['init', 'fetch', 'checkout', 'submodule'].includes(a)) ?? 'command';
          reject(contextError(what, source.url, `git ${sub} failed: ${said}`));
        },
      );
    });
  await git(['init', '-q', repo]);
  await git([
    '-C',
    repo,
    '-c',
    'protocol.file.allow=always',
    'fetch',
    '-q',
    '--depth=1',
    '--no-tags',
    source.url,
    source.ref ?? 'HEAD',
  ]);
  await git(['-C', repo, '-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD']);
  // Submodules come along, shallow, as BuildKit's git source fetches them.
  if (nodeFs.existsSync(join(repo, '.gitmodules')))
    await git([
      '-C',
      repo,
      '-c',
      'protocol.file.allow=always',
      'submodule',
      'update',
      '-q',
      '--init',
      '--recursive',
      '--depth=1',
    ]);
  nodeFs.rmSync(join(repo, '.git'), { recursive: true, force: true });
  if (source.subdir === undefined) return repo;
  const parts = source.subdir.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw contextError(what, source.url, `subfolder ${source.subdir} leaves the repository`);
  const dir = join(repo, ...parts);
  let real: string;
  try {
    real = nodeFs.realpathSync(dir);
  } catch {
    throw contextError(what, source.url, `the repository has no folder ${source.subdir}`);
  }
  const top = nodeFs.realpathSync(repo);
  if (real !== top && !real.startsWith(top + sep))
    throw contextError(what, source.url, `subfolder ${source.subdir} is a symlink out of the repository`);
  if (!nodeFs.statSync(real).isDirectory())
    throw contextError(what, source.url, `${source.subdir} is not a folder of the repository`);
  return real;
}

async function fetchHttp(
  root: string,
  source: Extract<RemoteContext, { kind: 'http' }>,
  { what, signal, plainFile = 'context', proxy }: FetchRemoteContextOptions,
): Promise<string> {
  const { fetch } = await import('undici');
  // Loaded here, with undici: a build that fetches nothing loads neither (nor node:tls).
  const { openProxyDispatcher } = await import('../registry/proxy-dispatcher.js');
  let routed: Awaited<ReturnType<typeof openProxyDispatcher>>;
  try {
    routed = await openProxyDispatcher({ env: proxy?.env, proxy: proxy?.proxy });
    return await fetchHttpWith(root, source, { what, signal, plainFile }, fetch, routed?.dispatcher);
  } finally {
    await routed?.close().catch(() => undefined);
  }
}

async function fetchHttpWith(
  root: string,
  source: Extract<RemoteContext, { kind: 'http' }>,
  { what, signal, plainFile }: { what: string; signal: AbortSignal | undefined; plainFile: string },
  fetch: typeof import('undici').fetch,
  dispatcher: import('undici').Dispatcher | undefined,
): Promise<string> {
  const url = new URL(source.url);
  const headers: Record<string, string> = {};
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  let response: Awaited<ReturnType<typeof fetch>>;
  try {
    response = await fetch(url, {
      headers,
      redirect: 'follow',
      ...(signal ? { signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw new LayerkitError(ErrorCodes.ERR_ABORTED, `${what}: aborted`, {});
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    // A malformed proxy setting: its own coded error, naming the variable.
    if (isLayerkitError(cause))
      throw new LayerkitError(cause.code, `${what} ${redactUrl(source.url)}: ${cause.message}`, {
        ...cause.data,
        url: redactUrl(source.url),
      });
    throw contextError(
      what,
      source.url,
      `cannot fetch it (${cause?.code ?? cause?.message ?? (err as Error).message})`,
    );
  }
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel().catch(() => {});
    throw contextError(what, source.url, `the server answered ${response.status} ${response.statusText}`.trimEnd());
  }
  const dir = join(root, 'context');
  nodeFs.mkdirSync(dir);
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  const { head, rest } = await peek(decompressStream(body, signal ? { signal } : {}), 512);
  if (!looksLikeTar(head)) {
    // Not an archive: the context is that one file, as BuildKit's HTTP source makes it.
    const out = nodeFs.createWriteStream(join(dir, plainFile), { mode: 0o644 });
    for await (const chunk of rest) if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return dir;
  }
  try {
    await unpackContextTar(dir, rest, signal);
  } catch (err) {
    if (isLayerkitError(err)) {
      throw new LayerkitError(
        err.code,
        `${what} ${redactUrl(source.url)}: ${err.message}`,
        { ...err.data, url: redactUrl(source.url) },
        { cause: err },
      );
    }
    throw err;
  }
  return dir;
}

/** A tar header block: a ustar magic, or a valid checksum of an old-style header. */
function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  if (head.toString('latin1', 257, 262) === 'ustar') return true;
  const stored = Number.parseInt(head.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return head[0] !== 0 && stored === sum;
}

/** The first `n` bytes of a stream, and the whole stream again. */
async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(Buffer.from(r.value));
    length += r.value.length;
  }
  const head = Buffer.concat(seen).subarray(0, n);
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* seen;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, rest: rest() };
}

/**
 * Writes a context tarball's entries under `dir`. The reader already refuses names above the
 * root; here an entry whose parent is a symlink the archive made is refused too (`a -> /etc`
 * then `a/passwd`), and a hard link must name a file the archive wrote. Devices and FIFOs are
 * left out; modes and times are kept (the cache sees them).
 */
export async function unpackContextTar(
  dir: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<void> {
  const fs = nodeFs;
  const symlinks = new Set<string>();
  const files = new Set<string>();
  const dirTimes: Array<[string, number]> = [];
  const unsafe = (path: string, message: string): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_UNSAFE_PATH, `archive entry ${JSON.stringify(path)} ${message}`, { path });
  const throughSymlink = (path: string): string | undefined => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (symlinks.has(prefix)) return prefix;
    }
    return undefined;
  };
  for await (const { header, data } of readTarEntries(source, signal ? { signal } : {})) {
    const path = header.path;
    if (path === '') continue;
    const link = throughSymlink(path);
    if (link !== undefined) throw unsafe(path, `is written through the symlink ${JSON.stringify(link)}`);
    const target = join(dir, ...path.split('/'));
    fs.mkdirSync(dirname(target), { recursive: true });
    if (symlinks.has(path) || files.has(path)) fs.rmSync(target, { force: true });
    symlinks.delete(path);
    files.delete(path);
    switch (header.type) {
      case 'directory':
        fs.mkdirSync(target, { recursive: true, mode: header.mode & 0o7777 });
        fs.chmodSync(target, (header.mode & 0o7777) | 0o700);
        dirTimes.push([target, header.mtime]);
        break;
      case 'file':
        fs.writeFileSync(target, data, { mode: header.mode & 0o7777 });
        fs.chmodSync(target, header.mode & 0o7777);
        fs.utimesSync(target, header.mtime, header.mtime);
        files.add(path);
        break;
      case 'symlink':
        fs.symlinkSync(header.linkTarget ?? '', target);
        symlinks.add(path);
        break;
      case 'hardlink': {
        const to = header.linkTarget ?? '';
        if (!files.has(to) || throughSymlink(to) !== undefined)
          throw unsafe(path, `links to ${JSON.stringify(to)}, which is not a file of the archive`);
        fs.linkSync(join(dir, ...to.split('/')), target);
        files.add(path);
        break;
      }
      default:
        break;
    }
  }
  for (const [path, mtime] of dirTimes.reverse()) fs.utimesSync(path, mtime, mtime);
}
