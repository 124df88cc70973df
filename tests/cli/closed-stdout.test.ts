/**
 * A reader that goes away (`layerkit ls -R IMG | head -1`) ends the command quietly: status 0 and
 * nothing on standard error, for every command that prints a listing or a document. The real CLI
 * runs as a child process whose stdout pipe is closed before it writes.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContainer, importImage, openContainer, openStore } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

// The cases only read the store and each spawns a process: run concurrently (vitest's
// maxConcurrency, 5), they overlap their start-ups instead of queueing one process at a time.
describe.concurrent('a closed standard output', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    const s = await openStore({ root: store });
    await importImage({ store: s, source: HELLO, tags: ['hello'] });
    await createContainer({ store: s, image: 'hello', name: 'box' });
    const box = await openContainer({ store: s, name: 'box' });
    box.writeFileSync('/greeting', 'hello\n');
    await box.save();
  });

  const listings: string[][] = [
    ['images'],
    ['images', '--json'],
    ['ls', '-R', 'hello'],
    ['ls', '-R', '--json', 'hello'],
    ['ls', 'box', '/'],
    ['history', 'hello'],
    ['history', '--json', 'hello'],
    ['containers'],
    ['inspect', 'hello'],
    ['explain', 'hello'],
    ['explain', '--json', 'hello'],
    ['explain', '--html', '-', 'hello'],
    ['cat', 'hello', '/etc/motd'],
    ['diff', 'box'],
    ['export', 'hello', '-o', '-'],
    ['verify'],
    ['gc', '--dry-run'],
  ];
  // With stdout open each command prints (so the closed runs below do reach their writes). In this
  // process, one command after another: only the closed pipe needs a process of its own.
  test.sequential('each prints with stdout open', async () => {
    for (const args of listings) {
      const open = await runCli(['--store', store, ...args]);
      expect(open.code, `${args.join(' ')}: ${open.err}`).toBe(0);
      expect(open.bytes.length, args.join(' ')).toBeGreaterThan(0);
    }
  });
  it.each(listings)('layerkit %s ... exits 0 without a word', async (...args) => {
    const r = await spawnCli(['--store', store, ...args], { closeStdout: true });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});
