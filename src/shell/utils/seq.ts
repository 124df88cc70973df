/** `seq`: prints number sequences. */
import type { UtilityDefinition } from '../utility.js';
import { usageError } from './common.js';

function decimals(text: string): number {
  const m = /\.([0-9]+)/.exec(text);
  return m ? (m[1] as string).length : 0;
}

/**
 * `seq [-w] [-s SEP] [FIRST [INCREMENT]] LAST`: numbers from FIRST (1) by INCREMENT (1) up to
 * LAST; decimals print with the most decimals among the arguments; `-w` pads with zeros.
 */
export const seq: UtilityDefinition = {
  name: 'seq',
  synopsis: 'seq [-w] [-s SEP] [FIRST [INCREMENT]] LAST',
  description: 'Print a sequence of numbers; -s sets the separator, -w equalises widths.',
  run: async (ctx) => {
    let sep = '\n';
    let width = false;
    const nums: string[] = [];
    const args = [...ctx.args];
    while (args.length > 0) {
      const a = args.shift() as string;
      if (a === '-s') sep = args.shift() ?? '\n';
      else if (a.startsWith('-s') && a.length > 2) sep = a.slice(2);
      else if (a === '-w') width = true;
      else if (a === '--') nums.push(...args.splice(0));
      else nums.push(a);
    }
    if (nums.length === 0 || nums.length > 3)
      return usageError(ctx, nums.length === 0 ? 'missing operand' : `extra operand '${nums[3] ?? ''}'`);
    for (const n of nums)
      if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(n))
        return usageError(ctx, `invalid floating point argument: '${n}'`);
    const first = nums.length >= 2 ? (nums[0] as string) : '1';
    const incr = nums.length === 3 ? (nums[1] as string) : '1';
    const last = nums[nums.length - 1] as string;
    const prec = Math.max(decimals(first), decimals(incr));
    const scale = 10 ** prec;
    const a = Math.round(Number(first) * scale);
    const step = Math.round(Number(incr) * scale);
    const end = Number(last) * scale;
    if (step === 0) return usageError(ctx, `invalid Zero increment value: '${incr}'`);
    const values: string[] = [];
    for (let v = a; step > 0 ? v <= end + 1e-9 : v >= end - 1e-9; v += step) {
      values.push((v / scale).toFixed(prec));
      if (values.length > 10_000_000) break;
    }
    if (width) {
      const w = Math.max(...values.map((v) => v.length));
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as string;
        values[i] = v.startsWith('-') ? `-${v.slice(1).padStart(w - 1, '0')}` : v.padStart(w, '0');
      }
    }
    if (values.length > 0) await ctx.stdout.write(`${values.join(sep)}\n`);
    return 0;
  },
};
