/**
 * `layerkit run -e K`: docker's rule, the value comes from the environment of the shell that ran
 * the CLI, and a name it does not have is unset in the container (the image's value too). Checked
 * on the option parser (everywhere) and through a real container (root and runc).
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import fc from 'fast-check';
import { envFromHost, runSpecOptions } from '../../src/cli/commands/run.js';
import type { Store } from '../../src/index.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { busyboxStore, runtimeSkip } from '../helpers/runtime.js';

describe('-e K takes the value from the host environment', () => {
  it('K=V stays, K takes the host value, an unset K stays bare (unset in the container)', () => {
    const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 5 })),
        fc.array(fc.tuple(name, fc.option(fc.string({ maxLength: 5 }), { nil: undefined })), { maxLength: 6 }),
        (host, given) => {
          const entries = given.map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
          const out = entries.map((e) => envFromHost(e, host));
          out.forEach((e, i) => {
            const [k, v] = given[i]!;
            if (v !== undefined) expect(e).toBe(`${k}=${v}`);
            else if (Object.hasOwn(host, k)) expect(e).toBe(`${k}=${host[k]}`);
            else expect(e).toBe(k);
          });
        },
      ),
    );
  });

  it('the run options carry the host value', () => {
    process.env.LAYERKIT_TEST_FROM_HOST = 'from the host';
    try {
      const o = runSpecOptions({ env: ['LAYERKIT_TEST_FROM_HOST', 'LAYERKIT_TEST_NOT_SET', 'A=1'] }, []);
      expect(o.env).toEqual(['LAYERKIT_TEST_FROM_HOST=from the host', 'LAYERKIT_TEST_NOT_SET', 'A=1']);
    } finally {
      delete process.env.LAYERKIT_TEST_FROM_HOST;
    }
  });
});

const skip = runtimeSkip();

describe.skipIf(skip !== undefined)('layerkit run -e K (a real container)', () => {
  let store: Store;
  it.beforeAll(async ({ fileTmp }) => {
    store = await busyboxStore(fileTmp);
  }, 60_000);

  it('the container sees the host value; a name the host lacks is unset', async () => {
    const r = await spawnCli(
      [
        '--store',
        store.root,
        'run',
        '--rm',
        '-e',
        'FROM_HOST',
        '-e',
        'NOT_ON_HOST',
        '-e',
        'A=1',
        'busybox:test',
        'env',
      ],
      { env: { FROM_HOST: 'v 1', NOT_ON_HOST: undefined } },
    );
    expect(r.code, r.err).toBe(0);
    const env = r.out.trim().split('\n').sort();
    expect(env).toContain('FROM_HOST=v 1');
    expect(env).toContain('A=1');
    expect(env.some((l) => l.startsWith('NOT_ON_HOST'))).toBe(false);
  }, 60_000);
});
