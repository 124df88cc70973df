import { describe, expect, it } from 'vitest';
import { isLayerkitError } from '../../src/errors.js';
import { dumpDockerfile, parseDockerfile, toInstructions } from '../../src/dockerfile/index.js';
import { corpusCases, corpusFile, hasCorpus, NO_CORPUS } from './corpus-files.js';

describe.skipIf(!hasCorpus)('BuildKit parser corpus', () => {
  it('has every case of the pinned commit', () => {
    expect(corpusCases('parser')).toHaveLength(33);
    expect(corpusCases('parser-negative')).toHaveLength(4);
  });

  it.each(corpusCases('parser'))("%s: the dump equals BuildKit's result byte for byte", (name) => {
    const parsed = parseDockerfile(corpusFile(`parser/${name}/Dockerfile`), { file: `${name}/Dockerfile` });
    expect(dumpDockerfile(parsed)).toBe(corpusFile(`parser/${name}/result`));
  });

  it.each(corpusCases('parser-negative'))('%s: fails with a coded error that names the line', (name) => {
    const text = corpusFile(`parser-negative/${name}/Dockerfile`);
    let error: unknown;
    try {
      toInstructions(parseDockerfile(text, { file: name }));
    } catch (err) {
      error = err;
    }
    expect(isLayerkitError(error)).toBe(true);
    if (!isLayerkitError(error)) return;
    expect(error.code).toMatch(/^ERR_DOCKERFILE_(SYNTAX|ARGUMENTS)$/);
    expect(error.data['line']).toBeGreaterThanOrEqual(1);
    expect(error.message.startsWith(`${name}:${String(error.data['line'])}:`)).toBe(true);
  });

  it("negative cases fail with BuildKit's reasons", () => {
    const reason = (name: string): string => {
      try {
        parseDockerfile(corpusFile(`parser-negative/${name}/Dockerfile`));
      } catch (err) {
        if (isLayerkitError(err)) return String(err.data['reason']);
      }
      return 'no error';
    };
    expect(reason('empty_dockerfile')).toBe('file with no instructions');
    expect(reason('only_comments')).toBe('file with no instructions');
    expect(reason('env_no_value')).toBe('ENV must have two arguments');
    expect(reason('shykes-nested-json')).toBe('when using JSON array syntax, arrays must be comprised of strings only');
  });

  it('testfile-line: instruction line ranges include continuation comments and blanks', () => {
    const parsed = parseDockerfile(corpusFile('parser-line/Dockerfile'));
    expect(parsed.directives.escape).toBe('\\');
    expect(parsed.nodes.map((n) => [n.range.start.line, n.range.end.line])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});

if (!hasCorpus)
  describe('BuildKit parser corpus (absent)', () => {
    it.skip(NO_CORPUS, () => {});
  });
