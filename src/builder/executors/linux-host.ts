/**
 * What the host offers the Linux executor: whether it can run here at all, with which isolation,
 * and whether slirp4netns is there. Apart from the executor itself, so that the `auto` executor
 * can decide (its choice is part of every RUN's cache key, so a fully cached build decides too)
 * without loading the code that mounts overlays and starts runc.
 */
import nodeFs from 'node:fs';
import { onPath, runtimeUnavailable } from '../../runtime/runc.js';

/** The isolation the executor uses by default here: `oci` where runc works, else `chroot`. */
export function defaultIsolation(): 'oci' | 'chroot' {
  return runtimeUnavailable() === undefined ? 'oci' : 'chroot';
}

/**
 * Host tools found on PATH, looked up in-process once per process: the auto executor asks at every
 * build (its choice is part of RUN's cache key), and five `sh -c 'command -v …'` cost a fully
 * cached build about 20 ms of its start.
 */
const toolFound = new Map<string, boolean>();
function hasTool(tool: string): boolean {
  let found = toolFound.get(tool);
  if (found === undefined) {
    found = onPath(tool) !== undefined;
    toolFound.set(tool, found);
  }
  return found;
}

/** True when slirp4netns (Debian package slirp4netns) and the tun device are there. */
export function hasSlirp4netns(): boolean {
  return nodeFs.existsSync('/dev/net/tun') && hasTool('slirp4netns');
}

/** Why the linux executor cannot run here (with that isolation, default: the host's), or undefined when it can. */
export function linuxExecutorUnavailable(isolation?: 'oci' | 'chroot'): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux';
  if (process.getuid?.() !== 0) return 'it needs root (namespaces and an overlay mount)';
  const mode = isolation ?? defaultIsolation();
  if (mode === 'oci') {
    const why = runtimeUnavailable();
    if (why) return `its oci isolation needs runc: ${why}`;
  }
  for (const tool of mode === 'oci' ? ['getfattr', 'mount'] : ['unshare', 'chroot', 'getfattr', 'mount', 'setpriv']) {
    if (!hasTool(tool))
      return `it needs ${tool} (${tool === 'getfattr' ? 'Debian package attr' : 'util-linux / coreutils'})`;
  }
  return undefined;
}
