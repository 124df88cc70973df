/** `tr`: translates or deletes characters. */
import type { UtilityDefinition } from '../utility.js';
import { parseOptions, usageError } from './common.js';

const CLASS_CHARS: Readonly<Record<string, () => string[]>> = {
  upper: () => range('A', 'Z'),
  lower: () => range('a', 'z'),
  digit: () => range('0', '9'),
  alpha: () => [...range('A', 'Z'), ...range('a', 'z')],
  alnum: () => [...range('0', '9'), ...range('A', 'Z'), ...range('a', 'z')],
  space: () => [' ', '\t', '\n', '\r', '\f', '\v'],
  blank: () => [' ', '\t'],
  punct: () => range('!', '~').filter((c) => !/[A-Za-z0-9]/.test(c)),
  xdigit: () => [...range('0', '9'), ...range('A', 'F'), ...range('a', 'f')],
  cntrl: () => [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\x7f'],
  print: () => range(' ', '~'),
  graph: () => range('!', '~'),
};

function range(a: string, b: string): string[] {
  const out: string[] = [];
  for (let c = a.codePointAt(0) as number; c <= (b.codePointAt(0) as number); c++) out.push(String.fromCodePoint(c));
  return out;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  f: '\f',
  v: '\v',
  a: '\x07',
  b: '\b',
  '\\': '\\',
};

/** An expanded tr set: its characters, and the `[c*]` character that pads SET2 (if any). */
export interface TrSet {
  chars: string[];
  fill?: string;
}

/** Expands a tr set: ranges `a-z`, classes `[:upper:]`, escapes `\n \t \\ \NNN`, `[c*n]` repeats. */
export function expandSet(set: string): TrSet | string {
  const chars = Array.from(set);
  const out: TrSet = { chars: [] };
  const take = (i: number): [string, number] => {
    const c = chars[i] as string;
    if (c === '\\' && i + 1 < chars.length) {
      const n = chars[i + 1] as string;
      if (/[0-7]/.test(n)) {
        let digits = '';
        let j = i + 1;
        while (j < chars.length && digits.length < 3 && /[0-7]/.test(chars[j] as string)) digits += chars[j++];
        return [String.fromCharCode(parseInt(digits, 8)), j];
      }
      return [ESCAPES[n] ?? n, i + 2];
    }
    return [c, i + 1];
  };
  let i = 0;
  while (i < chars.length) {
    if (chars[i] === '[' && chars[i + 1] === ':') {
      const m = /^\[:([a-z]+):\]/.exec(chars.slice(i).join(''));
      if (m) {
        const cls = CLASS_CHARS[m[1] as string];
        if (cls === undefined) return `invalid character class '${m[1] ?? ''}'`;
        out.chars.push(...cls());
        i += Array.from(m[0]).length;
        continue;
      }
    }
    if (chars[i] === '[' && chars[i + 2] === '*') {
      const m = /^\[(.)\*([0-9]*)\]/u.exec(chars.slice(i).join(''));
      if (m) {
        const count = Number(m[2] || '0');
        if (count > 0) out.chars.push(...Array<string>(count).fill(m[1] as string));
        else out.fill = m[1] as string;
        i += Array.from(m[0]).length;
        continue;
      }
    }
    const [c, next] = take(i);
    if (chars[next] === '-' && next + 1 < chars.length) {
      const [hi, after] = take(next + 1);
      if (hi < c) return `range-endpoints of '${c}-${hi}' are in reverse collating sequence order`;
      out.chars.push(...range(c, hi));
      i = after;
      continue;
    }
    out.chars.push(c);
    i = next;
  }
  return out;
}

/**
 * `tr [-cdsC] SET1 [SET2]`: translates characters of SET1 to those of SET2 (SET2 is extended
 * with its last character), deletes them (`-d`), squeezes repeats (`-s`), or uses the
 * complement of SET1 (`-c`). Sets take ranges, `[:class:]`, `[c*n]` and backslash escapes.
 */
export const tr: UtilityDefinition = {
  name: 'tr',
  synopsis: 'tr [-c] [-d] [-s] SET1 [SET2]',
  description: 'Translate, delete (-d) or squeeze (-s) characters; ranges, [:classes:] and escapes.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'cdsCt',
      long: { complement: 'c', delete: 'd', 'squeeze-repeats': 's' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const f = opts.flags;
    const [s1, s2] = opts.operands;
    if (s1 === undefined) return usageError(ctx, 'missing operand');
    const translate = !f.has('d') && s2 !== undefined;
    if (!f.has('d') && !f.has('s') && s2 === undefined) return usageError(ctx, `missing operand after '${s1}'`);
    const set1 = expandSet(s1);
    if (typeof set1 === 'string') return usageError(ctx, set1);
    let set2: TrSet = { chars: [] };
    if (s2 !== undefined) {
      const e = expandSet(s2);
      if (typeof e === 'string') return usageError(ctx, e);
      set2 = e;
    }
    const complement = f.has('c') || f.has('C');
    const in1 = new Set(set1.chars);
    const member = (c: string): boolean => in1.has(c) !== complement;
    const map = new Map<string, string>();
    const last = set2.chars[set2.chars.length - 1];
    if (translate && !complement) {
      set1.chars.forEach((c, k) => {
        map.set(c, set2.chars[k] ?? set2.fill ?? last ?? c);
      });
    }
    const squeezeSet = new Set(f.has('d') || translate ? set2.chars : set1.chars);
    const complementTarget = set2.fill ?? last;
    const text = await ctx.stdin.readAllText();
    let out = '';
    let prev: string | undefined;
    for (const c of text) {
      let o: string | undefined = c;
      if (f.has('d')) {
        if (member(c)) continue;
      } else if (translate) {
        if (complement) o = member(c) ? (complementTarget ?? c) : c;
        else o = map.get(c) ?? c;
      }
      if (f.has('s') && o === prev && (squeezeSet.has(o) || (complement && !translate && member(o)))) continue;
      out += o;
      prev = o;
    }
    await ctx.stdout.write(out);
    return 0;
  },
};
