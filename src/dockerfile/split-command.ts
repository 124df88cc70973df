/**
 * Splits an instruction line into keyword, `--flags` and the argument text, as BuildKit's
 * `parser/split_command.go` does, keeping the offset of each part so errors can point at it.
 * (BuildKit walks flags byte by byte; this walks UTF-16 code units, which is the same for ASCII.)
 */
import { isGoSpace, trimGoLeftSpace, trimGoRightSpace } from './go-text.js';
import { WHITESPACE } from './line-parsers.js';

/** A flag with quotes removed and the offset of its first character in the split line. */
export interface FlagText {
  text: string;
  offset: number;
}

/** The parts of one instruction line. */
export interface SplitCommand {
  keyword: string;
  keywordOffset: number;
  flags: FlagText[];
  /** The argument text, whitespace-trimmed. */
  args: string;
  /** Offset of `args` in the line. */
  argsOffset: number;
}

/** Splits `line` (offsets are relative to it). */
export function splitCommand(line: string, escapeToken: string): SplitCommand {
  const lead = line.length - trimGoLeftSpace(line).length;
  const trimmed = trimGoRightSpace(line.slice(lead));
  const m = WHITESPACE.exec(trimmed);
  if (m === null)
    return { keyword: trimmed, keywordOffset: lead, flags: [], args: '', argsOffset: lead + trimmed.length };
  const restOffset = lead + m.index + m[0].length;
  const { flags, restStart } = extractFlags(trimmed.slice(m.index + m[0].length), escapeToken);
  const rawArgs = trimmed.slice(m.index + m[0].length + restStart);
  const argsLead = rawArgs.length - trimGoLeftSpace(rawArgs).length;
  return {
    keyword: trimmed.slice(0, m.index),
    keywordOffset: lead,
    flags: flags.map((f) => ({ text: f.text, offset: f.offset + restOffset })),
    args: trimGoRightSpace(rawArgs.slice(argsLead)),
    argsOffset: restOffset + restStart + argsLead,
  };
}

/** BuildKit's `extractBuilderFlags`: leading words starting with `--`, up to a bare `--`. */
function extractFlags(line: string, escapeToken: string): { flags: FlagText[]; restStart: number } {
  const flags: FlagText[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let start = 0;
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, restStart: pos };
      phase = 'word';
      start = pos;
    }
    if (atEnd) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push({ text: word, offset: start });
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, restStart: pos };
        if (blankOK || word.length > 0) flags.push({ text: word, offset: start });
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === line.length) continue; // an escape at the end is dropped
        pos++;
        ch = line[pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos] as string;
    }
    word += ch;
  }
  return { flags, restStart: line.length };
}
