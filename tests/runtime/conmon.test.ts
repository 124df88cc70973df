/**
 * conmon as the monitor of detached containers: logs (its k8s-file lines read back as layerkit's),
 * the exit code from its exit file, OOM from the cgroup or its marker, `--rm`, a terminal kept
 * for a detached `-t`, and nothing left behind. Needs root, runc and conmon.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  containerLogs,
  inspectContainer,
  removeRuntime,
  runContainer,
  waitContainer,
  type Store,
} from '../../src/index.js';
import { hasConmon } from '../../src/runtime/monitor.js';
import { readRunRecord } from '../../src/low-level.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip() ?? (hasConmon() ? undefined : 'conmon is not installed (Debian package: conmon)');

describe.skipIf(skip !== undefined)(`conmon as the monitor${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  const logsOf = async (name: string) => {
    const out: Array<[string, string]> = [];
    for await (const l of containerLogs({ store, name })) out.push([l.stream, l.log]);
    return out;
  };

  it('keeps stdout and stderr apart, records the exit code, and the container is watched by conmon', async () => {
    const h = await runContainer({
      store,
      image: 'busybox:test',
      name: 'cm-logs',
      cmd: ['sh', '-c', 'echo out; echo err >&2; printf "no newline"; sleep 0.2; exit 3'],
      detach: true,
      monitor: 'conmon',
    });
    ids.push(h.id);
    expect(readRunRecord(store, 'cm-logs')?.monitor).toBe('conmon');
    expect((await waitContainer({ store, name: 'cm-logs' })).exitCode).toBe(3);
    const logs = await logsOf('cm-logs');
    expect(logs).toContainEqual(['stdout', 'out\n']);
    expect(logs).toContainEqual(['stderr', 'err\n']);
    expect(logs.map(([, t]) => t).join('')).toContain('no newline');
    const info = await inspectContainer({ store, name: 'cm-logs' });
    expect(info).toMatchObject({ status: 'exited', exitCode: 3, oomKilled: false });
    await removeRuntime({ store, name: 'cm-logs' });
  }, 60_000);

  it("the OOM killer: 137 and OOMKilled, from the cgroup (or conmon marker); no marker in the caller's folder", async () => {
    // conmon writes its marker into its working directory too: that must not be the caller's.
    const callersMarker = join(process.cwd(), 'oom');
    const hadOne = existsSync(callersMarker);
    const h = await runContainer({
      store,
      image: 'busybox:test',
      name: 'cm-oom',
      cmd: ['sh', '-c', 'tail /dev/zero'],
      resources: { memory: 64 << 20 },
      detach: true,
      monitor: 'conmon',
    });
    ids.push(h.id);
    expect(await waitContainer({ store, name: 'cm-oom' })).toMatchObject({ exitCode: 137, oomKilled: true });
    await removeRuntime({ store, name: 'cm-oom' });
    if (!hadOne) expect(existsSync(callersMarker)).toBe(false);
  }, 60_000);

  it('detached -t: the process has a terminal, its output is in the logs; --rm removes it', async () => {
    const r = await spawnCli([
      '--store',
      store.root,
      'run',
      '-d',
      '-t',
      '--name',
      'cm-tty',
      'busybox:test',
      'sh',
      '-c',
      'tty; test -t 0 && echo stdin-is-a-tty',
    ]);
    expect(r.code, r.err).toBe(0);
    const id = r.out.trim();
    ids.push(id);
    expect((await waitContainer({ store, name: 'cm-tty' })).exitCode).toBe(0);
    const text = (await logsOf('cm-tty')).map(([, t]) => t).join('');
    expect(text).toMatch(/^\/dev\/pts\/\d+\r?\n/);
    expect(text).toContain('stdin-is-a-tty');
    await removeRuntime({ store, name: 'cm-tty' });

    const rm = await runContainer({
      store,
      image: 'busybox:test',
      name: 'cm-rm',
      cmd: ['true'],
      detach: true,
      monitor: 'conmon',
      autoRemove: true,
    });
    ids.push(rm.id);
    expect((await rm.wait()).exitCode).toBe(0);
    for (let i = 0; i < 200 && (await inspectContainer({ store, name: 'cm-rm' }).catch(() => undefined)); i++)
      await new Promise((done) => setTimeout(done, 25));
    await expect(inspectContainer({ store, name: 'cm-rm' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  }, 90_000);

  it('without conmon as the monitor, a detached terminal is refused with a coded error', async () => {
    await expect(
      runContainer({ store, image: 'busybox:test', cmd: ['true'], detach: true, tty: true, monitor: 'layerkit' }),
    ).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});
