/**
 * The README is the package's page on npm, where relative links lead nowhere: every link is
 * absolute, and a link into this repository names a file that exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './packed.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const REPO = 'https://github.com/layerkit/layerkit/blob/main/';
const links = [...README.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

describe('README links', () => {
  it('has links, all absolute or in-page', () => {
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((l) => !/^(https:\/\/|#)/.test(l))).toEqual([]);
  });

  it('names files of this repository that exist', () => {
    const missing = links
      .filter((l) => l.startsWith(REPO))
      .map((l) => l.slice(REPO.length).replace(/#.*$/, ''))
      .filter((path) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });
});
