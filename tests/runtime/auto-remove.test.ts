/**
 * `run --rm` in the foreground: once the process has exited, the container goes first (its record,
 * then its writable layer and gc root) and its runtime state after, so a crash or a failure in
 * between never leaves a half-removed container, only runtime state whose container is gone, which
 * the next reconciliation removes. The failure is made by making the runtime folder's removal throw.
 */
import nodeFs from 'node:fs';
import { describe, expect, vi } from 'vitest';
import { listContainers, runContainer, type Store } from '../../src/index.js';
import { reconcileRuntime } from '../../src/low-level.js';
import { hasContainer } from '../../src/container/container-record.js';
import { it } from '../helpers/fixtures.js';
import { collect, runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();

describe.skipIf(skip !== undefined)('run --rm removes the container before its runtime state', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  it('removes the record, the writable layer and the gc root, then the runtime folder', async () => {
    const seen: string[] = [];
    const original = nodeFs.rmSync;
    const watch = vi.spyOn(nodeFs, 'rmSync').mockImplementation((...args) => {
      seen.push(String(args[0]));
      return original(...args);
    });
    try {
      const h = await runContainer({ store, image: 'busybox:test', name: 'rm-order', cmd: ['true'], autoRemove: true });
      ids.push(h.id);
      expect((await collect(h)).exitCode).toBe(0);
    } finally {
      watch.mockRestore();
    }
    const at = (path: string) => seen.lastIndexOf(path);
    const record = store.statePath('containers', 'rm-order', 'container.json');
    const layer = store.statePath('containers', 'rm-order');
    const root = store.statePath('roots', 'containers', 'rm-order.json');
    const runtime = store.statePath('runtime', 'containers', 'rm-order');
    for (const p of [record, layer, root, runtime]) expect(at(p), p).toBeGreaterThanOrEqual(0);
    expect(at(record)).toBeLessThan(at(layer));
    expect(at(layer)).toBeLessThan(at(runtime));
    expect(at(root)).toBeLessThan(at(runtime));
    for (const p of [layer, root, runtime]) expect(nodeFs.existsSync(p), p).toBe(false);
  });

  it('a runtime folder that cannot be removed: the exit still comes, the container is gone, reconciliation ends it', async () => {
    const runtime = store.statePath('runtime', 'containers', 'rm-stuck');
    const original = nodeFs.rmSync;
    const stuck = vi.spyOn(nodeFs, 'rmSync').mockImplementation((...args) => {
      if (String(args[0]) === runtime) throw Object.assign(new Error('EBUSY: resource busy'), { code: 'EBUSY' });
      return original(...args);
    });
    let exitCode: number;
    try {
      const h = await runContainer({
        store,
        image: 'busybox:test',
        name: 'rm-stuck',
        cmd: ['sh', '-c', 'exit 7'],
        autoRemove: true,
      });
      ids.push(h.id);
      exitCode = (await collect(h)).exitCode;
    } finally {
      stuck.mockRestore();
    }
    expect(exitCode).toBe(7);
    expect(hasContainer({ store, name: 'rm-stuck' })).toBe(false);
    expect(nodeFs.existsSync(store.statePath('containers', 'rm-stuck'))).toBe(false);
    expect(nodeFs.existsSync(store.statePath('roots', 'containers', 'rm-stuck.json'))).toBe(false);
    expect(nodeFs.existsSync(runtime)).toBe(true);
    expect(listContainers({ store, all: true }).map((c) => c.name)).not.toContain('rm-stuck');
    reconcileRuntime(store);
    expect(nodeFs.existsSync(runtime)).toBe(false);
  });
});
