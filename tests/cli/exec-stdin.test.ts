/**
 * `exec` passes standard input to the command, in both executors: piped data reaches `cat` and
 * `read`; -i and -t are accepted as docker's; -it refuses a standard input that is not a terminal.
 * The real CLI runs as a child process with a piped stdin.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContainer, importImage, linuxExecutorUnavailable, openStore } from '../../src/index.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { canMountOverlay } from '../helpers/tools.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const linuxWhy = !hasBusybox()
  ? 'busybox-static is not installed (Debian package busybox-static)'
  : !canMountOverlay()
    ? 'overlayfs cannot be mounted here (needs root on Linux)'
    : linuxExecutorUnavailable();

describe('exec and standard input', () => {
  let tmp: string;
  let store: string;
  let n = 0;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    const s = await openStore({ root: store });
    await importImage({ store: s, source: HELLO, tags: ['hello'] });
    if (linuxWhy === undefined) await makeBusyboxImage(s, 'bb:1');
  });
  const box = async (image = 'hello') => {
    const name = `box${n++}`;
    await createContainer({ store: await openStore({ root: store }), image, name });
    return name;
  };
  const cli = (args: string[], stdin?: string) => spawnCli(['--store', store, ...args], { stdin });

  it.each([[[]], [['-i']], [['--interactive']]])(
    'piped data reaches cat > /f (exec %j), and the container keeps it',
    async (flags) => {
      const name = await box();
      const r = await cli(['exec', ...flags, name, '--', 'sh', '-c', 'cat > /f'], 'data\nmore\n');
      expect(r.code, r.err).toBe(0);
      const read = await cli(['cat', name, '/f']);
      expect(read.out).toBe('data\nmore\n');
    },
  );

  it('read x reads the first line; the rest stays for the next reader', async () => {
    const name = await box();
    const r = await cli(['exec', '-i', name, '--', 'sh', '-c', 'read x; echo "got $x"; cat'], 'one\ntwo\n');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('got one\ntwo\n');
  });

  it('-t alone is accepted; -it with a piped stdin is refused as docker refuses it', async () => {
    const name = await box();
    const t = await cli(['exec', '-t', name, '--', 'sh', '-c', 'echo ok']);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toBe('ok\n');
    const it2 = await cli(['exec', '-it', name, '--', 'sh', '-c', 'cat'], 'x');
    expect(it2.code).toBe(2);
    expect(it2.err).toMatch(/^error\[ERR_USAGE\]: the input device is not a TTY/);
  });

  it.skipIf(linuxWhy !== undefined)(
    `the linux executor gets standard input too${linuxWhy ? ` (skipped: ${linuxWhy})` : ''}`,
    async () => {
      const name = await box('bb:1');
      const r = await cli(
        ['exec', '--executor', 'linux', name, '--', '/bin/sh', '-c', 'cat > /f; read x < /f; echo "$x"'],
        'linux data\n',
      );
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe('linux data\n');
      expect((await cli(['cat', name, '/f'])).out).toBe('linux data\n');
    },
  );
});
