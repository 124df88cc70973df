/** `yes`: repeats a line forever. */
import { yieldToEventLoop } from '#platform';
import type { UtilityDefinition } from '../utility.js';
import { throwIfAborted } from '../../errors.js';

/**
 * `yes [STRING]...`: writes the line (`y` by default) until the reader goes away; in a
 * pipeline the next command ending (`yes | head -n 3`) stops it with status 141, like SIGPIPE.
 */
export const yes: UtilityDefinition = {
  name: 'yes',
  synopsis: 'yes [STRING]...',
  description: 'Repeat a line until the reading end of the pipe closes.',
  run: async (ctx) => {
    const line = `${ctx.args.length === 0 ? 'y' : ctx.args.join(' ')}\n`;
    const chunk = line.repeat(Math.max(1, Math.floor(8192 / line.length)));
    let n = 0;
    for (;;) {
      await ctx.stdout.write(chunk);
      if (++n % 64 === 0) {
        throwIfAborted(ctx.signal);
        await yieldToEventLoop();
      }
    }
  },
};
