/**
 * Reading a container's rootfs from the host without leaving it: symlinks are resolved by hand
 * against the rootfs (an absolute link target means the rootfs, `..` stops at it), so an
 * image's `/etc/passwd -> /host/file` cannot make layerkit read the host's files.
 */
import nodeFs from 'node:fs';
import { join } from 'node:path';

/** The host path `path` resolves to inside `root` (following symlinks inside it), or undefined. */
export function resolveInRoot(root: string, path: string, followLast = true): string | undefined {
  const todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, c);
    let st: nodeFs.Stats;
    try {
      st = nodeFs.lstatSync(host);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++hops > 40) return undefined;
      const target = nodeFs.readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    done.push(c);
  }
  return join(root, ...done);
}

/** A regular file's text inside the rootfs (undefined when missing or not a file). */
export function readInRoot(root: string, path: string): string | undefined {
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
export function lookupCommand(root: string, command: string, env: string[], cwd: string): CommandLookup {
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
