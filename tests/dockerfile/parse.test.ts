import { describe, expect, it } from 'vitest';
import { isLayerkitError, type LayerkitError } from '../../src/errors.js';
import { dumpDockerfile, parseDockerfile, type Heredoc } from '../../src/dockerfile/index.js';

function dump(text: string): string {
  return dumpDockerfile(parseDockerfile(text));
}

function parseError(text: string, file = 'Dockerfile'): LayerkitError {
  try {
    parseDockerfile(text, { file });
  } catch (err) {
    if (isLayerkitError(err)) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('parser directives', () => {
  it.each([
    ['# escape=`\nFROM a `\n  b\n', '`', '(from "a" "b")\n'],
    ['#escape = \\\nFROM a \\\n b\n', '\\', '(from "a" "b")\n'],
    ['# ESCAPE=`\nFROM a `\nb\n', '`', '(from "a" "b")\n'],
    ['  #  escape   =   `  \nFROM a `\nb\n', '`', '(from "a" "b")\n'],
    // a blank line ends directive scanning: the backtick line is a comment
    ['\n# escape=`\nFROM a \\\nb\n', '\\', '(from "a" "b")\n'],
    // an ordinary comment ends it too
    ['# hello\n# escape=`\nENV A \\\nb\n', '\\', '(env "A" "b" "")\n'],
    // an unknown key ends it
    ['# foo=bar\n# escape=`\nENV A \\\nb\n', '\\', '(env "A" "b" "")\n'],
  ])('%j → escape %s', (text, escapeToken, expected) => {
    const parsed = parseDockerfile(text);
    expect(parsed.directives.escape).toBe(escapeToken);
    expect(dumpDockerfile(parsed)).toBe(expected);
  });

  it('records syntax and check, and a directive line ending in the escape is not continued', () => {
    const parsed = parseDockerfile('# syntax=docker/dockerfile:1 // opts\n# check=skip=all\\\nFROM a\n');
    expect(parsed.directives).toEqual({ escape: '\\', syntax: 'docker/dockerfile:1 // opts', check: 'skip=all\\' });
    expect(dumpDockerfile(parsed)).toBe('(from "a")\n');
  });

  it.each([
    ['# escape=x\nFROM a\n', "invalid escape token 'x' does not match ` or \\", 1],
    ['# syntax=a\n# SYNTAX=b\nFROM a\n', 'only one syntax parser directive can be used', 2],
    ['# escape=\\\n# escape=`\nFROM a\n', 'only one escape parser directive can be used', 2],
  ])('%j fails: %s', (text, reason, line) => {
    const err = parseError(text);
    expect(err.code).toBe('ERR_DOCKERFILE_SYNTAX');
    expect(err.data).toMatchObject({ reason, line, column: 1, file: 'Dockerfile' });
    expect(err.message).toBe(`Dockerfile:${line}:1: ${reason}`);
  });
});

describe('lines and continuations', () => {
  it.each([
    ['BOM', '\ufeffFROM a\n', '(from "a")\n'],
    ['CRLF', 'FROM a\r\nRUN b \\\r\n  c\r\n', '(from "a")\n(run "b   c")\n'],
    ['indented instruction and comment', '   FROM a\n\t# c\n  RUN b\n', '(from "a")\n(run "b")\n'],
    ['# inside arguments is text', 'RUN echo # x\n', '(run "echo # x")\n'],
    ['continuation joins with no separator', 'RUN a\\\nb\n', '(run "ab")\n'],
    ['continuation keeps indentation', 'RUN a \\\n   b\n', '(run "a    b")\n'],
    ['escaped escape does not continue', 'RUN a \\\\\nRUN b\n', '(run "a \\\\\\\\")\n(run "b")\n'],
    ['trailing blanks after the escape', 'RUN a \\ \t\nb\n', '(run "a b")\n'],
    ['a lone escape line continues', 'RUN a\\\n\\\nb\n', '(run "ab")\n'],
    ['comment lines inside a continuation are dropped', 'RUN a \\\n# x\n  # y\n b\n', '(run "a  b")\n'],
    ['continuation at EOF', 'RUN a \\', '(run "a")\n'],
    ['keywords are case-insensitive', 'from a\nRuN b\n', '(from "a")\n(run "b")\n'],
    ['unknown keywords parse', 'FROM a\nFOO bar\n', '(from "a")\n(foo "")\n'],
    ['CR-only line endings are text', 'RUN a\rRUN b\n', '(run "a\\rRUN b")\n'],
  ])('%s', (_name, text, expected) => {
    expect(dump(text)).toBe(expected);
  });

  it('warns, not fails, on empty continuation lines (BuildKit NoEmptyContinuation)', () => {
    const text =
      'FROM a\nRUN valid \\\n  continuation\nRUN something \\\n\n    following \\\n\n    more\nRUN another \\\n\n  thing\nRUN x \\\n# c\n  y\n';
    const parsed = parseDockerfile(text, { file: 'x/Dockerfile' });
    expect(parsed.warnings.map((w) => [w.rule, w.message, w.line, w.file])).toEqual([
      [
        'NoEmptyContinuation',
        'Empty continuation line found in: RUN something     following     more',
        8,
        'x/Dockerfile',
      ],
      ['NoEmptyContinuation', 'Empty continuation line found in: RUN another   thing', 11, 'x/Dockerfile'],
    ]);
    expect(parsed.warnings[0]?.detail).toMatch(/will become errors in a future release/);
  });

  it.each([
    ['', 1],
    ['\n\n# only a comment\n\n', 4],
  ])('%j has no instructions', (text, line) => {
    const err = parseError(text);
    expect(err.data).toMatchObject({ reason: 'file with no instructions', line });
  });

  it('rejects a line longer than 65535 bytes, as Go’s scanner does', () => {
    const err = parseError(`FROM image\nLABEL test=${'a'.repeat(65536)}\n`);
    expect(err.data).toMatchObject({ reason: 'dockerfile line greater than max allowed size of 65535', line: 2 });
    // multi-byte characters count in bytes
    expect(() => parseDockerfile(`FROM a\nRUN ${'é'.repeat(32767)}\n`)).toThrow(/max allowed size/);
    expect(() => parseDockerfile(`FROM a\nRUN ${'é'.repeat(32765)}\n`)).not.toThrow();
  });

  it('accepts bytes and decodes them as UTF-8', () => {
    const bytes = new TextEncoder().encode('\ufeffFROM a\nRUN ☃\n');
    expect(dumpDockerfile(parseDockerfile(bytes))).toBe('(from "a")\n(run "☃")\n');
  });
});

describe('flags and argument shapes', () => {
  it.each([
    ['COPY --from="a b" --chown=1:1 x y', '(copy ["--from=a b" "--chown=1:1"] "x" "y")'],
    ["COPY --from='a' x y", '(copy ["--from=a"] "x" "y")'],
    ['COPY --from=a\\ b x y', '(copy ["--from=a b"] "x" "y")'],
    ['COPY -- --notaflag y', '(copy "--notaflag" "y")'],
    ['COPY --link', '(copy ["--link"])'],
    ['COPY "a b" c', '(copy "\\"a" "b\\"" "c")'],
    ['RUN --mount=type=cache,target=/x echo hi', '(run ["--mount=type=cache,target=/x"] "echo hi")'],
    ['RUN ["a", "b"] ', '(run "a" "b")'],
    ['RUN [ "a" ] trailing', '(run "[ \\"a\\" ] trailing")'],
    ["RUN ['a']", '(run "[\'a\']")'],
    ['RUN []', '(run)'],
    ['RUN [""]', '(run "")'],
    ['CMD ["\\u00e9\\u00a0\\ud800"]', '(cmd "é\\u00a0\ufffd")'], // U+FFFD is printable for Go
    ['ENV A=1 B="x y" C=a\\ b', '(env "A" "1" "=" "B" "\\"x y\\"" "=" "C" "a\\\\ b" "=")'],
    ['ENV ONE TWO= THREE=world', '(env "ONE" "TWO= THREE=world" "")'],
    ['LABEL "a b"="c d"', '(label "\\"a b\\"" "\\"c d\\"" "=")'],
    ['ARG a b="1 2" c=', '(arg "a" "b=\\"1 2\\"" "c=")'],
    ['FROM  --platform=$P  img   AS   b', '(from ["--platform=$P"] "img" "AS" "b")'],
    ['EXPOSE 80   443/udp', '(expose "80" "443/udp")'],
    ['USER  a b  ', '(user "a b")'],
    ['WORKDIR /a b', '(workdir "/a b")'],
    ['HEALTHCHECK --retries=1 CMD ["x"]', '(healthcheck ["--retries=1"] "CMD" "x")'],
    ['HEALTHCHECK NONE', '(healthcheck "NONE")'],
    ['ONBUILD RUN ["a"]', '(onbuild (run "a"))'],
    ['ONBUILD --x ADD a b', '(onbuild ["--x"] (add "a" "b"))'],
    ['ONBUILD', '(onbuild)'],
    ['VOLUME ["/a", "/b"]', '(volume "/a" "/b")'],
    ['VOLUME /a /b', '(volume "/a" "/b")'],
  ])('%s', (line, expected) => {
    expect(dump(`${line}\n`)).toBe(`${expected}\n`);
  });

  it('marks exec form', () => {
    const [shell, exec, list] = parseDockerfile('RUN a\nRUN ["a"]\nCOPY ["a", "b"]\n').nodes;
    expect([shell?.json, exec?.json, list?.json]).toEqual([false, true, true]);
  });

  it.each([
    [
      'CMD [1]',
      'ERR_DOCKERFILE_SYNTAX',
      'when using JSON array syntax, arrays must be comprised of strings only',
      1,
      5,
    ],
    [
      'FROM a\nENV \\\n  A=1 B',
      'ERR_DOCKERFILE_ARGUMENTS',
      'Syntax error - can\'t find = in "B". Must be of the form: name=value',
      3,
      3,
    ],
    ['LABEL x', 'ERR_DOCKERFILE_ARGUMENTS', 'LABEL must have two arguments', 1, 7],
  ])('%j fails at the arguments', (text, code, reason, line, column) => {
    const err = parseError(text, 'ctx/Dockerfile');
    expect(err.code).toBe(code);
    expect(err.data).toEqual({ file: 'ctx/Dockerfile', line, column, reason });
    expect(err.message).toBe(`ctx/Dockerfile:${line}:${column}: ${reason}`);
  });
});

describe('source ranges', () => {
  it('gives each node its keyword start, its last line end and each flag its place', () => {
    const text = 'FROM a\n\n  RUN --mount=x \\\n    --network=none \\\n  # c\n    echo\nCOPY <<EOF /f\nbody\nEOF\n';
    const [from, run, copy] = parseDockerfile(text).nodes;
    expect(from?.range).toEqual({ start: { line: 1, column: 1 }, end: { line: 1, column: 7 } });
    expect(run?.range).toEqual({ start: { line: 3, column: 3 }, end: { line: 6, column: 9 } });
    expect(run?.flagPositions).toEqual([
      { line: 3, column: 7 },
      { line: 4, column: 5 },
    ]);
    expect(copy?.range).toEqual({ start: { line: 7, column: 1 }, end: { line: 9, column: 4 } });
  });

  it('places the ONBUILD trigger after the keyword', () => {
    const [node] = parseDockerfile('ONBUILD   RUN x\n').nodes;
    expect(node?.child?.range.start).toEqual({ line: 1, column: 11 });
    expect(node?.child?.original).toBe('RUN x');
  });
});

describe('heredocs', () => {
  const h = (name: string, content: string, extra: Partial<Heredoc> = {}): Heredoc => ({
    name,
    content,
    expand: true,
    chomp: false,
    fileDescriptor: 0,
    ...extra,
  });

  it.each<[string, Heredoc[]]>([
    ['RUN <<EOF\nEOF\n', [h('EOF', '')]],
    ['RUN 3<<EOF\nEOF\n', [h('EOF', '', { fileDescriptor: 3 })]],
    ['RUN "<<EOF"\n', []],
    ["RUN '<<EOF'\n", []],
    ['RUN <<EOF\n\tfoo\n\tbar\nEOF\n', [h('EOF', '\tfoo\n\tbar\n')]],
    ['RUN <<-EOF\n\tfoo\n\tEOF\n', [h('EOF', '\tfoo\n', { chomp: true })]],
    ["RUN <<-'EOF'\n\t$X\nEOF\n", [h('EOF', '\t$X\n', { chomp: true, expand: false })]],
    ['RUN <<"EOF"\nx\nEOF\n', [h('EOF', 'x\n', { expand: false })]],
    ["RUN <<eo'f'\nx\neof\n", [h('eof', 'x\n', { expand: false })]],
    ["RUN <<eo\\'f\nx\neo'f\n", [h("eo'f", 'x\n')]],
    ["RUN <<'one two'\nx\none two\n", [h('one two', 'x\n', { expand: false })]],
    ['RUN <<$EOF\n$EOF\n', [h('$EOF', '')]],
    ['RUN <<  EOF  > foo\nEOF\n', [h('EOF', '')]],
    ['RUN << -EOF\n-EOF\n', [h('-EOF', '')]],
    ['RUN <<EOF\n# not a comment\n\nEOF\n', [h('EOF', '# not a comment\n\n')]],
    ['RUN <<EOF\nx\nEOF \nEOF\n', [h('EOF', 'x\nEOF \n')]],
    ['RUN <<EOF\r\nx\r\nEOF\r\n', [h('EOF', 'x\r\n')]],
    ['COPY <<A <<B /d\n1\nA\n2\nB\n', [h('A', '1\n'), h('B', '2\n')]],
    ['COPY <<X <<Y /d\nY\nX\nX\nY\n', [h('X', 'Y\n'), h('Y', 'X\n')]],
    ['RUN --mount=type=cache,target=/x <<M\necho\nM\n', [h('M', 'echo\n')]],
    ['RUN cat <<EOF \\\n  | grep x\nhi\nEOF\n', [h('EOF', 'hi\n')]],
    ['ONBUILD RUN <<EOF\nx\nEOF\n', [h('EOF', 'x\n')]],
    ['RUN ["<<EOF"]\n', []],
  ])('%j', (text, expected) => {
    expect(parseDockerfile(`FROM a\n${text}`).nodes[1]?.heredocs).toEqual(expected);
  });

  it('only RUN, COPY and ADD take heredocs: other lines after USER <<X are instructions', () => {
    expect(dump('USER <<INVALID\nINVALID\n')).toBe('(user "<<INVALID")\n(invalid "")\n');
  });

  it('gives ONBUILD heredocs to the trigger too', () => {
    const [node] = parseDockerfile('ONBUILD COPY <<F /f\nx\nF\n').nodes;
    expect(node?.heredocs.map((d) => d.name)).toEqual(['F']);
    expect(node?.child?.heredocs.map((d) => d.content)).toEqual(['x\n']);
  });

  it('heredoc bodies are not instructions and the next instruction follows them', () => {
    expect(dump('RUN <<EOF\nFROM x\nEOF\nRUN y\n')).toBe('(run "<<EOF")\n(run "y")\n');
  });

  it('fails on an unterminated heredoc at its instruction', () => {
    const err = parseError('FROM a\n  RUN <<EOF\nbody\n');
    expect(err.code).toBe('ERR_DOCKERFILE_SYNTAX');
    expect(err.data).toMatchObject({ line: 2, column: 3 });
    expect(String(err.data['reason'])).toMatch(/^unterminated heredoc: no line "EOF"/);
  });
});
