/** `uname`: system information. */
import type { UtilityDefinition } from '../utility.js';
import { parseOptions, usageError } from './common.js';

/**
 * `uname [-asnrvmpio]`: a fixed description of a Linux machine (`Linux`, release `6.0.0`,
 * machine from `$TARGETARCH`-style env when given, else `x86_64`), so output is reproducible.
 */
export const uname: UtilityDefinition = {
  name: 'uname',
  synopsis: 'uname [-a] [-s] [-n] [-r] [-v] [-m] [-p] [-i] [-o]',
  description: 'Print fixed system information (Linux; machine from TARGETARCH if set, else x86_64).',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'asnrvmpio',
      long: { all: 'a', 'kernel-name': 's', nodename: 'n', 'kernel-release': 'r', machine: 'm' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const arch =
      {
        amd64: 'x86_64',
        arm64: 'aarch64',
        arm: 'armv7l',
        '386': 'i686',
        ppc64le: 'ppc64le',
        s390x: 's390x',
        riscv64: 'riscv64',
      }[ctx.env.TARGETARCH ?? 'amd64'] ?? 'x86_64';
    const fields: [string, string][] = [
      ['s', 'Linux'],
      ['n', ctx.env.HOSTNAME ?? ctx.hostname ?? 'buildkitsandbox'],
      ['r', '6.0.0'],
      ['v', '#1 SMP'],
      ['m', arch],
      ['p', arch],
      ['i', arch],
      ['o', 'GNU/Linux'],
    ];
    const f = opts.flags;
    const chosen = f.has('a') ? fields.filter(([k]) => k !== 'p' && k !== 'i') : fields.filter(([k]) => f.has(k));
    const out = (chosen.length === 0 ? [fields[0] as [string, string]] : chosen).map(([, v]) => v);
    await ctx.stdout.write(`${out.join(' ')}\n`);
    return 0;
  },
};
