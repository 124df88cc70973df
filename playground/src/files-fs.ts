/**
 * The build context of the page: a folder made of the editor's files, served through the small
 * `fs.promises` subset a layerkit build context reads (`context: { fs, dir }`). Every file
 * carries an explicit mode (a page has no umask) and the time it was last edited, so the build's
 * content-hash cache sees an edit even when the size stays the same.
 */

/** One file of the playground: text, a mode, and when it last changed. */
export interface PlaygroundFile {
  /** Relative path, `/`-separated (`src/index.js`). */
  path: string;
  /** The contents (ignored for a symlink). */
  text: string;
  /** Permission bits (default 0o644). */
  mode?: number;
  /** A symlink's target: then the entry is a symlink, not a file. */
  link?: string;
  /** Milliseconds since the epoch of the last edit (default 0). */
  mtimeMs?: number;
}

interface Node {
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  data: Uint8Array;
  link: string;
  mtimeMs: number;
  ino: number;
  children: Map<string, Node>;
}

const encoder = new TextEncoder();

function fsError(code: 'ENOENT' | 'ENOTDIR', call: string, path: string): Error {
  const text = code === 'ENOENT' ? 'no such file or directory' : 'not a directory';
  return Object.assign(new Error(`${code}: ${text}, ${call} '${path}'`), { code, path, syscall: call });
}

/**
 * A read-only filesystem holding `files` under the folder `dir` (absolute, `/ctx`): what
 * `build({ context: { fs, dir } })` takes. Parent folders are made as needed (mode 0o755).
 */
export function filesFs(dir: string, files: readonly PlaygroundFile[]) {
  let ino = 1;
  const folder = (): Node => ({
    kind: 'directory',
    mode: 0o755,
    data: new Uint8Array(0),
    link: '',
    mtimeMs: 0,
    ino: ino++,
    children: new Map(),
  });
  const root = folder();
  const top = dir.split('/').filter(Boolean);
  const place = (segments: string[], leaf: Node): void => {
    let at = root;
    for (const name of segments.slice(0, -1)) {
      let next = at.children.get(name);
      if (next === undefined) at.children.set(name, (next = folder()));
      at = next;
    }
    at.children.set(segments.at(-1)!, leaf);
  };
  place(top, folder());
  for (const f of files) {
    const segments = [...top, ...f.path.split('/').filter(Boolean)];
    place(segments, {
      kind: f.link !== undefined ? 'symlink' : 'file',
      mode: f.mode ?? 0o644,
      data: f.link !== undefined ? new Uint8Array(0) : encoder.encode(f.text),
      link: f.link ?? '',
      mtimeMs: f.mtimeMs ?? 0,
      ino: ino++,
      children: new Map(),
    });
  }
  const find = (call: string, path: string, follow: boolean): Node => {
    let at = root;
    const segments = path.split('/').filter(Boolean);
    for (let i = 0; i < segments.length; i++) {
      if (at.kind !== 'directory') throw fsError('ENOTDIR', call, path);
      const next = at.children.get(segments[i]!);
      if (next === undefined) throw fsError('ENOENT', call, path);
      at = next;
      if (at.kind === 'symlink' && (follow || i < segments.length - 1)) {
        const base = at.link.startsWith('/') ? '' : `/${segments.slice(0, i).join('/')}`;
        return find(call, `${base}/${at.link}/${segments.slice(i + 1).join('/')}`, follow);
      }
    }
    return at;
  };
  const stats = (n: Node) => ({
    isFile: () => n.kind === 'file',
    isDirectory: () => n.kind === 'directory',
    isSymbolicLink: () => n.kind === 'symlink',
    mode: (n.kind === 'directory' ? 0o040000 : n.kind === 'symlink' ? 0o120000 : 0o100000) | n.mode,
    size: n.kind === 'symlink' ? n.link.length : n.data.length,
    mtimeMs: n.mtimeMs,
    ctimeMs: n.mtimeMs,
    ino: n.ino,
  });
  return {
    promises: {
      stat: async (path: string) => stats(find('stat', path, true)),
      lstat: async (path: string) => stats(find('lstat', path, false)),
      readdir: async (path: string) => {
        const n = find('scandir', path, true);
        if (n.kind !== 'directory') throw fsError('ENOTDIR', 'scandir', path);
        return [...n.children.keys()].sort();
      },
      readFile: async (path: string) => find('open', path, true).data,
      readlink: async (path: string) => find('readlink', path, false).link,
    },
  };
}
