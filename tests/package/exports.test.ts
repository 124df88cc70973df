/**
 * The public surface is a decision: the sorted export lists of `layerkit` (src/index.ts) and
 * `layerkit/low-level` (src/low-level.ts), values and types, are kept in exports.snapshot.txt.
 * Adding, removing or moving a name fails this test until the snapshot is updated on purpose.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './packed.js';

const ENTRIES = { layerkit: 'src/index.ts', 'layerkit/low-level': 'src/low-level.ts' } as const;

interface Exported {
  name: string;
  kind: 'value' | 'type';
  internal: boolean;
  documented: boolean;
}

function listExports(): Record<keyof typeof ENTRIES, Exported[]> {
  const files = Object.values(ENTRIES).map((f) => join(ROOT, f));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const result = {} as Record<keyof typeof ENTRIES, Exported[]>;
  for (const [entry, file] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    const source = program.getSourceFile(join(ROOT, file));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read ${file}`);
    result[entry] = checker
      .getExportsOfModule(moduleSymbol)
      .map((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        // `export { type X }` exports only the type, even of a class.
        const typeOnly = (symbol.declarations ?? []).some(
          (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
        );
        const declarations = target.declarations ?? [];
        const tags = declarations.flatMap((d) => ts.getJSDocTags(d).map((t) => t.tagName.text));
        const docs = target.getDocumentationComment(checker);
        return {
          name: symbol.name,
          kind: target.flags & ts.SymbolFlags.Value && !typeOnly ? ('value' as const) : ('type' as const),
          internal: tags.includes('internal'),
          documented: docs.length > 0,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return result;
}

const exported = listExports();

describe('the public API', () => {
  it('matches the snapshot of both entries', async () => {
    const text = Object.entries(exported)
      .map(([entry, list]) =>
        [`# ${entry} (${list.length})`, ...list.map((e) => `${e.kind.padEnd(5)} ${e.name}`)].join('\n'),
      )
      .join('\n\n');
    await expect(
      `${text}\n`,
      'The public API changed. If that is intended, run `npx vitest run tests/package/exports.test.ts -u` ' +
        'and commit tests/package/exports.snapshot.txt with the change (say why in the commit body).',
    ).toMatchFileSnapshot('./exports.snapshot.txt');
  });

  it('exports at run time exactly the values the types declare', async () => {
    for (const [entry, file] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
      const runtime = Object.keys((await import(join(ROOT, file))) as object).sort();
      const values = exported[entry].filter((e) => e.kind === 'value').map((e) => e.name);
      expect([entry, runtime]).toEqual([entry, values]);
    }
  });

  it('names each thing in one entry only, and nothing marked @internal', () => {
    const main = new Set(exported.layerkit.map((e) => e.name));
    expect(exported['layerkit/low-level'].filter((e) => main.has(e.name)).map((e) => e.name)).toEqual([]);
    const internal = Object.values(exported)
      .flat()
      .filter((e) => e.internal)
      .map((e) => e.name);
    expect(internal).toEqual([]);
  });

  it('documents every export of the main entry (TSDoc)', () => {
    expect(exported.layerkit.filter((e) => !e.documented).map((e) => e.name)).toEqual([]);
  });
});
