/**
 * Small formatting helpers shared by the report renderers: sizes the way `docker` prints them,
 * relative times the way `docker history` prints them, percentages, truncation.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/**
 * A byte count as docker prints it (go-units `HumanSizeWithPrecision(n, 3)`: decimal units,
 * three significant digits, trailing zeros dropped): `0B`, `512B`, `1.23kB`, `45.6MB`.
 * `separator` goes between number and unit (`' '` reads better in prose).
 */
export function formatSize(bytes: number, separator = ''): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  let digits = Number(v.toPrecision(3));
  if (digits >= 1000 && i < UNITS.length - 1) {
    digits = Number((digits / 1000).toPrecision(3));
    i++;
  }
  return `${digits}${separator}${UNITS[i]}`;
}

/** A ratio as a percentage with one decimal (`8.3%`); exact 0 and 100 have none. */
export function formatPercent(ratio: number): string {
  const p = ratio * 100;
  if (p === 0 || p === 100) return `${p}%`;
  const text = p.toFixed(1);
  // Never round a ratio that is not 100% up to "100.0%" (nor a non-zero one down to "0.0%").
  if (text === '100.0') return '>99.9%';
  if (text === '0.0') return '<0.1%';
  return `${text}%`;
}

/**
 * A duration as docker says it (go-units `HumanDuration`): `Less than a second`, `5 seconds`,
 * `About a minute`, `3 hours`, `2 weeks`. The one wording behind every relative time the CLI prints.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600 + 0.5);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`;
}

/**
 * How long ago `then` was, as `docker history` and `docker images` say it (go-units
 * `HumanDuration` + " ago"): `Less than a second ago`, `5 seconds ago`, `2 weeks ago`.
 */
export function formatAgo(then: string | undefined, now: number): string {
  if (then === undefined) return '-';
  const t = Date.parse(then);
  if (Number.isNaN(t)) return then;
  if (now - t < 0) return 'in the future';
  return `${humanDuration(now - t)} ago`;
}

/** A duration in milliseconds as `850ms`, `1.2s`, `3m4s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms - m * 60_000) / 1000)}s`;
}

/** Cuts `text` to `max` characters, ending with `…` when it was longer (docker's `Ellipsis`). */
export function ellipsis(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Puts multi-line text (heredocs, long RUN lines) on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\t/g, ' ');
}

/** The short form of a digest (12 hex digits, as docker shows image IDs). */
export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return digest.slice(i + 1, i + 13);
}
