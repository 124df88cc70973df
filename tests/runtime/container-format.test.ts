/**
 * The writable layer's two forms around a run: a container `run` makes is the kernel's from the
 * start (an empty overlay upper, no serialized layer, no union view built), and a container the
 * virtual shell saved is converted on its first run, keeping every change (files, whiteouts)
 * the shell made. A name already taken is refused and leaves the store as it was. A new
 * container's overlay is mounted by runc inside the container: nothing on the host to unmount.
 */
import * as fs from 'node:fs';
import { describe, expect } from 'vitest';
import {
  createContainer,
  diffContainer,
  execContainer,
  getContainer,
  loadImage,
  openContainer,
  runContainer,
  type Store,
  startContainer,
  stopContainer,
} from '../../src/index.js';
import { isMounted } from '../../src/low-level.js';
import { it } from '../helpers/fixtures.js';
import { collect, runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();

/** Every file and folder under `dir`, relative and sorted. */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

describe.skipIf(skip !== undefined)('the writable layer around a run', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  it('a container made by run is the kernel format from the start, with only the command in its upper', async () => {
    const h = await runContainer({ store, image: 'busybox:test', name: 'fresh', cmd: ['sh', '-c', 'echo x > /tmp/x'] });
    ids.push(h.id);
    expect((await h.wait()).exitCode).toBe(0);
    const info = getContainer({ store, name: 'fresh' });
    expect([info.format, info.state]).toEqual(['kernel', '']);
    const dir = store.statePath('containers', 'fresh');
    expect(fs.readdirSync(dir).sort()).toEqual(['container.json', 'upper', 'work']);
    expect(tree(`${dir}/upper`)).toEqual(['tmp', 'tmp/x']);
    expect((await diffContainer({ store, name: 'fresh' })).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'modified /tmp',
      'added /tmp/x',
    ]);
  });

  it('a name that is taken is refused, and the container that has it stays as it was', async () => {
    const dir = store.statePath('containers', 'fresh');
    const before = tree(dir).map((p) => [p, fs.lstatSync(`${dir}/${p}`).mtimeMs]);
    const record = fs.readFileSync(`${dir}/container.json`, 'utf8');
    await expect(runContainer({ store, image: 'busybox:test', name: 'fresh', cmd: ['true'] })).rejects.toMatchObject({
      code: 'ERR_CONTAINER',
      data: { name: 'fresh' },
    });
    expect(tree(dir).map((p) => [p, fs.lstatSync(`${dir}/${p}`).mtimeMs])).toEqual(before);
    expect(fs.readFileSync(`${dir}/container.json`, 'utf8')).toBe(record);
    await expect(runContainer({ store, image: 'busybox:test', name: '../x', cmd: ['true'] })).rejects.toMatchObject({
      code: 'ERR_CONTAINER',
    });
    expect(fs.existsSync(store.statePath('containers', '..', 'x'))).toBe(false);
  });

  it("a container the virtual shell saved is converted on its first run, keeping the shell's changes", async () => {
    await createContainer({ store, image: 'busybox:test', name: 'shell' });
    const box = await openContainer({ store, name: 'shell' });
    box.writeFileSync('/tmp/from-shell', 'shell\n');
    box.rmSync('/etc/group');
    await box.save();
    expect(getContainer({ store, name: 'shell' }).format).toBeUndefined();
    const h = await runContainer({
      store,
      container: 'shell',
      cmd: ['sh', '-c', 'cat /tmp/from-shell; test -e /etc/group || echo no-group; echo run > /tmp/from-run'],
    });
    ids.push(h.id);
    const r = await collect(h);
    expect([r.exitCode, r.out]).toEqual([0, 'shell\nno-group\n']);
    expect(getContainer({ store, name: 'shell' })).toMatchObject({ format: 'kernel', state: '' });
    expect((await diffContainer({ store, name: 'shell' })).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'modified /etc',
      'deleted /etc/group',
      'modified /tmp',
      'added /tmp/from-run',
      'added /tmp/from-shell',
    ]);
  });

  it("runc mounts a new container's overlay inside it: nothing on the host, exec --user still reads its passwd", async () => {
    const h = await runContainer({
      store,
      image: 'busybox:test',
      name: 'inside',
      cmd: ['sh', '-c', 'echo $$ > /tmp/pid; sleep 30'],
      detach: true,
    });
    ids.push(h.id);
    const rootfs = store.statePath('runtime', 'containers', 'inside', 'rootfs');
    expect(isMounted(rootfs)).toBe(false);
    expect(fs.readdirSync(rootfs)).toEqual([]);
    const r = await execContainer({
      store,
      name: 'inside',
      cmd: ['sh', '-c', 'id -u; id -g; cat /tmp/pid'],
      user: 'app',
    });
    expect([r.exitCode, r.stdout]).toEqual([0, '1000\n1000\n1\n']);
    await stopContainer({ store, name: 'inside', timeout: 0 });
    expect(tree(store.statePath('containers', 'inside', 'upper'))).toEqual(['tmp', 'tmp/pid']);
    // Started again, its upper holds the kernel's changes: mounted on the host, unmounted by its monitor.
    const again = await startContainer({ store, name: 'inside' });
    ids.push(again.id);
    expect(isMounted(rootfs)).toBe(true);
    await stopContainer({ store, name: 'inside', timeout: 0 });
    expect(isMounted(rootfs)).toBe(false);
  });

  it('a layer extracted with no record of its opaque folders gets one on its next run', async () => {
    const [diffId] = (await loadImage({ store, image: 'busybox:test' })).diffIds;
    const record = store.statePath('runtime', 'layers', diffId!.slice(7), 'opaque.json');
    const before = fs.readFileSync(record, 'utf8');
    fs.rmSync(record); // as an older layerkit left it
    const h = await runContainer({ store, image: 'busybox:test', name: 'backfill', cmd: ['true'] });
    ids.push(h.id);
    expect((await h.wait()).exitCode).toBe(0);
    expect(fs.readFileSync(record, 'utf8')).toBe(before);
    const config = JSON.parse(
      fs.readFileSync(store.statePath('runtime', 'containers', 'backfill', 'bundle', 'config.json'), 'utf8'),
    ) as { mounts: Array<{ destination: string; type: string }> };
    expect(config.mounts[0]).toMatchObject({ destination: '/', type: 'overlay' });
  });
});
