/**
 * Small text helpers the renderers share: making build output safe to show (no escape
 * sequences, no control characters), BuildKit's duration format, fitting a line to a width,
 * and ANSI styles that switch off cleanly.
 */

// CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`), other two-byte escapes, then C0/C1 controls.
// eslint-disable-next-line no-control-regex
const ESCAPES =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * One line of RUN output as a terminal or a log file may show it: escape sequences and control
 * characters removed, a carriage return keeps only what was drawn after it (progress bars),
 * tabs expanded to 8-column stops.
 */
export function sanitizeLine(line: string): string {
  let s = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cr = s.lastIndexOf('\r');
  if (cr >= 0) s = s.slice(cr + 1);
  s = s.replace(ESCAPES, '').replace(CONTROLS, '');
  if (!s.includes('\t')) return s;
  let out = '';
  for (const ch of s) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/** An instruction on one line: the lines of a heredoc or continued instruction joined by spaces, sanitised. */
export function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => sanitizeLine(l).trim())
    .filter((l) => l !== '')
    .join(' ');
}

/** Seconds with one decimal, as BuildKit prints step times (`0.4s`; under 0.05 s is `0.0s`). */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return `${s < 0.05 ? '0.0' : s.toFixed(1)}s`;
}

/** Cuts `text` to at most `width` characters (code points). */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  const chars = Array.from(text);
  return chars.length <= width ? text : chars.slice(0, width).join('');
}

/** `left` and `right` on one line of exactly `width` characters when they fit (left is cut if not). */
export function align(left: string, right: string, width: number): string {
  const room = width - Array.from(right).length;
  const l = cut(left, Math.max(0, room - 1));
  return l + ' '.repeat(Math.max(1, room - Array.from(l).length)) + right;
}

/** The ANSI styles the renderers use. */
export type Style = 'blue' | 'red' | 'yellow' | 'dim' | 'bold';

const SGR: Record<Style, [number, number]> = {
  blue: [34, 39],
  red: [31, 39],
  yellow: [33, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** Wraps `text` in a style, or returns it unchanged when colour is off. */
export function paint(color: boolean, style: Style, text: string): string {
  if (!color || text === '') return text;
  const [on, off] = SGR[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}
