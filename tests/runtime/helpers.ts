/** Shared setup for the runtime tests: skip reason, a store with the busybox image, output collection, leftovers. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { openStore, runtimeUnavailable, type ContainerHandle, type Store } from '../../src/index.js';
import { cgroupDirsOf, mountedUnder, runcFor } from '../../src/low-level.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { makeTempDir } from '../helpers/tmp.js';

/** Why the runtime tests cannot run here (naming the Debian package), or undefined. */
export function runtimeSkip(): string | undefined {
  const why = runtimeUnavailable();
  if (why) return `${why} (Debian package: runc; the tests need root)`;
  if (!hasBusybox()) return 'busybox is not installed (Debian package: busybox-static); .ci/run installs it';
  try {
    execFileSync('sh', ['-c', 'command -v setfattr && command -v getfattr'], { stdio: 'ignore' });
  } catch {
    return 'setfattr/getfattr are not installed (Debian package: attr)';
  }
  return undefined;
}

/** A disk store on tmpfs holding `busybox:test`. */
export async function busyboxStore(): Promise<{ store: Store; dir: string; cleanup: () => void }> {
  const tmp = makeTempDir('layerkit-run-');
  const store = await openStore({ root: `${tmp.path}/store`, durable: false });
  await makeBusyboxImage(store, 'busybox:test');
  return { store, dir: tmp.path, cleanup: tmp.cleanup };
}

/** Collects a piped handle's stdout and stderr until it exits. */
export async function collect(
  handle: ContainerHandle,
): Promise<{ out: string; err: string; exitCode: number; oomKilled: boolean }> {
  let out = '';
  let err = '';
  handle.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  handle.stderr?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const ended = (s: NodeJS.ReadableStream | undefined) =>
    s ? new Promise<void>((resolve) => s.once('end', () => resolve())) : Promise.resolve();
  const [exit] = await Promise.all([handle.wait(), ended(handle.stdout), ended(handle.stderr)]);
  return { out, err, exitCode: exit.exitCode, oomKilled: exit.oomKilled };
}

/** What a store's containers left on the machine: mounts under it, runc containers, cgroups of known ids. */
export function leftovers(store: Store, ids: string[]): { mounts: string[]; runc: string[]; cgroups: string[] } {
  return {
    mounts: mountedUnder(store.root),
    runc: fs.existsSync(store.statePath('runtime', 'runc')) ? runcFor(store).list() : [],
    cgroups: ids.flatMap((id) => cgroupDirsOf(id)),
  };
}
