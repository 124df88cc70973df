/**
 * A build context filesystem in plain JavaScript, for the browser bundle test: files held in a
 * Map, served through the `fs.promises` subset layerkit's `context: { fs, dir }` takes (as
 * isomorphic-git injects `fs`). No synchronous reads, so the context reads its files when opened.
 * The same file runs in the page and in Node, so both build from identical inputs.
 */

const enoent = (path) => Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });

/**
 * @param {string} dir the context folder (`/ctx`)
 * @param {Record<string, string>} files paths relative to `dir` → text
 * @param {number} mtimeMs the files' modification time
 */
export function createMapFs(dir, files, mtimeMs) {
  const nodes = new Map();
  let ino = 1;
  const stats = (type, mode, size, mtime) => ({
    isFile: () => type === 'file',
    isDirectory: () => type === 'directory',
    isSymbolicLink: () => false,
    mode,
    size,
    mtimeMs: mtime,
    ctimeMs: mtime,
    ino: ino++,
  });
  const addDir = (path) => {
    if (nodes.has(path)) return;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (path !== '/') addDir(parent);
    nodes.set(path, { type: 'directory', stat: stats('directory', 0o40755, 0, mtimeMs) });
  };
  const write = (rel, text, mtime) => {
    const path = `${dir}/${rel}`;
    addDir(path.slice(0, path.lastIndexOf('/')));
    const data = new TextEncoder().encode(text);
    nodes.set(path, { type: 'file', data, stat: stats('file', 0o100644, data.length, mtime) });
  };
  addDir(dir);
  for (const [rel, text] of Object.entries(files)) write(rel, text, mtimeMs);
  const get = (path) => {
    const node = nodes.get(path.length > 1 ? path.replace(/\/+$/, '') : path);
    if (node === undefined) throw enoent(path);
    return node;
  };
  return {
    promises: {
      stat: async (path) => get(path).stat,
      lstat: async (path) => get(path).stat,
      readdir: async (path) => {
        get(path);
        const prefix = path === '/' ? '/' : `${path}/`;
        return [...nodes.keys()]
          .filter((p) => p.startsWith(prefix) && p !== path && !p.slice(prefix.length).includes('/'))
          .map((p) => p.slice(prefix.length));
      },
      readFile: async (path) => {
        const node = get(path);
        if (node.type !== 'file') throw Object.assign(new Error(`EISDIR: '${path}'`), { code: 'EISDIR' });
        return node.data;
      },
      readlink: async (path) => {
        throw Object.assign(new Error(`EINVAL: '${path}'`), { code: 'EINVAL' });
      },
    },
    /** Replaces a file's text (and its modification time), as an editor would. */
    writeFile: (rel, text, mtime) => write(rel, text, mtime),
  };
}
