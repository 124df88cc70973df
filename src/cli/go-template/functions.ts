/** The functions a template may call: Go's built-ins and docker's (`json`, `join`, `pad`, …). */
import { GoNil, goJson, goNumber, goString, isMap, isStruct, NO_VALUE, TemplateError, truthy } from './values.js';

type Fn = (...args: unknown[]) => unknown;

function str(v: unknown, fn: string): string {
  if (typeof v !== 'string')
    throw new TemplateError(`wrong type for value; expected string; got ${goType(v)} (in ${fn})`, 'exec');
  return v;
}

/** The Go type name of a value, for Go's error messages (`string`, `[]interface {}`, …). */
export function goType(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (v instanceof GoNil) return v.kind === 'slice' ? '[]string' : 'map[string]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isStruct(v)) return 'struct';
  return 'map[string]interface {}';
}

/** Go's `len`: of a string, slice or map; an error for anything else. */
export function length(v: unknown): number {
  if (v instanceof GoNil) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new TemplateError(`error calling len: len of type ${goType(v)}`, 'exec');
}

function indexInto(v: unknown, ...keys: unknown[]): unknown {
  let cur = v;
  for (const key of keys) {
    if (cur instanceof GoNil || cur === NO_VALUE || cur === null || cur === undefined) {
      if (cur instanceof GoNil && cur.kind === 'map') return NO_VALUE;
      throw new TemplateError('error calling index: index of untyped nil', 'exec');
    }
    if (Array.isArray(cur) || typeof cur === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key))
        throw new TemplateError(`error calling index: cannot index slice/array with type ${goType(key)}`, 'exec');
      if (key < 0 || key >= cur.length)
        throw new TemplateError(`error calling index: index out of range: ${key}`, 'exec');
      cur = typeof cur === 'string' ? cur.charCodeAt(key) : cur[key];
    } else if (isMap(cur)) {
      const k = String(key);
      cur = Object.hasOwn(cur, k) ? cur[k] : NO_VALUE;
    } else {
      throw new TemplateError(`error calling index: can't index item of type ${goType(cur)}`, 'exec');
    }
  }
  return cur;
}

function compare(a: unknown, b: unknown, fn: string): number {
  const na = a instanceof GoNil || a === NO_VALUE ? null : a;
  const nb = b instanceof GoNil || b === NO_VALUE ? null : b;
  if (typeof na !== typeof nb || (typeof na !== 'number' && typeof na !== 'string' && typeof na !== 'boolean')) {
    if (fn === 'eq' || fn === 'ne') {
      if (na === null && nb === null) return 0;
      if (typeof na === typeof nb && typeof na === 'object')
        throw new TemplateError(`error calling ${fn}: non-comparable type ${goType(a)}`, 'exec');
    }
    throw new TemplateError(`error calling ${fn}: incompatible types for comparison`, 'exec');
  }
  if (typeof na === 'boolean' && fn !== 'eq' && fn !== 'ne')
    throw new TemplateError(`error calling ${fn}: invalid type for comparison`, 'exec');
  return na === nb ? 0 : (na as number | string) < (nb as number | string) ? -1 : 1;
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return (
    format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdqxXftTbocegE%])/g, (_m, flags: string, width, prec, verb) => {
      if (verb === '%') return '%';
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const a = args[n++];
      let s: string;
      switch (verb) {
        case 'v':
        case 's':
          s = goString(a);
          break;
        case 'q':
          s = typeof a === 'string' ? JSON.stringify(a) : goString(a);
          break;
        case 'd':
          s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goType(a)}=${goString(a)})`;
          break;
        case 'x':
        case 'X':
          s =
            typeof a === 'number'
              ? a.toString(16)
              : typeof a === 'string'
                ? Buffer.from(a).toString('hex')
                : `%!${verb}(${goType(a)}=${goString(a)})`;
          if (verb === 'X') s = s.toUpperCase();
          break;
        case 'f':
        case 'e':
        case 'E':
        case 'g':
          s =
            typeof a === 'number'
              ? verb === 'f'
                ? a.toFixed(prec === undefined ? 6 : Number(prec))
                : verb === 'g'
                  ? goNumber(a)
                  : a.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2')
              : `%!${verb}(${goType(a)}=${goString(a)})`;
          if (verb === 'E') s = s.toUpperCase();
          break;
        case 't':
          s = typeof a === 'boolean' ? String(a) : `%!t(${goType(a)}=${goString(a)})`;
          break;
        case 'T':
          s = goType(a);
          break;
        case 'c':
          s = typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${goType(a)}=${goString(a)})`;
          break;
        case 'o':
          s = typeof a === 'number' ? a.toString(8) : `%!o(${goType(a)}=${goString(a)})`;
          break;
        case 'b':
          s = typeof a === 'number' ? a.toString(2) : `%!b(${goType(a)}=${goString(a)})`;
          break;
        default:
          s = goString(a);
      }
      if ((verb === 's' || verb === 'v') && prec !== undefined) s = s.slice(0, Number(prec));
      if (width !== undefined) {
        const w = Number(width);
        if (flags.includes('-')) s = s.padEnd(w);
        else s = s.padStart(w, flags.includes('0') && /[dfxX]/.test(verb) ? '0' : ' ');
      }
      return s;
    }) +
    (n < args.length
      ? `%!(EXTRA ${args
          .slice(n)
          .map((a) => `${goType(a)}=${goString(a)}`)
          .join(', ')})`
      : '')
  );
}

/** `fmt.Sprint`: spaces between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

/** The functions a template may call, by name (`and` and `or` are evaluated lazily by the executor). */
export const FUNCS: Record<string, Fn> = {
  // Go's built-ins
  print: (...a) => sprint(a),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => sprintf(str(f, 'printf'), a),
  len: (v) => length(v),
  index: (v, ...k) => indexInto(v, ...k),
  slice: (v, ...k) => {
    const nums = k.map((x) => Number(x));
    if (typeof v === 'string') return v.slice(nums[0] ?? 0, nums[1] ?? v.length);
    if (Array.isArray(v)) return v.slice(nums[0] ?? 0, nums[1] ?? v.length);
    if (v instanceof GoNil && v.kind === 'slice') return v;
    throw new TemplateError(`error calling slice: can't slice item of type ${goType(v)}`, 'exec');
  },
  not: (v) => !truthy(v),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new TemplateError('error calling eq: missing argument for comparison', 'exec');
    return bs.some((b) => compare(a, b, 'eq') === 0);
  },
  ne: (a, b) => compare(a, b, 'ne') !== 0,
  lt: (a, b) => compare(a, b, 'lt') < 0,
  le: (a, b) => compare(a, b, 'le') <= 0,
  gt: (a, b) => compare(a, b, 'gt') > 0,
  ge: (a, b) => compare(a, b, 'ge') >= 0,
  html: (...a) =>
    sprint(a).replace(
      /[<>&'"\0]/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[c]!,
    ),
  js: (...a) =>
    sprint(a).replace(
      /[\\'"<>&=\n\r\t]/g,
      (c) =>
        ({
          '\\': '\\\\',
          "'": "\\'",
          '"': '\\"',
          '<': '\\u003C',
          '>': '\\u003E',
          '&': '\\u0026',
          '=': '\\u003D',
          '\n': '\\n',
          '\r': '\\r',
          '\t': '\\t',
        })[c]!,
    ),
  urlquery: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+'),
  // docker's (cli/templates)
  json: (v) => goJson(v),
  join: (v, sep) => {
    if (v instanceof GoNil) return '';
    if (!Array.isArray(v))
      throw new TemplateError(`error calling join: wrong type for value; expected []string; got ${goType(v)}`, 'exec');
    return v.map(goString).join(str(sep, 'join'));
  },
  split: (s, sep) => str(s, 'split').split(str(sep, 'split')),
  title: (s) =>
    str(s, 'title').replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  lower: (s) => str(s, 'lower').toLowerCase(),
  upper: (s) => str(s, 'upper').toUpperCase(),
  pad: (s, before, after) => `${' '.repeat(Number(before))}${goString(s)}${' '.repeat(Number(after))}`,
  truncate: (s, n) => {
    const text = str(s, 'truncate');
    const chars = [...text];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : text;
  },
};
