/**
 * Go value parsers BuildKit applies to flag values, with Go's accepted syntax and error text:
 * `time.ParseDuration`, `strconv.ParseBool`/`ParseInt`/`ParseUint`, docker/go-units'
 * `RAMInBytes` and the single-line CSV reader used for `--mount`/`--device`. Each throws a plain
 * Error; callers attach the Dockerfile location.
 */
import { goQuote } from './go-text.js';

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n, // U+00B5
  μs: 1000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/** Go's `time.ParseDuration`, in nanoseconds: `300ms`, `1.5h`, `2h45m`, `-1s`, `0`. */
export function parseGoDuration(s: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(s)}`);
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw invalid();
  let total = 0n;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest) as RegExpExecArray;
    const whole = m[1] as string;
    const frac = m[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    rest = rest.slice(m[0].length);
    const unitMatch = /^[^0-9.]+/.exec(rest);
    if (unitMatch === null) throw new Error(`time: missing unit in duration ${goQuote(s)}`);
    const unit = unitMatch[0];
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}`);
    rest = rest.slice(unit.length);
    let v = BigInt(whole === '' ? '0' : whole) * scale;
    if (frac !== undefined && frac !== '') {
      // Go keeps the fraction as a float and truncates; digits past 1 ns cannot matter.
      const digits = frac.slice(0, 30);
      v += (BigInt(digits) * scale) / 10n ** BigInt(digits.length);
    }
    total += v;
    if (total > MAX_INT64 + (negative ? 1n : 0n)) throw invalid();
  }
  return negative ? -total : total;
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

/** Go's `strconv.ParseInt(s, 10, bits)`. */
export function parseGoInt(s: string, bits: number): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  const limit = 1n << BigInt(bits - 1);
  if (v >= limit || v < -limit) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** Go's `strconv.ParseUint(s, base, bits)` for base 8 or 10. */
export function parseGoUint(s: string, base: 8 | 10, bits: number): number {
  const digits = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(base === 8 ? `0o${s}` : s);
  if (v >= 1n << BigInt(bits)) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

const RAM_SIZE = /^([0-9]+(?:\.[0-9]+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const RAM_UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** docker/go-units `RAMInBytes`: `64m`, `1.5GiB`, `512` (binary multiples). */
export function parseRamInBytes(s: string): number {
  const m = RAM_SIZE.exec(s);
  const size = m === null ? Number.NaN : Number(m[1]);
  if (m === null || !Number.isFinite(size)) throw new Error(`invalid size: '${s}'`);
  const unit = m[2]?.toLowerCase();
  return Math.trunc(size * (unit === undefined ? 1 : (RAM_UNITS[unit] as number)));
}

/** tonistiigi/go-csvvalue `Fields`: one CSV record, `"` quoting with `""` for a quote. */
export function parseCsvFields(line: string): string[] {
  let rest = line.endsWith('\r\n') ? line.slice(0, -2) : line.endsWith('\n') ? line.slice(0, -1) : line;
  if (rest === '') throw new Error('EOF');
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    if (!rest.startsWith('"')) {
      const comma = rest.indexOf(',');
      const field = comma < 0 ? rest : rest.slice(0, comma);
      const quote = field.indexOf('"');
      if (quote >= 0) throw new Error(`parse error on line 1, column ${pos + quote + 1}: bare " in non-quoted-field`);
      fields.push(field);
      if (comma < 0) return fields;
      rest = rest.slice(comma + 1);
      pos += comma + 1;
      continue;
    }
    rest = rest.slice(1);
    pos += 1;
    let field = '';
    for (;;) {
      const q = rest.indexOf('"');
      if (q < 0) throw new Error(`parse error on line 1, column ${pos + 1}: extraneous or missing " in quoted-field`);
      field += rest.slice(0, q);
      rest = rest.slice(q + 1);
      pos += q + 1;
      if (rest.startsWith('"')) {
        field += '"';
        rest = rest.slice(1);
        pos += 1;
      } else if (rest.startsWith(',')) {
        fields.push(field);
        rest = rest.slice(1);
        pos += 1;
        break;
      } else if (rest === '') {
        fields.push(field);
        return fields;
      } else {
        throw new Error(`parse error on line 1, column ${pos}: extraneous or missing " in quoted-field`);
      }
    }
  }
}
