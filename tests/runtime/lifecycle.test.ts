/**
 * The lifecycle as a state machine, driven from two processes (this one, through the CLI's
 * main(), and a child `layerkit` process): create → start → pause → resume → stop → start → rm,
 * with the illegal transitions refused as ERR_CONTAINER_STATE. A detached container whose
 * starting CLI was SIGKILLed is still listed, its logs readable, stoppable and removable. After
 * the suite, nothing of it is left: no mount, no runc container, no cgroup.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listContainers, type Store } from '../../src/index.js';
import { readRunRecord } from '../../src/low-level.js';
import { runCli } from '../helpers/cli.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const CLI = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const skip = runtimeSkip();

/** The CLI in this process. */
const here = (argv: string[]) => runCli(argv);

/** The CLI in another process. */
const there = (argv: string[]) => spawnCli(argv);

describe.skipIf(skip !== undefined)('the container lifecycle, across processes', () => {
  let store: Store;
  let root: string;
  const status = (name: string) => listContainers({ store }).find((c) => c.name === name)?.status;
  const remember = (name: string) => {
    const id = readRunRecord(store, name)?.id;
    if (id && !ids.includes(id)) ids.push(id);
  };
  const ids = runtimeBlock((s) => {
    store = s;
    root = s.root;
  });

  it('create → start → pause → resume → stop → start → rm, illegal steps refused', async () => {
    const S = ['--store', root];
    const loop = 'trap "exit 7" TERM; while :; do sleep 0.1; done';
    expect((await here([...S, 'create', 'busybox:test', '--name', 'lc', '--', 'sh', '-c', loop])).code).toBe(0);
    expect(status('lc')).toBe('created');
    const refused = async (r: Promise<{ code: number | null; err: string }>) => {
      const { code, err } = await r;
      expect(code).toBe(1);
      expect(err).toMatch(/ERR_CONTAINER_STATE/);
    };
    await refused(here([...S, 'pause', 'lc']));
    await refused(here([...S, 'kill', 'lc']));

    expect((await there([...S, 'start', 'lc'])).code).toBe(0);
    remember('lc');
    expect(status('lc')).toBe('running');
    await refused(here([...S, 'start', 'lc']));
    await refused(here([...S, 'unpause', 'lc']));

    expect((await here([...S, 'pause', 'lc'])).code).toBe(0);
    const ps = await there([...S, 'ps', '--json']);
    expect(JSON.parse(ps.out.trim()).status).toBe('paused');
    await refused(there([...S, 'pause', 'lc']));
    const frozen = await here([...S, 'inspect', '--format', '{{.State.Status}} {{.State.Paused}}', 'lc']);
    expect(frozen.out).toBe('paused true\n');

    expect((await here([...S, 'unpause', 'lc'])).code).toBe(0);
    expect(status('lc')).toBe('running');

    expect((await there([...S, 'stop', '-t', '5', 'lc'])).code).toBe(0);
    expect(status('lc')).toBe('exited');
    const stopped = await here([...S, 'inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', 'lc']);
    expect(stopped.out).toBe('7 false\n'); // the trap ran: SIGTERM reached PID 1's handler

    expect((await here([...S, 'start', 'lc'])).code).toBe(0);
    remember('lc');
    expect(status('lc')).toBe('running');
    await refused(there([...S, 'rm', 'lc']));
    expect((await there([...S, 'rm', '-f', 'lc'])).code).toBe(0);
    expect(status('lc')).toBeUndefined();
    const missing = await here([...S, 'stop', 'lc']);
    expect(missing.err).toMatch(/ERR_NOT_FOUND/);
  }, 180_000);

  it('a detached container outlives the CLI that started it, even SIGKILLed', async () => {
    const child = spawn(
      TSX,
      [
        CLI,
        '--store',
        root,
        'run',
        '-d',
        '--name',
        'orphan',
        'busybox:test',
        'sh',
        '-c',
        'echo start; echo oops >&2; while :; do echo tick; sleep 0.2; done',
      ],
      { stdio: 'ignore', detached: true },
    );
    // Kill the CLI (and its process group) as soon as the monitor exists.
    const monitor = `${root}/layerkit/runtime/containers/orphan/monitor.json`;
    for (let i = 0; i < 600 && !fs.existsSync(monitor); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(monitor)).toBe(true);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // it had already exited
    }
    for (let i = 0; i < 200 && status('orphan') !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    remember('orphan');
    expect(status('orphan')).toBe('running');
    await new Promise((r) => setTimeout(r, 600));
    const logs = await there(['--store', root, 'logs', 'orphan']);
    expect(logs.out).toMatch(/^start\ntick\n(tick\n)+/);
    expect(logs.err).toBe('oops\n');
    expect((await here(['--store', root, 'stop', '-t', '1', 'orphan'])).code).toBe(0);
    expect(status('orphan')).toBe('exited'); // sh as PID 1 ignores SIGTERM: SIGKILL after 1 s
    expect((await here(['--store', root, 'wait', 'orphan'])).out).toBe('137\n');
    expect((await here(['--store', root, 'rm', 'orphan'])).code).toBe(0);
    expect(status('orphan')).toBeUndefined();
  }, 120_000);
});
