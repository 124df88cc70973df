/** `whoami`: the running user's name. */
import type { UtilityDefinition } from '../utility.js';
import { readPasswd } from '../users.js';

/** `whoami`: the running user's name from `/etc/passwd` (an error when the uid has none). */
export const whoami: UtilityDefinition = {
  name: 'whoami',
  synopsis: 'whoami',
  description: "Print the running user's name (from the image's /etc/passwd).",
  run: async (ctx) => {
    const name = (await readPasswd(ctx.fs)).find((p) => p.uid === ctx.user.uid)?.name;
    if (name === undefined) {
      await ctx.error(`unknown uid ${ctx.user.uid}`);
      return 1;
    }
    await ctx.stdout.write(`${name}\n`);
    return 0;
  },
};
