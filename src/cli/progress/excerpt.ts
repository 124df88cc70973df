/**
 * The Dockerfile lines around a failed instruction, as BuildKit prints them after a failure:
 *
 *     Dockerfile:5
 *     --------------------
 *        3 |     COPY . .
 *        4 |     RUN make
 *        5 | >>> RUN exit 2
 *        6 |     CMD ["app"]
 *
 * (with a caret under the column when the error knows it).
 *     --------------------
 */

/** What {@link formatDockerfileExcerpt} shows. */
export interface DockerfileExcerptOptions {
  /** The Dockerfile's text. */
  text: string;
  /** Its name as the build named it (`Dockerfile`, `docker/Dockerfile.dev`). */
  file: string;
  /** The instruction's first line (1-based). */
  line: number;
  /** Its last line (default: `line` and the lines a trailing `\\` continues it onto). */
  endLine?: number | undefined;
  /** The column the error points at (1-based): a caret is drawn under it. */
  column?: number | undefined;
  /** Lines shown before and after (default 2). */
  around?: number;
}

/** The excerpt, each line ending in a newline; empty when `line` is outside the text. */
export function formatDockerfileExcerpt(options: DockerfileExcerptOptions): string {
  const lines = options.text.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const first = options.line;
  if (!Number.isInteger(first) || first < 1 || first > lines.length) return '';
  let last = first;
  if (options.endLine !== undefined) last = Math.min(lines.length, Math.max(first, options.endLine));
  else while (last < lines.length && /\\\s*$/.test(lines[last - 1]!)) last++;
  const around = options.around ?? 2;
  const from = Math.max(1, first - around);
  const to = Math.min(lines.length, last + around);
  const width = Math.max(4, String(to).length + 1);
  const out = [`${options.file}:${first}`, '-'.repeat(20)];
  for (let n = from; n <= to; n++) {
    const marker = n >= first && n <= last ? '>>>' : '   ';
    out.push(`${String(n).padStart(width)} | ${marker} ${lines[n - 1]}`.trimEnd());
    if (n === first && options.column !== undefined && options.column >= 1)
      out.push(`${' '.repeat(width)} |     ${' '.repeat(options.column - 1)}^`);
  }
  out.push('-'.repeat(20));
  return `${out.join('\n')}\n`;
}
