/** `printf`: formatted output. */
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { interpretEscapes } from './escapes.js';

type Spec = { flags: string; width: string; precision: string | undefined; conv: string };
type Segment = { text: string } | Spec;

function parseFormat(format: string): Segment[] | string {
  const out: Segment[] = [];
  let lit = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== '%') {
      lit += c;
      continue;
    }
    if (format[i + 1] === '%') {
      lit += '%';
      i++;
      continue;
    }
    const m = /^([-+ #0]*)(\*|[0-9]*)(?:\.(\*|[0-9]*))?([a-zA-Z]?)/.exec(format.slice(i + 1)) as RegExpExecArray;
    const conv = m[4] as string;
    if (!/^[sbcdiouxXfFeEgG]$/.test(conv)) return `%${m[0]}: invalid format`;
    if (lit !== '') out.push({ text: lit });
    lit = '';
    out.push({ flags: m[1] as string, width: m[2] as string, precision: m[3], conv });
    i += m[0].length;
  }
  if (lit !== '') out.push({ text: lit });
  return out;
}

function pad(body: string, spec: { flags: string }, width: number, numeric: boolean): string {
  if (body.length >= width) return body;
  if (spec.flags.includes('-')) return body.padEnd(width);
  if (numeric && spec.flags.includes('0')) {
    const sign = /^[-+ ]|^0[xX]/.exec(body)?.[0] ?? '';
    return sign + body.slice(sign.length).padStart(width - sign.length, '0');
  }
  return body.padStart(width);
}

/**
 * `printf FORMAT [ARG]...`: the format is reused while arguments remain. Conversions `%s %b %c
 * %d %i %u %o %x %X %f %e %g %%` with flags `-+ #0`, width and precision (`*` takes an
 * argument); escapes `\n \t \\ \NNN \xHH` in the format; `%b` expands escapes in its argument.
 * A bad number prints `printf: invalid number` and makes the status 1.
 */
export const printf: UtilityDefinition = {
  name: 'printf',
  synopsis: 'printf FORMAT [ARG]...',
  description:
    'Formatted output with %s %b %c %d %i %u %o %x %X %f %e %g, flags, width and precision; the format is reused for extra arguments.',
  run: async (ctx) => {
    const args = [...ctx.args];
    if (args[0] === '--') args.shift();
    const format = args.shift();
    if (format === undefined) {
      await ctx.error('usage: printf FORMAT [ARG]...');
      return 2;
    }
    const segments = parseFormat(format);
    if (typeof segments === 'string') {
      await ctx.error(segments);
      return 1;
    }
    const hasConversions = segments.some((s) => !('text' in s));
    const state = { status: 0 };
    const chunks: Uint8Array[] = [];
    let stop = false;
    do {
      for (const seg of segments) {
        if ('text' in seg) {
          const r = interpretEscapes(seg.text, 'printf');
          chunks.push(r.bytes);
          if (r.stop) {
            stop = true;
            break;
          }
          continue;
        }
        const r = await formatOne(ctx, seg, args, state);
        chunks.push(r.bytes);
        if (r.stop) {
          stop = true;
          break;
        }
      }
    } while (!stop && hasConversions && args.length > 0);
    await ctx.stdout.write(Buffer.concat(chunks));
    return state.status;
  },
};

async function toInteger(ctx: UtilityContext, arg: string | undefined, state: { status: number }): Promise<bigint> {
  if (arg === undefined || arg === '') return 0n;
  if (/^['"]/.test(arg)) return BigInt(arg.codePointAt(1) ?? 0);
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(arg);
  if (!m) {
    await ctx.error(`invalid number '${arg}'`);
    state.status = 1;
    return 0n;
  }
  const digits = m[2] as string;
  let v = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : /^0[0-7]+$/.test(digits)
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  if (m[1] === '-') v = -v;
  if (m[0].length !== arg.length) {
    await ctx.error(`invalid number '${arg}'`);
    state.status = 1;
  }
  return v;
}

async function toFloat(ctx: UtilityContext, arg: string | undefined, state: { status: number }): Promise<number> {
  if (arg === undefined || arg === '') return 0;
  if (/^['"]/.test(arg)) return arg.codePointAt(1) ?? 0;
  const v = Number(arg.trim());
  if (Number.isNaN(v)) {
    await ctx.error(`invalid number '${arg}'`);
    state.status = 1;
    return 0;
  }
  return v;
}

async function formatOne(
  ctx: UtilityContext,
  spec: Spec,
  args: string[],
  state: { status: number },
): Promise<{ bytes: Uint8Array; stop: boolean }> {
  let width = 0;
  let leftFromStar = false;
  if (spec.width === '*') {
    const w = Number(await toInteger(ctx, args.shift(), state));
    if (w < 0) leftFromStar = true;
    width = Math.abs(w);
  } else if (spec.width !== '') width = Number(spec.width);
  let precision: number | undefined;
  if (spec.precision === '*') precision = Math.max(0, Number(await toInteger(ctx, args.shift(), state)));
  else if (spec.precision !== undefined) precision = spec.precision === '' ? 0 : Number(spec.precision);
  const flags = leftFromStar ? `${spec.flags}-` : spec.flags;
  const s = { flags };
  const text = (t: string): { bytes: Uint8Array; stop: boolean } => ({ bytes: Buffer.from(t, 'utf8'), stop: false });
  switch (spec.conv) {
    case 's': {
      let v = args.shift() ?? '';
      if (precision !== undefined) v = Array.from(v).slice(0, precision).join('');
      return text(pad(v, s, width, false));
    }
    case 'b': {
      const r = interpretEscapes(args.shift() ?? '', 'echo');
      let bytes = r.bytes;
      if (precision !== undefined) bytes = bytes.subarray(0, precision);
      const padding = Math.max(0, width - bytes.length);
      const spaces = Buffer.alloc(padding, 0x20);
      return {
        bytes: flags.includes('-') ? Buffer.concat([bytes, spaces]) : Buffer.concat([spaces, bytes]),
        stop: r.stop,
      };
    }
    case 'c': {
      const v = Array.from(args.shift() ?? '')[0] ?? '';
      return text(pad(v, s, width, false));
    }
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      let v = await toInteger(ctx, args.shift(), state);
      if (spec.conv === 'u' && v < 0n) v = BigInt.asUintN(64, v);
      const neg = v < 0n && (spec.conv === 'd' || spec.conv === 'i');
      let abs = neg ? -v : v;
      if (v < 0n && !(spec.conv === 'd' || spec.conv === 'i')) abs = BigInt.asUintN(64, v);
      const radix = spec.conv === 'o' ? 8 : spec.conv === 'x' || spec.conv === 'X' ? 16 : 10;
      let digits = abs.toString(radix);
      if (spec.conv === 'X') digits = digits.toUpperCase();
      if (precision !== undefined) digits = precision === 0 && abs === 0n ? '' : digits.padStart(precision, '0');
      if (flags.includes('#') && abs !== 0n) {
        if (spec.conv === 'o' && !digits.startsWith('0')) digits = `0${digits}`;
        if (spec.conv === 'x') digits = `0x${digits}`;
        if (spec.conv === 'X') digits = `0X${digits}`;
      }
      const sign = neg
        ? '-'
        : flags.includes('+') && radix === 10
          ? '+'
          : flags.includes(' ') && radix === 10
            ? ' '
            : '';
      return text(
        pad(sign + digits, { flags: precision !== undefined ? flags.replace(/0/g, '') : flags }, width, true),
      );
    }
    default: {
      const v = await toFloat(ctx, args.shift(), state);
      const p = precision ?? 6;
      let body: string;
      const conv = spec.conv.toLowerCase();
      if (!Number.isFinite(v)) body = Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
      else if (conv === 'f') body = v.toFixed(p);
      else if (conv === 'e') body = v.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2');
      else {
        const P = p === 0 ? 1 : p;
        const exp = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)));
        if (exp < -4 || exp >= P) body = v.toExponential(P - 1).replace(/e([+-])(\d)$/, 'e$10$2');
        else body = v.toFixed(Math.max(0, P - 1 - exp));
        if (!flags.includes('#') && body.includes('.')) body = body.replace(/\.?0+(?=e|$)/, '');
      }
      if (spec.conv === spec.conv.toUpperCase()) body = body.toUpperCase();
      if (v >= 0 && flags.includes('+')) body = `+${body}`;
      else if (v >= 0 && flags.includes(' ')) body = ` ${body}`;
      return text(pad(body, s, width, true));
    }
  }
}
