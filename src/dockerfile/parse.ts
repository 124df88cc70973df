/**
 * `parseDockerfile`: Dockerfile text to AST, with BuildKit's grammar (`parser/parser.go`):
 * parser directives at the top, BOM and CRLF, continuation lines with the escape token (comment
 * and blank lines inside a continuation dropped, the latter with a warning), keyword/flags/argument
 * splitting, JSON (exec) versus shell form, heredocs for RUN/COPY/ADD, and ONBUILD wrapping a
 * nested instruction. Unknown keywords parse (BuildKit rejects them one step later, in
 * `toInstruction`). Pure: no I/O.
 */
import { ErrorCodes } from '../errors.js';
import { checkEscapeToken, DirectiveScanner } from './directives.js';
import { dockerfileError } from './dockerfile-error.js';
import { trimGoLeftSpace } from './go-text.js';
import { heredocsFromLine } from './heredoc.js';
import {
  ArgumentError,
  parseArgWords,
  parseHealthcheckArgs,
  parseMaybeJson,
  parseMaybeJsonToList,
  parseNameValue,
  parseWhitespaceList,
  parseWholeString,
  type ParsedArgs,
} from './line-parsers.js';
import { splitCommand } from './split-command.js';
import type { Directives, EscapeToken, Node, ParsedDockerfile, Position, Warning } from './types.js';

/** Options of {@link parseDockerfile}. */
export interface ParseOptions {
  /** The name errors and warnings use (default `Dockerfile`). */
  file?: string;
}

/** Go's bufio.Scanner limit: a line longer than this many bytes fails the parse. */
export const MAX_LINE_BYTES = 65535;

const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);
const EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';

interface Segment {
  offset: number;
  line: number;
  column: number;
}

interface LineContext {
  file: string;
  escape: EscapeToken;
  locate(offset: number): Position;
}

function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return s.slice(0, end);
}

function isComment(line: string): boolean {
  return trimGoLeftSpace(line).startsWith('#');
}

function splitLines(source: string): string[] {
  const lines: string[] = [];
  let pos = 0;
  while (pos < source.length) {
    const nl = source.indexOf('\n', pos);
    const end = nl < 0 ? source.length : nl + 1;
    lines.push(source.slice(pos, end));
    pos = end;
  }
  return lines;
}

function continuationRegExp(escapeToken: EscapeToken): RegExp {
  const e = escapeToken === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/**
 * Parses a Dockerfile. Throws `LayerkitError` (`ERR_DOCKERFILE_SYNTAX` or
 * `ERR_DOCKERFILE_ARGUMENTS`) whose message starts `file:line:column:`; warnings (such as
 * BuildKit's empty-continuation-line warning) are returned, never thrown.
 */
export function parseDockerfile(text: string | Uint8Array, options: ParseOptions = {}): ParsedDockerfile {
  const file = options.file ?? 'Dockerfile';
  const source = typeof text === 'string' ? text : new TextDecoder('utf-8', { ignoreBOM: true }).decode(text);
  const lines = splitLines(source);
  const directives: Directives = { escape: '\\' };
  const scanner = new DirectiveScanner();
  let continuation = continuationRegExp('\\');
  const nodes: Node[] = [];
  const warnings: Warning[] = [];
  let next = 0;
  let currentLine = 0;

  const syntaxError = (reason: string, line: number, column = 1, cause?: unknown): never => {
    throw dockerfileError(ErrorCodes.ERR_DOCKERFILE_SYNTAX, reason, { file, line, column }, cause);
  };
  const readLine = (): string => {
    const raw = lines[next++] as string;
    const content = trimNewline(raw);
    if (content.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(content) > MAX_LINE_BYTES) {
      syntaxError(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, currentLine + 1);
    }
    return raw;
  };
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimGoLeftSpace(token);
    let found;
    try {
      found = scanner.scan(token);
    } catch (err) {
      return syntaxError((err as Error).message, currentLine + 1);
    }
    if (found !== undefined) {
      if (found.name === 'escape') {
        checkEscapeToken(found.value);
        directives.escape = found.value;
        continuation = continuationRegExp(found.value);
      } else if (found.name === 'syntax') {
        directives.syntax = found.value;
      } else {
        directives.check = found.value;
      }
    }
    return isComment(token) ? '' : token;
  };
  const trimContinuation = (s: string): [string, boolean] =>
    continuation.test(s) ? [s.replace(continuation, '$1'), false] : [s, true];

  while (next < lines.length) {
    let raw = readLine();
    if (currentLine === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    const first = processLine(raw, true);
    currentLine++;
    const startLine = currentLine;
    let lastText = trimNewline(raw);
    const segments: Segment[] = [
      { offset: 0, line: startLine, column: lastText.length - trimGoLeftSpace(lastText).length + 1 },
    ];
    let [buf, isEnd] = trimContinuation(first);
    if (isEnd && buf === '') continue;
    let hasEmptyLine = false;
    while (!isEnd && next < lines.length) {
      const rawNext = readLine();
      const processed = processLine(rawNext, false);
      currentLine++;
      lastText = trimNewline(rawNext);
      if (isComment(rawNext)) continue;
      if (trimGoLeftSpace(processed) === '') {
        hasEmptyLine = true;
        continue;
      }
      const [chunk, end] = trimContinuation(processed);
      segments.push({ offset: buf.length, line: currentLine, column: 1 });
      buf += chunk;
      isEnd = end;
    }
    if (hasEmptyLine) {
      warnings.push({
        rule: 'NoEmptyContinuation',
        message: `Empty continuation line found in: ${buf}`,
        detail: 'Empty continuation lines will become errors in a future release',
        url: EMPTY_CONTINUATION_URL,
        file,
        line: currentLine,
      });
    }
    const ctx: LineContext = { file, escape: directives.escape, locate: (offset) => locate(segments, offset) };
    const node = buildNode(buf, 0, ctx);
    const target = node.keyword === 'onbuild' && node.child !== undefined ? node.child : node;
    if (HEREDOC_KEYWORDS.has(target.keyword) && !target.json && buf.includes('<<')) {
      let docs;
      try {
        docs = heredocsFromLine(buf);
      } catch (err) {
        return syntaxError((err as Error).message, startLine, node.range.start.column, err);
      }
      for (const doc of docs) {
        let terminated = false;
        while (next < lines.length) {
          const body = readLine();
          currentLine++;
          lastText = trimNewline(body);
          const candidate = doc.chomp ? lastText.replace(/^\t+/, '') : lastText;
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          doc.content += body;
        }
        if (!terminated) {
          const hint = `no line ${JSON.stringify(doc.name)} ends it before the end of the file`;
          syntaxError(`unterminated heredoc: ${hint}`, startLine, node.range.start.column);
        }
      }
      node.heredocs = docs;
      if (node.child !== undefined) node.child.heredocs = docs.map((d) => ({ ...d }));
    }
    const end: Position = { line: currentLine, column: lastText.length + 1 };
    node.range.end = end;
    if (node.child !== undefined) node.child.range.end = { ...end };
    nodes.push(node);
  }
  if (nodes.length === 0) syntaxError('file with no instructions', Math.max(1, currentLine));
  return { file, directives, nodes, warnings };
}

function locate(segments: Segment[], offset: number): Position {
  let seg = segments[0] as Segment;
  for (const s of segments) {
    if (s.offset > offset) break;
    seg = s;
  }
  return { line: seg.line, column: seg.column + (offset - seg.offset) };
}

function parseArgs(keyword: string, rest: string, escapeToken: EscapeToken): ParsedArgs {
  switch (keyword) {
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJsonToList(rest);
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return parseMaybeJson(rest);
    case 'env':
      return parseNameValue(rest, 'ENV', escapeToken);
    case 'label':
      return parseNameValue(rest, 'LABEL', escapeToken);
    case 'arg':
      return parseArgWords(rest, escapeToken);
    case 'expose':
    case 'from':
      return parseWhitespaceList(rest);
    case 'healthcheck':
      return parseHealthcheckArgs(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return parseWholeString(rest);
    default:
      return { args: [], json: false }; // onbuild (see child) and unknown keywords
  }
}

/** One instruction (or ONBUILD's trigger) from its joined text starting at `base` in the line. */
function buildNode(text: string, base: number, ctx: LineContext): Node {
  const split = splitCommand(text, ctx.escape);
  const keyword = split.keyword.toLowerCase();
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(keyword, split.args, ctx.escape);
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    const code = err.kind === 'syntax' ? ErrorCodes.ERR_DOCKERFILE_SYNTAX : ErrorCodes.ERR_DOCKERFILE_ARGUMENTS;
    throw dockerfileError(code, err.message, { file: ctx.file, ...ctx.locate(base + split.argsOffset) });
  }
  const start = ctx.locate(base + split.keywordOffset);
  const node: Node = {
    keyword,
    rawKeyword: split.keyword,
    args: parsed.args,
    flags: split.flags.map((f) => f.text),
    flagPositions: split.flags.map((f) => ctx.locate(base + f.offset)),
    json: parsed.json,
    heredocs: [],
    original: text,
    range: { start, end: { ...start } },
  };
  if (keyword === 'onbuild' && split.args !== '') node.child = buildNode(split.args, base + split.argsOffset, ctx);
  return node;
}
