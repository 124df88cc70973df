/**
 * Prints the README's error-code table from src/errors.ts (each code with its TSDoc line), so the
 * table cannot drift from the code: `npx tsx scripts/error-table.ts`. tests/docs checks the
 * README lists every code.
 */
import { readFileSync } from 'node:fs';

const text = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
const rows: string[] = ['| code | meaning |', '|---|---|'];
const re = /\/\*\*\s*([^*]+?)\s*\*\/\s*\n\s*([A-Z_]+): '([A-Z_]+)'/g;
for (const m of text.matchAll(re)) rows.push(`| \`${m[3]}\` | ${m[1]!.replace(/\s+/g, ' ')} |`);
const fs =
  text
    .match(/export type FsErrorCode =([^;]+);/)?.[1]
    ?.match(/'([A-Z]+)'/g)
    ?.map((s) => s.slice(1, -1)) ?? [];
rows.push(
  `| ${fs.map((c) => `\`${c}\``).join(', ')} | fs-shaped calls (the union view): Node's own codes, errno, syscall and message format |`,
);
console.log(rows.join('\n'));
