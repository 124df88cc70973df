/**
 * The codec's part of the malicious corpus (fixtures/malicious): every case the codec must
 * refuse fails with the recorded code at the recorded stage, every other case parses and
 * classifies, and the checked-in files are exactly what the generator script writes.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { maliciousCorpus, type MaliciousCase } from '../../scripts/make-malicious-corpus.js';
import { TarParser } from '../../src/tar/reader.js';
import { classifyWhiteout } from '../../src/tar/whiteout.js';
import type { TarEntryHeader } from '../../src/tar/types.js';
import { isLayerkitError } from '../../src/errors.js';

const DIR = fileURLToPath(new URL('../../fixtures/malicious/', import.meta.url));
const cases = JSON.parse(readFileSync(`${DIR}cases.json`, 'utf8')) as MaliciousCase[];

function parseFile(file: string): TarEntryHeader[] {
  const headers: TarEntryHeader[] = [];
  const parser = new TarParser({ onEntry: (h) => headers.push(h) });
  const bytes = readFileSync(`${DIR}${file}`);
  // Feed in odd-sized chunks so refusals do not depend on where the input is split.
  for (let i = 0; i < bytes.length; i += 300) parser.write(bytes.subarray(i, i + 300));
  parser.end();
  return headers;
}

function failureOf(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isLayerkitError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

describe('malicious corpus', () => {
  it('has at least 30 well-formed cases, one file each', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.tar'))
      .sort();
    expect(cases.map((c) => c.file).sort()).toEqual(files);
    for (const c of cases) {
      expect(c.description.length, c.file).toBeGreaterThan(10);
      expect(c.source.length, c.file).toBeGreaterThan(3);
      if (c.expect === 'refused') {
        expect(c.code, c.file).toMatch(/^ERR_/);
        expect(['parse', 'whiteout', 'apply'], c.file).toContain(c.stage);
      } else {
        expect(c.code, c.file).toBeUndefined();
      }
    }
    const total = cases.reduce((n, c) => n + readFileSync(`${DIR}${c.file}`).length, 0);
    expect(total).toBeLessThan(300 * 1024); // small enough to check in
  });

  it('matches what scripts/make-malicious-corpus.ts writes (re-run the script after changing it)', () => {
    const generated = maliciousCorpus();
    expect(generated.map((g) => g.meta)).toEqual(cases);
    for (const { meta, bytes } of generated)
      expect(readFileSync(`${DIR}${meta.file}`).equals(bytes), meta.file).toBe(true);
  });

  describe.each(cases.filter((c) => c.stage === 'parse'))('$file', (c) => {
    it(`is refused by the parser with ${c.code}`, () => {
      expect(failureOf(() => parseFile(c.file))?.code).toBe(c.code);
    });
  });

  describe.each(cases.filter((c) => c.stage === 'whiteout'))('$file', (c) => {
    it(`parses, and its whiteout is refused with ${c.code}`, () => {
      const headers = parseFile(c.file);
      const failures = headers.map((h) => failureOf(() => classifyWhiteout(h.path))).filter((f) => f !== undefined);
      expect(failures.map((f) => f.code)).toEqual([c.code]);
    });
  });

  describe.each(cases.filter((c) => c.stage !== 'parse' && c.stage !== 'whiteout'))('$file', (c) => {
    it(`parses and classifies (left to the applier: ${c.expect})`, () => {
      const headers = parseFile(c.file);
      expect(headers.length).toBeGreaterThan(0);
      for (const h of headers) {
        expect(() => classifyWhiteout(h.path)).not.toThrow();
        // Whatever the archive says, a parsed path is relative and never climbs.
        expect(h.path.startsWith('/')).toBe(false);
        expect(h.path.split('/')).not.toContain('..');
        if (h.type === 'hardlink') expect(h.linkTarget?.split('/')).not.toContain('..');
      }
    });
  });

  it('keeps NFC and NFD spellings as different names', () => {
    const paths = parseFile('unicode-nfc-nfd.tar').map((h) => h.path);
    expect(paths).toEqual(['caf\u00e9', 'cafe\u0301', 'cafe\u0301/f']);
  });

  it('takes absolute hardlink targets relative to the layer root', () => {
    expect(parseFile('hardlink-absolute.tar').map((h) => [h.path, h.linkTarget])).toEqual([
      ['etc/passwd', undefined],
      ['h', 'etc/passwd'],
    ]);
  });
});
