/**
 * Transfer progress as a user sees it: `layerkit pull` and `push` as whole processes on a
 * pseudo-terminal (util-linux script(1)) against a real registry, their output played through a
 * small terminal emulator. What stays on screen: a bar per blob with its final status
 * ("pulled", "mounted", "exists") and size, a total with bytes and speed, then the summary line;
 * nothing left "downloading", no live row wider than the terminal.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { openStore, type Image } from '../../src/index.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { REPO_ROOT } from '../helpers/dist.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { Terminal } from '../cli/progress-terminal.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { makeImage, noise } from './images.js';

const missing = registryTestbedMissing() ?? (hasTool('script') ? undefined : missingToolMessage('script'));
const BIN = join(REPO_ROOT, 'src/cli/bin.ts');

describe.skipIf(missing !== undefined)(`pull and push progress on a terminal${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  let image: Image;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    tmp = fileTmp;
    const store = await openStore({ root: join(tmp, 'a') });
    image = await makeImage(store, 'app:1', [{ 'big/file': noise(3_000_000) }, { 'small/file': 'small\n' }]);
  });
  afterAll(async () => {
    await bed?.stop();
  });

  /** Runs the CLI on a pseudo-terminal 80 columns wide; resolves the screen it leaves. */
  function onTerminal(args: string[]): { code: number | null; screen: string; terminal: Terminal } {
    const command = [process.execPath, '--import', 'tsx', BIN, ...args]
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', `stty cols 80 rows 24; ${command}`, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: join(tmp, 'home'), TERM: 'xterm' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const terminal = new Terminal();
    terminal.write(r.stdout);
    return { code: r.status, screen: terminal.screen(), terminal };
  }

  const short = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

  it('pull: a bar per blob ending "pulled", a total with speed, the summary; push: "mounted", then "exists"', () => {
    const host = bed.plain!.host;
    const push = onTerminal(['--store', join(tmp, 'a'), 'push', 'app:1', `${host}/tty/app:1`]);
    expect(push.code, push.screen).toBe(0);
    const pull = onTerminal(['--store', join(tmp, 'b'), 'pull', `${host}/tty/app:1`]);
    expect(pull.code, pull.screen).toBe(0);
    const rows = pull.screen.trimEnd().split('\n');
    const blobs = [image.manifest.config, ...image.layers];
    for (const b of blobs) {
      const row = rows.find((r) => r.startsWith(short(b.digest)));
      expect(row, pull.screen).toMatch(/ {2}pulled {6}█+ \S+$/);
    }
    expect(
      rows.some((r) => /downloading|waiting/.test(r)),
      pull.screen,
    ).toBe(false);
    expect(rows.at(-2)).toMatch(/^total {9}3\/3 {9}3(\.\d+)?MB moved, [\d.]+k?MB\/s$/);
    expect(rows.at(-1)).toBe(
      `pulled ${host}/tty/app:1 ${image.descriptor.digest} (3 of 3 blobs downloaded, ${rows.at(-2)!.match(/(\S+) moved/)![1]})`,
    );
    expect(pull.terminal.seen.up).toBeGreaterThan(0); // redrawn in place, not one line per update
    // the live rows fit the terminal (the summary after them is a plain line, which may wrap)
    expect(Math.max(...rows.slice(0, -1).map((r) => [...r].length))).toBeLessThanOrEqual(80);

    // the same blobs into another repository are mounted; again, they exist
    const mount = onTerminal(['--store', join(tmp, 'a'), 'push', 'app:1', `${host}/tty/copy:1`]);
    expect(mount.code, mount.screen).toBe(0);
    for (const b of blobs) expect(mount.screen).toMatch(new RegExp(`${short(b.digest)} {2}mounted`));
    expect(mount.screen).toMatch(/\(0 of 3 blobs uploaded, 0B; 3 mounted from another repository\)/);
    const again = onTerminal(['--store', join(tmp, 'a'), 'push', 'app:1', `${host}/tty/copy:1`]);
    for (const b of blobs) expect(again.screen).toMatch(new RegExp(`${short(b.digest)} {2}exists`));
    expect(again.screen).toMatch(/\(0 of 3 blobs uploaded, 0B\)/);
  });

  it('pull --platform of a single-platform image of another platform warns, and keeps it', async () => {
    const ref = `${bed.plain!.host}/tty/app:1`;
    const env = { PATH: process.env.PATH, HOME: join(tmp, 'home') };
    const other = await spawnCli(['pull', '--store', join(tmp, 'c'), '--platform', 'linux/s390x', ref], {
      cleanEnv: true,
      env,
    });
    expect(other.code, other.err).toBe(0);
    expect(other.err).toContain(`warning: ${ref} is linux/amd64 only, not linux/s390x`);
    const same = await spawnCli(['pull', '--store', join(tmp, 'c'), '--platform', 'linux/amd64', ref], {
      cleanEnv: true,
      env,
    });
    expect(same.code, same.err).toBe(0);
    expect(same.err).not.toContain('warning');
  });
});
