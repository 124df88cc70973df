/**
 * `docker images --filter`: dangling, reference, label, before, since and until, with docker's
 * rules: filters with different keys must all match; several `reference` values match when any
 * does; several `label` values must all match; `before`/`since` name images by reference;
 * `until` is a time (docker's `timetypes.GetTimestamp`: a Go duration before now, an RFC 3339
 * date or time, or Unix seconds) the image was created before.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { familiarReference, parseReference } from '../oci/reference.js';

/** The filter keys `images --filter` accepts. */
export const IMAGE_FILTER_KEYS = ['dangling', 'reference', 'label', 'before', 'since', 'until'] as const;

/** Parsed filters: every value given for each key. */
export interface ImageFilters {
  dangling?: boolean | undefined;
  reference: string[];
  label: Array<{ key: string; value?: string | undefined }>;
  before: string[];
  since: string[];
  /** `until=` values as given (a duration counts back from the time the list is made). */
  until: string[];
}

/**
 * Parses `KEY=VALUE` filters as `docker images --filter` takes them. An unknown key, a missing
 * `=`, a bad `dangling` value or conflicting `dangling` values are `ERR_USAGE`.
 * @example parseImageFilters(['dangling=true', 'label=org.example.team'])
 */
export function parseImageFilters(filters: readonly string[]): ImageFilters {
  const out: ImageFilters = { reference: [], label: [], before: [], since: [], until: [] };
  const dangling = new Set<boolean>();
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    if (eq < 0) throw bad(filter, `bad format of filter ${JSON.stringify(filter)} (expected name=value)`);
    const key = filter.slice(0, eq).trim().toLowerCase();
    const value = filter.slice(eq + 1).trim();
    switch (key) {
      case 'dangling':
        if (value === 'true' || value === '1') dangling.add(true);
        else if (value === 'false' || value === '0') dangling.add(false);
        else throw bad(filter, `invalid filter 'dangling=${value}': use true or false`);
        break;
      case 'reference':
        checkPattern(value, filter);
        out.reference.push(value);
        break;
      case 'label': {
        const at = value.indexOf('=');
        if (value === '' || at === 0) throw bad(filter, `invalid filter 'label=${value}': a label key is needed`);
        out.label.push(at < 0 ? { key: value } : { key: value.slice(0, at), value: value.slice(at + 1) });
        break;
      }
      case 'before':
      case 'since':
        if (value === '') throw bad(filter, `invalid filter '${key}=': name an image`);
        out[key].push(value);
        break;
      case 'until':
        parseUntil(value, 0, filter);
        out.until.push(value);
        break;
      default:
        throw bad(filter, `invalid filter '${key}': images filters are ${IMAGE_FILTER_KEYS.join(', ')}`);
    }
  }
  if (dangling.size > 1) throw bad(filters.join(' '), "invalid filter 'dangling': both true and false given");
  if (dangling.size === 1) out.dangling = [...dangling][0];
  return out;
}

function bad(filter: string, message: string): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_USAGE, message, { filter });
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * An `until=` value as milliseconds since the epoch, as docker's `timetypes.GetTimestamp` reads
 * it: a Go duration (`10m`, `1h30m`, `2.5h`) counts back from `now`; `2006-01-02`,
 * `2006-01-02T15`, `2006-01-02T15:04`, `2006-01-02T15:04:05[.nnn]` are local time unless they
 * end in `Z` or an offset (`+07:00`); digits alone are Unix seconds (`1700000000.5`).
 * Anything else is `ERR_USAGE` naming the filter.
 * @example parseUntil('24h', Date.now())
 */
export function parseUntil(value: string, now: number, filter = `until=${value}`): number {
  const duration = /^[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(value);
  if (duration && value !== '0') {
    let ms = 0;
    for (const [, n, unit] of value.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g))
      ms += Number(n) * DURATION_UNITS[unit!]!;
    return now - (value.startsWith('-') ? -ms : ms);
  }
  const t =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/i.exec(value);
  if (t) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = t;
    const ms = Number(`0.${frac || '0'}`) * 1000;
    const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms] as const;
    const valid = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= 31 && Number(h) < 24;
    if (valid && Number(mi) < 60 && Number(sec) < 60) {
      if (zone === undefined) return new Date(...fields).getTime();
      const offset = /^z$/i.test(zone)
        ? 0
        : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
      return Date.UTC(...fields) - offset * 60_000;
    }
  } else if (/^[0-9]+(?:\.[0-9]{1,9})?$/.test(value)) {
    return Number(value) * 1000;
  }
  throw bad(
    filter,
    `invalid filter 'until=${value}': use a duration (24h), a date or time (2024-05-01T10:00:00Z) or Unix seconds`,
  );
}

/** What a filter looks at in one image. */
export interface FilterableImage {
  names: string[];
  labels: Record<string, string>;
  /** Milliseconds since the epoch; undefined sorts before every time, as Go's zero time does. */
  created: number | undefined;
}

/**
 * Applies filters to one image: undefined when it is filtered out, else the names to show (a
 * `reference` filter keeps only the names it matches, as docker does).
 * `before`/`since` must already be resolved to creation times (`beforeTimes`, `sinceTimes`).
 */
export function matchImageFilters(
  image: FilterableImage,
  filters: ImageFilters,
  times: { before: number[]; since: number[]; until?: number[] } = { before: [], since: [] },
): string[] | undefined {
  if (filters.dangling !== undefined && (image.names.length === 0) !== filters.dangling) return undefined;
  for (const { key, value } of filters.label) {
    if (!Object.hasOwn(image.labels, key)) return undefined;
    if (value !== undefined && image.labels[key] !== value) return undefined;
  }
  const created = image.created ?? Number.NEGATIVE_INFINITY;
  if (times.before.length > 0 && !(created < Math.min(...times.before))) return undefined;
  if (times.since.length > 0 && !(created > Math.max(...times.since))) return undefined;
  if (times.until !== undefined && times.until.length > 0 && !(created < Math.min(...times.until))) return undefined;
  if (filters.reference.length === 0) return image.names;
  const names = image.names.filter((name) => filters.reference.some((p) => referenceMatches(p, name)));
  return names.length > 0 ? names : undefined;
}

/** docker's FamiliarMatch: the pattern against `name:tag`, then against `name` alone. */
export function referenceMatches(pattern: string, name: string): boolean {
  let familiar: string;
  let repository: string | undefined;
  try {
    familiar = familiarReference(name);
    const ref = parseReference(name);
    const at = familiar.indexOf('@');
    const withoutDigest = at < 0 ? familiar : familiar.slice(0, at);
    repository =
      ref.tag !== undefined ? withoutDigest.slice(0, withoutDigest.length - ref.tag.length - 1) : withoutDigest;
  } catch {
    familiar = name;
  }
  return pathMatch(pattern, familiar) || (repository !== undefined && pathMatch(pattern, repository));
}

function checkPattern(pattern: string, filter: string): void {
  try {
    pathMatch(pattern, '');
  } catch {
    throw bad(filter, `invalid filter 'reference=${pattern}': syntax error in pattern`);
  }
}

/**
 * Go's `path.Match`: `*` any run of characters but `/`, `?` one character but `/`, `[a-z]` and
 * `[^...]` classes, `\\` escapes. A malformed pattern throws.
 */
export function pathMatch(pattern: string, name: string): boolean {
  const re = globRegExp(pattern);
  return re.test(name);
}

const cache = new Map<string, RegExp>();

function globRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) throw new Error('bad pattern');
      src += escapeRe(pattern[i]!);
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '^') {
        negate = true;
        j++;
      }
      let cls = '';
      let first = true;
      for (;;) {
        if (j >= pattern.length) throw new Error('bad pattern');
        let ch = pattern[j]!;
        if (ch === ']' && !first) break;
        first = false;
        if (ch === '\\') {
          j++;
          if (j >= pattern.length) throw new Error('bad pattern');
          ch = pattern[j]!;
        } else if (ch === '-' || ch === ']') throw new Error('bad pattern');
        cls += escapeClass(ch);
        if (pattern[j + 1] === '-' && pattern[j + 2] !== undefined && pattern[j + 2] !== ']') {
          let hi = pattern[j + 2]!;
          j += 2;
          if (hi === '\\') {
            j++;
            if (j >= pattern.length) throw new Error('bad pattern');
            hi = pattern[j]!;
          }
          if (hi < ch) throw new Error('bad pattern');
          cls += `-${escapeClass(hi)}`;
        }
        j++;
      }
      src += negate ? `[^${cls}]` : `[${cls}]`;
      i = j;
    } else src += escapeRe(c);
  }
  const re = new RegExp(`${src}$`, 'su');
  cache.set(pattern, re);
  return re;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, '\\$&');
}
