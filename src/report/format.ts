/**
 * Small formatting helpers shared by the report renderers: sizes the way `docker` prints them,
 * relative times the way `docker history` prints them, percentages, truncation.
 */
import { missReasonLines } from '../builder/cache.js';
import type { BuildStepReason } from './types.js';

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
 * How long ago `then` was, as `docker history` says it (go-units `HumanDuration` + " ago"):
 * `Less than a second ago`, `5 seconds ago`, `About a minute ago`, `3 hours ago`, `2 weeks ago`.
 */
export function formatAgo(then: string | undefined, now: number): string {
  if (then === undefined) return '-';
  const t = Date.parse(then);
  if (Number.isNaN(t)) return then;
  const seconds = Math.floor((now - t) / 1000);
  if (seconds < 0) return 'in the future';
  let text: string;
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600 + 0.5);
  if (seconds < 1) text = 'Less than a second';
  else if (seconds === 1) text = '1 second';
  else if (seconds < 60) text = `${seconds} seconds`;
  else if (minutes === 1) text = 'About a minute';
  else if (minutes < 60) text = `${minutes} minutes`;
  else if (hours === 1) text = 'About an hour';
  else if (hours < 48) text = `${hours} hours`;
  else if (hours < 24 * 7 * 2) text = `${Math.floor(hours / 24)} days`;
  else if (hours < 24 * 30 * 2) text = `${Math.floor(hours / 24 / 7)} weeks`;
  else if (hours < 24 * 365 * 2) text = `${Math.floor(hours / 24 / 30)} months`;
  else text = `${Math.floor(seconds / 3600 / 24 / 365)} years`;
  return `${text} ago`;
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

/** The lines that explain a step's miss (one per changed file for a `files` reason). */
export function reasonLines(reason: BuildStepReason): ReturnType<typeof missReasonLines> {
  return reason.kind === 'other' ? [{ text: reason.message }] : missReasonLines(reason);
}
