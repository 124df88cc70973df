/** The README is part of the product: it must name every error code, every command and the set-up commands. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from '../../src/errors.js';
import { COMMAND_TABLE } from '../../src/cli/main.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.values(ErrorCodes))('lists the error code %s', (code) => {
    expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\|`));
  });

  it.each(COMMAND_TABLE.map((c) => c.name))('mentions the command %s in the CLI section', (name) => {
    const cli = readme.slice(readme.indexOf('## CLI'), readme.indexOf('## Error codes'));
    expect(cli).toMatch(new RegExp(`(^|\\s)${name}\\b`));
  });

  it('gives the two set-up commands: install-and-run, and the test suite', () => {
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## A five-minute tour'));
    expect(setup).toContain('npm ci && npm run build && node dist/cli.cjs import fixtures/images/hello.oci.tar');
    expect(setup).toContain('npm test');
  });
});
