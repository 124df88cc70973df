/**
 * A failed RUN shows as BuildKit shows it: the step's output once in the progress and once in
 * the log box, then `Dockerfile:N` with the lines around it (`>>>` on the instruction, a caret
 * under a known column), then ONE error line with the exit code (no output repeated on it).
 * Also: a changed file's reason reads `modified: content (...)`, never with doubled parentheses.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDockerfileExcerpt } from '../../src/cli/progress/index.js';
import { importImage, openStore } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('formatDockerfileExcerpt', () => {
  const text = 'FROM a\nWORKDIR /w\nCOPY . .\nRUN make && \\\n  make install\nCMD ["x"]\nUSER app\n';
  it('marks the instruction and its continuation lines, two lines around', () => {
    expect(formatDockerfileExcerpt({ text, file: 'Dockerfile', line: 4 })).toBe(
      [
        'Dockerfile:4',
        '--------------------',
        '   2 |     WORKDIR /w',
        '   3 |     COPY . .',
        '   4 | >>> RUN make && \\',
        '   5 | >>>   make install',
        '   6 |     CMD ["x"]',
        '   7 |     USER app',
        '--------------------',
        '',
      ].join('\n'),
    );
  });
  it('draws a caret under a known column, and clips at the file edges', () => {
    const out = formatDockerfileExcerpt({ text, file: 'd/Dockerfile', line: 1, column: 6 });
    expect(out.split('\n').slice(0, 5)).toEqual([
      'd/Dockerfile:1',
      '--------------------',
      '   1 | >>> FROM a',
      '     |          ^',
      '   2 |     WORKDIR /w',
    ]);
  });
  it('is empty for a line outside the file', () => {
    expect(formatDockerfileExcerpt({ text, file: 'Dockerfile', line: 99 })).toBe('');
  });
});

describe('a failed build on the command line', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    await importImage({ store: await openStore({ root: store }), source: HELLO, tags: ['hello'] });
  });

  it.each(['plain', 'tty'])('--progress %s: log box, Dockerfile excerpt, one error line', async (progress) => {
    const ctx = join(tmp, `fail-${progress}`);
    fs.mkdirSync(ctx);
    fs.writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM hello\nWORKDIR /app\nRUN echo first-marker && echo second-marker >&2 && exit 3\nCMD ["x"]\n',
    );
    const r = await runCli(['--store', store, 'build', '--progress', progress, ctx]);
    expect(r.code).toBe(1);
    const lines = r.err.split('\n');
    const box = lines.findIndex((l) => /^ > \[3\/3\] RUN echo first-marker .*:$/.test(l));
    expect(box).toBeGreaterThan(0);
    expect(lines[box - 1]).toMatch(/------$/);
    const excerpt = lines.indexOf('Dockerfile:3');
    expect(excerpt).toBeGreaterThan(box);
    expect(lines.slice(excerpt, excerpt + 7)).toEqual([
      'Dockerfile:3',
      '--------------------',
      '   1 |     FROM hello',
      '   2 |     WORKDIR /app',
      '   3 | >>> RUN echo first-marker && echo second-marker >&2 && exit 3',
      '   4 |     CMD ["x"]',
      '--------------------',
    ]);
    const errorLines = lines.filter((l) => l.startsWith('error['));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error\[ERR_BUILD_EXIT_CODE\]: Dockerfile:3: RUN .*: exit code 3$/);
    expect(errorLines[0]).not.toContain('second-marker\n');
    expect(errorLines[0]!.split('second-marker').length).toBe(2); // only the command itself names it
    expect(lines.indexOf(errorLines[0]!)).toBeGreaterThan(excerpt);
  });

  it('--progress json keeps stdout JSON: no excerpt there', async () => {
    const ctx = join(tmp, 'fail-json');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM hello\nRUN exit 4\n');
    const r = await runCli(['--store', store, 'build', '--progress', 'json', ctx]);
    expect(r.code).toBe(1);
    for (const l of r.out.split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    expect(r.err).not.toContain('>>>');
  });

  it('a same-size edit reads "modified: content (same size)", without doubled parentheses', async () => {
    const ctx = join(tmp, 'same-size');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM hello\nCOPY package.json /app/\n');
    fs.writeFileSync(join(ctx, 'package.json'), '{"v":1}');
    expect((await runCli(['--store', store, 'build', '--progress', 'plain', ctx])).code).toBe(0);
    fs.writeFileSync(join(ctx, 'package.json'), '{"v":2}');
    const r = await runCli(['--store', store, 'build', '--progress', 'plain', '--explain', ctx]);
    expect(r.code, r.err).toBe(0);
    const all = r.out + r.err;
    expect(all).toContain('package.json modified: content (same size)');
    expect(all).not.toMatch(/\(content \(/);
  });
});
