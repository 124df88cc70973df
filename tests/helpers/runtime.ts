/** Shared setup for the runtime tests: skip reason, a store with the busybox image, output collection, leftovers. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { openStore, runtimeUnavailable, type ContainerHandle, type Store } from '../../src/index.js';
import { cgroupDirsOf, mountedUnder, runcFor } from '../../src/low-level.js';
import { afterAll, expect } from 'vitest';
import { hasBusybox, makeBusyboxImage } from './busybox.js';
import { it } from './fixtures.js';

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

/** A disk store holding `busybox:test`, in a new folder under `parent` (a test's `tmp` or `fileTmp`). */
export async function busyboxStore(parent: string): Promise<Store> {
  const store = await openStore({ root: join(fs.mkdtempSync(join(parent, 'run-')), 'store'), durable: false });
  await makeBusyboxImage(store, 'busybox:test');
  return store;
}

/**
 * The set-up the runtime test blocks share; call it inside a `describe`. Before the block: a
 * {@link busyboxStore} in the file's fixture folder, handed to `onStore` (a block's own `beforeAll`
 * runs after this one, its own `afterAll` before the check). After it: nothing the block's containers made may be left on the
 * machine (mounts under the store, runc containers, cgroups of the ids the tests push into the
 * returned array). The folder itself goes with the file's `fileTmp`.
 */
export function runtimeBlock(onStore: (store: Store) => void): string[] {
  const ids: string[] = [];
  let store: Store | undefined;
  it.beforeAll(async ({ fileTmp }) => {
    store = await busyboxStore(fileTmp);
    onStore(store);
  }, 60_000);
  afterAll(() => {
    if (store) expect(leftovers(store, ids)).toEqual({ mounts: [], runc: [], cgroups: [] });
  });
  return ids;
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
