/**
 * The runtime's files in the store carry a format version and are read through a guard, as the
 * store's other state (issue 10): a truncated file of each kind is `ERR_STORE_CORRUPT` naming it
 * from the command that reads it (and gc and verify report it), a file of a newer version
 * `ERR_UNSUPPORTED`, never a container silently shown as never started. The runc probe cache lives outside the store and is only a
 * cache: a damaged one is probed again and rewritten, with its version.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runContainer, type Store } from '../../src/index.js';
import { runtimePaths } from '../../src/low-level.js';
import { RUNC_PROBE_VERSION } from '../../src/runtime/runc.js';
import { RUNTIME_FILES } from '../../src/runtime/state.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { runCli } from '../helpers/cli.js';
import { it } from '../helpers/fixtures.js';
import { runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();

/** Truncates a file to half its bytes, as a crash in the middle of a non-atomic write would. */
function truncate(path: string): void {
  const bytes = fs.readFileSync(path);
  expect(bytes.length).toBeGreaterThan(2);
  fs.writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

describe.skipIf(skip !== undefined)(`damaged runtime state${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });
  const S = () => ['--store', store.root];

  /** An exited container, its files written by the real runtime; `file` of it, as this layerkit wrote it. */
  async function exited(name: string, file: 'run' | 'exit' | 'monitor'): Promise<string> {
    const h = await runContainer({ store, image: 'busybox:test', name, cmd: ['true'], detach: true });
    ids.push(h.id);
    await h.wait();
    const paths = runtimePaths(store, name);
    if (file === 'monitor') fs.writeFileSync(paths.monitor, JSON.stringify({ pid: 1, version: 1 }));
    const path = paths[file];
    expect(JSON.parse(fs.readFileSync(path, 'utf8')).version).toBe(RUNTIME_FILES[file].version);
    return path;
  }

  it.for([
    ['run', ['ps', '-a']],
    ['run', ['inspect', 'NAME']],
    ['exit', ['inspect', 'NAME']],
    ['exit', ['wait', 'NAME']],
    ['monitor', ['ps', '-a']],
  ] as const)(
    'a truncated %s record: ERR_STORE_CORRUPT naming it from %j',
    async ([file, argv], { onTestFinished }) => {
      const name = `t-${file}-${argv[0]}`;
      const path = await exited(name, file);
      onTestFinished(() => {
        fs.rmSync(path, { force: true });
        return runCli([...S(), 'rm', '-f', name]).then(() => undefined);
      });
      truncate(path);
      const r = await runCli([...S(), ...argv.map((a) => (a === 'NAME' ? name : a))]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('error[ERR_STORE_CORRUPT]');
      expect(r.err).toContain(path);
      expect(r.err).toContain(RUNTIME_FILES[file].what);
    },
  );

  it('a run record of a newer version: ERR_UNSUPPORTED naming it, from ps', async ({ onTestFinished }) => {
    const path = await exited('t-newer', 'run');
    const record = JSON.parse(fs.readFileSync(path, 'utf8'));
    fs.writeFileSync(path, JSON.stringify({ ...record, version: RUNTIME_FILES.run.version + 1 }));
    onTestFinished(() => {
      fs.writeFileSync(path, JSON.stringify(record));
      return runCli([...S(), 'rm', '-f', 't-newer']).then(() => undefined);
    });
    const r = await runCli([...S(), 'ps', '-a']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /error\[ERR_UNSUPPORTED\]: container run record \S+ has format version 2, written by a newer/,
    );
    expect(r.err).toContain(path);
  });

  it('a truncated create record: ERR_STORE_CORRUPT naming it, from start', async ({ onTestFinished }) => {
    expect((await runCli([...S(), 'create', '--name', 't-created', 'busybox:test', 'true'])).code).toBe(0);
    const path = runtimePaths(store, 't-created').created;
    onTestFinished(() => {
      fs.rmSync(path, { force: true });
      return runCli([...S(), 'rm', '-f', 't-created']).then(() => undefined);
    });
    expect(JSON.parse(fs.readFileSync(path, 'utf8')).version).toBe(RUNTIME_FILES.created.version);
    truncate(path);
    const r = await runCli([...S(), 'start', 't-created']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[ERR_STORE_CORRUPT]');
    expect(r.err).toContain(path);
    expect((await runCli([...S(), 'gc'])).err).toContain(path);
    expect((await runCli([...S(), 'verify'])).code).toBe(3);
  });

  it('a truncated runc probe cache is probed again and rewritten with its version, and run works', async () => {
    const cache = join(tmpdir(), `layerkit-runc-probe-${process.getuid?.() ?? 0}.json`);
    if (!fs.existsSync(cache)) expect((await spawnCli([...S(), 'run', '--rm', 'busybox:test', 'true'])).code).toBe(0);
    truncate(cache);
    const r = await spawnCli([...S(), 'run', '--rm', 'busybox:test', 'true']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(JSON.parse(fs.readFileSync(cache, 'utf8'))).toMatchObject({ version: RUNC_PROBE_VERSION });
  });
});

describe.skipIf(skip !== undefined)('exited containers at the start of a run', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });
  const S = () => ['--store', store.root];

  it("are not read by run's reconciliation: another's damaged exit record stops neither run nor the cleanup of a crash; ps reports it", async ({
    onTestFinished,
  }) => {
    for (const name of ['x-1', 'x-2']) {
      const h = await runContainer({ store, image: 'busybox:test', name, cmd: ['true'] });
      ids.push(h.id);
      await h.wait();
    }
    const damaged = runtimePaths(store, 'x-1').exit;
    const good = fs.readFileSync(damaged);
    truncate(damaged);
    onTestFinished(() => fs.writeFileSync(damaged, good));
    // What a crash in the middle of `run --rm` leaves: runtime state whose container is gone.
    const crashed = runtimePaths(store, 'x-2');
    fs.rmSync(store.statePath('containers', 'x-2'), { recursive: true, force: true });
    expect(fs.existsSync(crashed.dir)).toBe(true);
    const r = await spawnCli([...S(), 'run', '--rm', 'busybox:test', 'true']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(fs.existsSync(crashed.dir)).toBe(false);
    const ps = await runCli([...S(), 'ps', '-a']);
    expect(ps.code).toBe(1);
    expect(ps.err).toContain('error[ERR_STORE_CORRUPT]');
    expect(ps.err).toContain(damaged);
  });
});
