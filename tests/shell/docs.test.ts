/** The shell's README documents exactly the supported set (SUPPORTED_UTILITIES, SHELL_BUILTINS). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SHELL_BUILTINS } from '../../src/shell/index.js';
import { utilitiesTable } from '../../src/shell/utils/index.js';

const readme = readFileSync(fileURLToPath(new URL('../../src/shell/README.md', import.meta.url)), 'utf8');

function block(name: string): string {
  const m = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(readme);
  return m?.[1] ?? '';
}

it('lists every utility with its usage (regenerate with utilitiesTable() when this fails)', () => {
  expect(block('utilities')).toBe(utilitiesTable());
});

it('lists every shell builtin', () => {
  expect(block('builtins')).toBe(SHELL_BUILTINS.map((b) => `\`${b}\``).join(', '));
});

it('quotes the not-found message exactly', async () => {
  const { NOT_FOUND_ADVICE } = await import('../../src/shell/index.js');
  expect(readme).toContain(`sh: <cmd>: not found (${NOT_FOUND_ADVICE})`);
});
