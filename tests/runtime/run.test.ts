/**
 * `runContainer` / `layerkit run` on runc: a real process in namespaces over a kernel overlay of
 * the image's extracted layers. Output, PID 1, hostname, exit codes (the command's, 127, 126,
 * 128+N), the writable layer being exactly what the process changed, and nothing left behind.
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import {
  commitContainer,
  diffContainer,
  flattenImage,
  gcStore,
  listFlat,
  loadImage,
  removeImage,
  removeRuntime,
  runContainer,
  type Store,
} from '../../src/index.js';
import { busyboxStore, collect, leftovers, runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();

describe.skipIf(skip !== undefined)('runContainer (foreground)', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  const run = async (cmd: string[], extra: Partial<Parameters<typeof runContainer>[0]> = {}) => {
    const handle = await runContainer({ store, image: 'busybox:test', cmd, autoRemove: true, ...extra });
    ids.push(handle.id);
    return collect(handle);
  };

  it('runs the command as PID 1 with its own hostname, no network but loopback', async () => {
    const r = await run([
      'sh',
      '-c',
      'echo $$; cat /proc/1/cmdline | tr "\\0" " "; hostname; uname -n; ls /sys/class/net',
    ]);
    expect(r.exitCode).toBe(0);
    const [pid1, cmdline, host, nets] = r.out.trimEnd().split('\n');
    expect(pid1).toBe('1');
    expect(cmdline!.trim()).toMatch(/^sh -c echo \$\$;/);
    expect(host).toMatch(/^[0-9a-f]{12}$/);
    expect(nets).toBe('lo');
  });

  it.each([
    [['sh', '-c', 'exit 3'], 3],
    [['nosuchcommand'], 127],
    [['/etc/passwd'], 126],
  ])('%j exits %i', async (cmd, code) => {
    const r = await run(cmd).catch((err: { code: string; data: { exitCode: number } }) => {
      expect(err.code).toBe('ERR_CONTAINER_COMMAND');
      return { exitCode: err.data.exitCode };
    });
    expect(r.exitCode).toBe(code);
  });

  it('killed by a signal: 128+N (PID 1 ignores signals it has no handler for, but not SIGKILL)', async () => {
    const handle = await runContainer({ store, image: 'busybox:test', cmd: ['sleep', '30'], autoRemove: true });
    ids.push(handle.id);
    await handle.kill('TERM'); // dropped by the kernel: sleep is PID 1 and has no handler
    await new Promise((r) => setTimeout(r, 200));
    await handle.kill('KILL');
    expect((await handle.wait()).exitCode).toBe(137);
  });

  it('stats come from the cgroup: a busy loop under --cpus 0.5 stays near half a CPU', async () => {
    const handle = await runContainer({
      store,
      image: 'busybox:test',
      cmd: ['sh', '-c', 'while :; do :; done'],
      resources: { cpus: 0.5, memory: 32 << 20, pids: 10 },
      detach: true,
      autoRemove: true,
    });
    ids.push(handle.id);
    const stats = await handle.stats();
    expect(stats.cpuPercent).toBeGreaterThan(0);
    expect(stats.cpuPercent).toBeLessThan(75); // the quota: 50 ms of CPU per 100 ms (sampling adds a little)
    expect(stats.memoryLimit).toBe(32 << 20);
    expect(stats.memoryUsage).toBeGreaterThan(0);
    expect([stats.pids, stats.pidsLimit]).toEqual([1, 10]);
    await handle.kill('KILL');
    expect((await handle.wait()).exitCode).toBe(137);
  });

  it("the writable layer is the process's changes, seen by diff and commit", async () => {
    const handle = await runContainer({
      store,
      image: 'busybox:test',
      name: 'changes',
      cmd: ['sh', '-c', 'echo made > /tmp/made && rm /etc/group && mkdir -p /var/x && echo $(hostname) > /var/x/h'],
    });
    ids.push(handle.id);
    expect((await handle.wait()).exitCode).toBe(0);
    const changes = await diffContainer({ store, name: 'changes' });
    expect(changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      'modified /etc',
      'deleted /etc/group',
      'modified /tmp',
      'added /tmp/made',
      'added /var',
      'added /var/x',
      'added /var/x/h',
    ]);
    const { image } = await commitContainer({ store, name: 'changes', tags: ['changed:1'] });
    const flat = listFlat(await flattenImage({ store, image }), { recursive: true }).map((e) => e.path);
    expect(flat).toContain('/tmp/made');
    expect(flat).not.toContain('/etc/group');
    expect(flat.filter((p) => /^\/(proc|sys|dev)\b|^\/etc\/(hosts|hostname|resolv\.conf|mtab)$/.test(p))).toEqual([]);
    // A second run continues the same writable layer.
    const again = await runContainer({ store, container: 'changes', cmd: ['cat', '/tmp/made'] });
    ids.push(again.id);
    expect((await collect(again)).out).toBe('made\n');
  });
});

describe.skipIf(skip !== undefined)('extracted layers', () => {
  it('are made once per diffID, shared, and collected by gc with their image', async ({ tmp }) => {
    const store = await busyboxStore(tmp);
    const [diffId] = (await loadImage({ store, image: 'busybox:test' })).diffIds;
    const dir = store.statePath('runtime', 'layers', diffId!.slice(7), 'fs');
    for (const name of ['one', 'two']) {
      const h = await runContainer({ store, image: 'busybox:test', name, cmd: ['true'] });
      await h.wait();
    }
    expect(fs.readdirSync(store.statePath('runtime', 'layers'))).toEqual([diffId!.slice(7)]);
    expect(fs.existsSync(`${dir}/bin/busybox`)).toBe(true);
    await removeImage({ store, ref: 'busybox:test' });
    await gcStore({ store });
    expect(fs.existsSync(dir)).toBe(true); // the containers still use it
    for (const name of ['one', 'two']) await removeRuntime({ store, name });
    await gcStore({ store });
    expect(fs.existsSync(dir)).toBe(false);
    expect(leftovers(store, [])).toEqual({ mounts: [], runc: [], cgroups: [] });
  }, 60_000);
});
