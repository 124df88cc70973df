/** `sort`: sorts lines. */
import type { UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, lastValue, parseOptions, splitLines, usageError } from './common.js';

interface KeyOpts {
  numeric: boolean;
  reverse: boolean;
  fold: boolean;
  blanks: boolean;
  human: boolean;
  version: boolean;
}

interface Key {
  f1: number;
  c1: number;
  f2: number | undefined;
  c2: number;
  opts: KeyOpts;
}

function keyOpts(letters: string, base?: KeyOpts): KeyOpts {
  const o: KeyOpts = base
    ? { ...base }
    : { numeric: false, reverse: false, fold: false, blanks: false, human: false, version: false };
  for (const c of letters) {
    if (c === 'n') o.numeric = true;
    else if (c === 'r') o.reverse = true;
    else if (c === 'f') o.fold = true;
    else if (c === 'b') o.blanks = true;
    else if (c === 'h') o.human = true;
    else if (c === 'V') o.version = true;
  }
  return o;
}

function parseKey(def: string, global: KeyOpts): Key | undefined {
  const m = /^([0-9]+)(?:\.([0-9]+))?([bdfinrhVM]*)(?:,([0-9]+)(?:\.([0-9]+))?([bdfinrhVM]*))?$/.exec(def);
  if (!m || Number(m[1]) < 1) return undefined;
  const letters = (m[3] ?? '') + (m[6] ?? '');
  return {
    f1: Number(m[1]),
    c1: m[2] === undefined ? 1 : Number(m[2]),
    f2: m[4] === undefined ? undefined : Number(m[4]),
    c2: m[5] === undefined ? 0 : Number(m[5]),
    opts: letters === '' ? global : keyOpts(letters),
  };
}

/** Field start offsets: with a separator, after each separator; without, each blank-run begins a field. */
function fieldBounds(line: string, sep: string | undefined): [number, number][] {
  const out: [number, number][] = [];
  if (sep !== undefined) {
    let start = 0;
    for (;;) {
      const i = line.indexOf(sep, start);
      if (i < 0) {
        out.push([start, line.length]);
        return out;
      }
      out.push([start, i]);
      start = i + sep.length;
    }
  }
  let i = 0;
  while (i < line.length) {
    const start = i;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
    out.push([start, i]);
  }
  if (out.length === 0) out.push([0, 0]);
  return out;
}

function extract(line: string, key: Key, sep: string | undefined): string {
  const fields = fieldBounds(line, sep);
  const f1 = fields[key.f1 - 1];
  if (f1 === undefined) return '';
  let start = f1[0];
  if (key.opts.blanks) while (start < f1[1] && (line[start] === ' ' || line[start] === '\t')) start++;
  start = Math.min(start + key.c1 - 1, line.length);
  let end = line.length;
  if (key.f2 !== undefined) {
    const f2 = fields[key.f2 - 1];
    if (f2 !== undefined) {
      if (key.c2 === 0) end = f2[1];
      else {
        let s2 = f2[0];
        if (key.opts.blanks) while (s2 < f2[1] && (line[s2] === ' ' || line[s2] === '\t')) s2++;
        end = Math.min(s2 + key.c2, line.length);
      }
    }
  }
  return end > start ? line.slice(start, end) : '';
}

function numericValue(text: string, human: boolean): number {
  const m = /^\s*(-?[0-9]*\.?[0-9]+)([KMGTPE]?)/.exec(text);
  if (!m) return 0;
  const v = Number(m[1]);
  if (!human || m[2] === '') return v;
  return v * 1024 ** ('KMGTPE'.indexOf(m[2] as string) + 1);
}

function compareVersion(a: string, b: string): number {
  const pa = a.match(/[0-9]+|[^0-9]+/g) ?? [];
  const pb = b.match(/[0-9]+|[^0-9]+/g) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (/^[0-9]/.test(x) && /^[0-9]/.test(y)) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareKey(a: string, b: string, o: KeyOpts): number {
  let r: number;
  if (o.numeric || o.human) r = numericValue(a, o.human) - numericValue(b, o.human);
  else if (o.version) r = compareVersion(a, b);
  else {
    const x = o.fold ? a.toUpperCase() : a;
    const y = o.fold ? b.toUpperCase() : b;
    r = x < y ? -1 : x > y ? 1 : 0;
  }
  return o.reverse ? -r : r;
}

/**
 * `sort [-rnufbshVc] [-k KEYDEF]... [-t SEP] [-o FILE] [FILE|-]...`: sorts lines bytewise (the
 * C locale). `-k F[.C][opts][,F[.C][opts]]` keys (fields split by `-t` or at blank runs), `-n`
 * numeric, `-h` human sizes, `-V` versions, `-f` fold case, `-b` skip blanks, `-r` reverse, `-u`
 * unique by key, `-s` stable (no last-resort comparison), `-c` check only, `-o` output file.
 */
export const sort: UtilityDefinition = {
  name: 'sort',
  synopsis: 'sort [-r] [-n] [-u] [-f] [-b] [-s] [-h] [-V] [-c] [-k KEYDEF]... [-t SEP] [-o FILE] [FILE|-]...',
  description: 'Sort lines bytewise; keys (-k, -t), numeric (-n), reverse (-r), unique (-u), stable (-s).',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'rnufbshVcCdiMgzR',
      values: 'ktoST',
      long: {
        reverse: 'r',
        'numeric-sort': 'n',
        unique: 'u',
        'ignore-case': 'f',
        'ignore-leading-blanks': 'b',
        stable: 's',
        'human-numeric-sort': 'h',
        'version-sort': 'V',
        check: 'c',
        'key=': 'k',
        'field-separator=': 't',
        'output=': 'o',
      },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const f = opts.flags;
    const global = keyOpts([...f].join(''));
    const sep = lastValue(opts, 't');
    if (sep !== undefined && Array.from(sep).length !== 1) return usageError(ctx, `multi-character tab '${sep}'`);
    const keys: Key[] = [];
    for (const def of opts.values.get('k') ?? []) {
      const k = parseKey(def, global);
      if (k === undefined) return usageError(ctx, `invalid key '${def}'`);
      keys.push(k);
    }
    const files = opts.operands.length === 0 ? ['-'] : opts.operands;
    const lines: string[] = [];
    for (const file of files) {
      try {
        lines.push(...splitLines(toText(await ctx.readInput(file))));
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        return 2;
      }
    }
    const byKeys = (a: string, b: string): number => {
      if (keys.length === 0) return compareKey(a, b, global);
      for (const k of keys) {
        const r = compareKey(extract(a, k, sep), extract(b, k, sep), k.opts);
        if (r !== 0) return r;
      }
      return 0;
    };
    const lastResort = !f.has('s') && !f.has('u');
    const cmp = (a: string, b: string): number => {
      const r = byKeys(a, b);
      if (r !== 0 || !lastResort) return r;
      const s = a < b ? -1 : a > b ? 1 : 0;
      return global.reverse ? -s : s;
    };
    if (f.has('c') || f.has('C')) {
      for (let i = 1; i < lines.length; i++) {
        const r = cmp(lines[i - 1] as string, lines[i] as string);
        if (r > 0 || (f.has('u') && r === 0)) {
          if (f.has('c')) await ctx.error(`${files[0] ?? '-'}:${i + 1}: disorder: ${lines[i] ?? ''}`);
          return 1;
        }
      }
      return 0;
    }
    const sorted = lines
      .map((l, i) => ({ l, i }))
      .sort((x, y) => cmp(x.l, y.l) || x.i - y.i)
      .map((x) => x.l);
    const out: string[] = [];
    for (const l of sorted) {
      if (f.has('u') && out.length > 0 && byKeys(out[out.length - 1] as string, l) === 0) continue;
      out.push(l);
    }
    const text = out.map((l) => `${l}\n`).join('');
    const outFile = lastValue(opts, 'o');
    if (outFile !== undefined) await (await ctx.openOutput(outFile, { append: false })).write(text);
    else await ctx.stdout.write(text);
    return 0;
  },
};
