/**
 * Parser directives (`# escape=`, `# syntax=`, `# check=`), read from the top of the file with
 * BuildKit's rules: keys are case-insensitive, each may appear once, and scanning stops for good
 * at the first line that is not a recognised directive (an instruction, a blank line, an ordinary
 * comment, an unknown key).
 */
import type { EscapeToken } from './types.js';
import { trimGoLeftSpace } from './go-text.js';

// Go's `\s` is [\t\n\f\r ]; Go's `.` is anything but \n.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;
const KEYS = new Set(['syntax', 'escape', 'check']);

/** One recognised directive line. */
export interface DirectiveLine {
  name: 'syntax' | 'escape' | 'check';
  value: string;
}

/** The stateful directive scanner the parser feeds every processed line to. */
export class DirectiveScanner {
  private done = false;
  private readonly seen = new Set<string>();

  /**
   * Looks at one line (already left-trimmed for instruction starts). Returns the directive, or
   * undefined once scanning has stopped. Throws a plain Error with BuildKit's wording for a
   * repeated key or a bad escape token; the parser adds the location.
   */
  scan(line: string): DirectiveLine | undefined {
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(trimGoLeftSpace(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (m === null || key === undefined || !KEYS.has(key)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2] as string;
    if (key === 'escape') checkEscapeToken(value);
    return { name: key as DirectiveLine['name'], value };
  }
}

/** Throws BuildKit's error unless `value` is one of the two escape tokens. */
export function checkEscapeToken(value: string): asserts value is EscapeToken {
  if (value !== '`' && value !== '\\') {
    throw new Error(`invalid escape token '${value}' does not match \` or \\`);
  }
}
