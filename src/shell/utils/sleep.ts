/** `sleep`: waits. */
import { ErrorCodes, LayerkitError } from '../../errors.js';
import type { UtilityDefinition } from '../utility.js';
import { usageError } from './common.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Waits `ms` milliseconds, or rejects with ERR_ABORTED as soon as the signal fires. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      clearTimeout(timer);
      reject(
        new LayerkitError(
          ErrorCodes.ERR_ABORTED,
          'the operation was aborted during sleep',
          {},
          { cause: signal?.reason },
        ),
      );
    };
    if (signal?.aborted) {
      reject(
        new LayerkitError(
          ErrorCodes.ERR_ABORTED,
          'the operation was aborted during sleep',
          {},
          { cause: signal.reason },
        ),
      );
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * `sleep NUMBER[smhd]...`: waits for the sum of the durations (fractions allowed). It really
 * waits, and stops at once when the run is aborted.
 */
export const sleep: UtilityDefinition = {
  name: 'sleep',
  synopsis: 'sleep NUMBER[s|m|h|d]...',
  description: 'Wait for the given time (really waits; the abort signal interrupts it).',
  run: async (ctx) => {
    if (ctx.args.length === 0) return usageError(ctx, 'missing operand');
    let seconds = 0;
    for (const a of ctx.args) {
      const m = /^([0-9]*\.?[0-9]+)([smhd]?)$/.exec(a);
      if (!m) return usageError(ctx, `invalid number '${a}'`);
      seconds += Number(m[1]) * (UNITS[m[2] as string] as number);
    }
    await delay(seconds * 1000, ctx.signal);
    return 0;
  },
};
