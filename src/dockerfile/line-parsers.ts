/**
 * BuildKit's per-instruction argument parsers (`parser/line_parsers.go`): they turn the text after
 * the keyword and flags into the node's argument list. Variables are not expanded here and quotes
 * are kept; that happens when the builder expands the instruction.
 */
import { goQuote, isGoSpace, trimGoLeftSpace } from './go-text.js';

/** The arguments of one node and whether they came from a JSON array. */
export interface ParsedArgs {
  args: string[];
  json: boolean;
}

/** Thrown for malformed arguments; `kind` picks the error code the parser uses. */
export class ArgumentError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'arguments',
  ) {
    super(message);
  }
}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';
/** BuildKit's `reWhitespace`. */
export const WHITESPACE = /[\t\v\f\r ]+/;
const WHITESPACE_ALL = /[\t\v\f\r ]+/g;
const GO_JSON_MAX_DEPTH = 10000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NONE: ParsedArgs = { args: [], json: false };

/**
 * Splits on whitespace keeping quotes and escapes in the words (`parseWords`): used for ARG, and
 * for ENV/LABEL to tell the `k=v` form from the legacy `k v` form.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  const chars = [...rest];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isGoSpace(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch;
        pos++;
        ch = chars[pos] as string;
      }
      word += ch;
      continue;
    }
    // inside quotes
    if (ch === quote) phase = 'word';
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos] as string;
    }
    word += ch;
  }
  return words;
}

/** ENV and LABEL: `key value` (legacy, separator "") or `k=v ...` (separator "="), as triples. */
export function parseNameValue(rest: string, keyword: 'ENV' | 'LABEL', escapeToken: string): ParsedArgs {
  const words = parseWords(rest, escapeToken);
  const first = words[0];
  if (first === undefined) return NONE;
  if (!first.includes('=')) {
    const m = WHITESPACE.exec(rest);
    if (m === null) throw new ArgumentError(`${keyword} must have two arguments`, 'arguments');
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new ArgumentError(
        `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`,
        'arguments',
      );
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false };
}

/** Go's json nesting limit, checked without parsing (strings skipped). */
function tooDeep(text: string): boolean {
  if (text.length <= GO_JSON_MAX_DEPTH) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > GO_JSON_MAX_DEPTH) return true;
    } else if (c === ']' || c === '}') depth--;
  }
  return false;
}

/**
 * A JSON array of strings, or undefined when `rest` is not valid JSON (the caller falls back
 * to shell form). A valid array holding anything but strings is a hard error.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = trimGoLeftSpace(rest);
  if (!text.startsWith('[') || tooDeep(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: string[] = [];
  for (const item of parsed) {
    if (typeof item !== 'string') throw new ArgumentError(NOT_STRING_ARRAY, 'syntax');
    out.push(item.replace(LONE_SURROGATE, '\ufffd')); // Go decodes a lone \uD800 escape as U+FFFD
  }
  return out;
}

/** RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the whole rest as one string. */
export function parseMaybeJson(rest: string): ParsedArgs {
  if (rest === '') return NONE;
  const json = parseJsonArray(rest);
  return json === undefined ? { args: [rest], json: false } : { args: json, json: true };
}

/** COPY, ADD, VOLUME: a JSON array, else whitespace-separated words (quotes not interpreted). */
export function parseMaybeJsonToList(rest: string): ParsedArgs {
  const json = parseJsonArray(rest);
  return json === undefined ? parseWhitespaceList(rest) : { args: json, json: true };
}

/** FROM, EXPOSE (and the shell form of COPY/ADD/VOLUME): split on `[\t\v\f\r ]+`. */
export function parseWhitespaceList(rest: string): ParsedArgs {
  if (rest === '') return NONE;
  return { args: rest.split(WHITESPACE_ALL), json: false };
}

/** USER, WORKDIR, STOPSIGNAL, MAINTAINER: the whole rest as one argument. */
export function parseWholeString(rest: string): ParsedArgs {
  return rest === '' ? NONE : { args: [rest], json: false };
}

/** ARG: the raw words. */
export function parseArgWords(rest: string, escapeToken: string): ParsedArgs {
  return { args: parseWords(rest, escapeToken), json: false };
}

/** HEALTHCHECK: the type word (`CMD`, `NONE`...), then the command as for CMD. */
export function parseHealthcheckArgs(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep] as string)) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next] as string)) next++;
  const command = parseMaybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
}
