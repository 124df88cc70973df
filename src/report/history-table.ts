/**
 * `layerkit history` output: the `docker history` table (newest first) with a CACHE column when
 * the store recorded the build, or one JSON object per line.
 */
import { ellipsis, formatAgo, formatSize, oneLine, shortDigest } from './format.js';
import type { HistoryRow } from './types.js';

/** Options for {@link formatHistoryTable}. */
export interface FormatHistoryTableOptions {
  /** The image ID (config digest), shown on the newest row as `docker history` does. */
  imageId: string;
  /** Show full IDs and full CREATED BY text (default: 12-digit IDs, CREATED BY cut at 45 characters). */
  noTrunc?: boolean | undefined;
  /** "Now" for the relative CREATED column, in ms since the epoch (default `Date.now()`). */
  now?: number | undefined;
}

const CACHE_TEXT = { hit: 'hit', miss: 'miss', config: '-', base: 'base' } as const;

/**
 * The history as table lines, newest first: IMAGE (the image ID on the newest row, `<missing>`
 * below it, as for any BuildKit-built image), CREATED (relative), CREATED BY, SIZE (the layer's
 * uncompressed file bytes; `0B` for empty-layer entries), CACHE (only when some row knows it:
 * `hit`, `miss`, `-` for config-only steps, `base` for entries that came with the base image)
 * and COMMENT. Columns are separated by at least three spaces, as docker's tabwriter does.
 */
export function formatHistoryTable(rows: readonly HistoryRow[], options: FormatHistoryTableOptions): string[] {
  const now = options.now ?? Date.now();
  const full = options.noTrunc === true;
  const withCache = rows.some((r) => r.cache !== undefined);
  const header = ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', ...(withCache ? ['CACHE'] : []), 'COMMENT'];
  const body = [...rows].reverse().map((r, i) => {
    const id = i === 0 ? (full ? options.imageId : shortDigest(options.imageId)) : '<missing>';
    const createdBy = full ? oneLine(r.createdBy) : ellipsis(oneLine(r.createdBy), 45);
    return [
      id,
      formatAgo(r.created, now),
      createdBy,
      formatSize(r.size),
      ...(withCache ? [r.cache ? `${CACHE_TEXT[r.cache]}${r.cacheSource ? ` ${r.cacheSource}` : ''}` : ''] : []),
      r.comment,
    ];
  });
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => Array.from(row[c]!).length)));
  return table.map((row) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell : cell + ' '.repeat(widths[c]! - Array.from(cell).length + 3)))
      .join('')
      .trimEnd(),
  );
}

/** The history as JSON lines, newest first (each line one {@link HistoryRow}). */
export function formatHistoryJson(rows: readonly HistoryRow[]): string[] {
  return [...rows].reverse().map((r) => JSON.stringify(r));
}
