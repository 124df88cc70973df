/**
 * Reading a container's rootfs from the host without leaving it: symlinks are resolved by hand
 * against the rootfs (an absolute link target means the rootfs, `..` stops at it), so an
 * image's `/etc/passwd -> /host/file` cannot make layerkit read the host's files.
 *
 * The rootfs is either a folder (the mounted overlay) or the overlay's layers before any mount
 * ({@link LayerStack}): then each name is looked up as overlayfs merges it, top layer first, a
 * whiteout (character device 0/0) hiding the name below, a file ending the search, a folder
 * merging with the folders of the same name below it down to an opaque one.
 */
import nodeFs from 'node:fs';
import { join } from 'node:path';

/** An overlay's layers, top first, each with the folders it marks opaque (relative, '' for its root). */
export interface LayerStack {
  layers: Array<{ dir: string; opaque: ReadonlySet<string> }>;
}

/** A container's root: a folder, or the layers an overlay will merge. */
export type RootfsView = string | LayerStack;

function lstat(path: string): nodeFs.Stats | undefined {
  try {
    return nodeFs.lstatSync(path);
  } catch {
    return undefined;
  }
}

const isWhiteout = (st: nodeFs.Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * The host path of `parts` (already free of symlinks and `..` in its parents) in a layer stack,
 * as overlayfs finds it, and its stats; undefined when the merged view has no such name.
 */
function lookupInLayers(stack: LayerStack, parts: string[]): { host: string; st: nodeFs.Stats } | undefined {
  // The layers whose folder at the current depth takes part in the merge, top first.
  let live = stack.layers;
  const top = live.findIndex((l) => l.opaque.has(''));
  if (top >= 0) live = live.slice(0, top + 1);
  const rootSt = lstat(stack.layers[0]!.dir);
  let found = rootSt && { host: stack.layers[0]!.dir, st: rootSt };
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join('/');
    const next: LayerStack['layers'] = [];
    found = undefined;
    for (const layer of live) {
      const host = join(layer.dir, rel);
      const st = lstat(host);
      if (st === undefined) continue;
      if (isWhiteout(st)) break;
      found ??= { host, st };
      if (!st.isDirectory()) break; // a file ends the search; below a folder, it ends the merge
      next.push(layer);
      if (layer.opaque.has(rel)) break;
    }
    if (found === undefined) return undefined;
    live = next;
  }
  return found;
}

function lstatIn(root: RootfsView, parts: string[]): { host: string; st: nodeFs.Stats } | undefined {
  if (typeof root !== 'string') return lookupInLayers(root, parts);
  const host = join(root, ...parts);
  const st = lstat(host);
  return st && { host, st };
}

/**
 * The host path `path` resolves to inside `root` (following symlinks inside it), or undefined.
 * In a layer stack, the path in the layer that provides the name.
 */
export function resolveInRoot(root: RootfsView, path: string, followLast = true): string | undefined {
  const todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const entry = lstatIn(root, [...done, c]);
    if (entry === undefined) return undefined;
    if (entry.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++hops > 40) return undefined;
      const target = nodeFs.readlinkSync(entry.host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    done.push(c);
  }
  return typeof root === 'string' ? join(root, ...done) : lookupInLayers(root, done)?.host;
}

/** A regular file's text inside the rootfs (undefined when missing or not a file). */
export function readInRoot(root: RootfsView, path: string): string | undefined {
  const host = resolveInRoot(root, path);
  if (host === undefined) return undefined;
  try {
    if (!nodeFs.statSync(host).isFile()) return undefined;
    return nodeFs.readFileSync(host, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where a command would be found, as runc's exec would look it up. */
export type CommandLookup = { found: true } | { found: false; exitCode: 126 | 127; reason: string };

/**
 * Looks `command` up in the rootfs the way execve + PATH search do (a name with a `/` is a path
 * from `cwd`), so a missing command gives 127 and a non-executable one 126 before runc starts.
 */
export function lookupCommand(root: RootfsView, command: string, env: string[], cwd: string): CommandLookup {
  const candidates: string[] = [];
  if (command.includes('/')) candidates.push(command.startsWith('/') ? command : `${cwd}/${command}`);
  else {
    const path = env.find((e) => e.startsWith('PATH='))?.slice(5);
    if (path === undefined) return { found: false, exitCode: 127, reason: `${command}: no PATH to search` };
    for (const dir of path.split(':')) candidates.push(`${dir || '.'}/${command}`);
  }
  let denied: string | undefined;
  for (const c of candidates) {
    const host = resolveInRoot(root, c.startsWith('/') ? c : `${cwd}/${c}`);
    if (host === undefined) continue;
    let st: nodeFs.Stats;
    try {
      st = nodeFs.statSync(host);
    } catch {
      continue;
    }
    if (st.isFile() && (st.mode & 0o111) !== 0) return { found: true };
    denied ??= `${c}: permission denied`;
    if (command.includes('/')) break;
  }
  if (denied) return { found: false, exitCode: 126, reason: denied };
  return {
    found: false,
    exitCode: 127,
    reason: command.includes('/')
      ? `${command}: no such file or directory`
      : `${command}: executable file not found in $PATH`,
  };
}
