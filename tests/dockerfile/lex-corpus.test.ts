import { describe, expect, it } from 'vitest';
import { isLayerkitError } from '../../src/errors.js';
import { expandWord, expandWords } from '../../src/dockerfile/index.js';
import { corpusFile, hasCorpus, NO_CORPUS } from './corpus-files.js';

/** envVarTest rows that apply off Windows: [line, input, expected or 'error']. */
function envVarRows(): [number, string, string][] {
  if (!hasCorpus) return [];
  const rows: [number, string, string][] = [];
  corpusFile('shell/envVarTest')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.startsWith('#')) return;
      const line = raw.trim();
      if (line === '') return;
      const [platform, input, expected] = line.split('|').map((s) => s.trim()) as [string, string, string];
      if (platform === 'A' || platform === 'U') rows.push([i + 1, input, expected]);
    });
  return rows;
}

/** wordsTest rows with the cumulative ENV lines before them: [line, input, expected words, env]. */
function wordsRows(): [number, string, string[], Map<string, string>][] {
  if (!hasCorpus) return [];
  const rows: [number, string, string[], Map<string, string>][] = [];
  const env = new Map<string, string>();
  corpusFile('shell/wordsTest')
    .split('\n')
    .forEach((line, i) => {
      if (line === '' || line.startsWith('#')) return;
      if (line.startsWith('ENV ')) {
        const kv = line.slice(3).replace(/^ +/, '');
        const eq = kv.indexOf('=');
        env.set(kv.slice(0, eq), kv.slice(eq + 1));
        return;
      }
      const [input, expected] = line.split('|') as [string, string];
      rows.push([i + 1, input.trim(), expected.replace(/^ +/, '').split(','), new Map(env)]);
    });
  return rows;
}

const ENV = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
]);

describe.skipIf(!hasCorpus)('BuildKit lexer tables', () => {
  it('reads the whole envVarTest table', () => {
    expect(envVarRows().length).toBeGreaterThan(200);
  });

  it.each(envVarRows())('envVarTest line %i: %s → %s', (_line, input, expected) => {
    if (expected === 'error') {
      let error: unknown;
      try {
        expandWord(input, ENV);
      } catch (err) {
        error = err;
      }
      expect(isLayerkitError(error, 'ERR_DOCKERFILE_EXPANSION')).toBe(true);
    } else {
      expect(expandWord(input, ENV).value).toBe(expected);
    }
  });

  it.each(wordsRows())('wordsTest line %i: %s', (_line, input, expected, env) => {
    let words: string[];
    try {
      words = expandWords(input, env).words;
    } catch {
      words = ['error'];
    }
    expect(words).toEqual(expected);
  });
});

if (!hasCorpus)
  describe('BuildKit lexer tables (absent)', () => {
    it.skip(NO_CORPUS, () => {});
  });
