/**
 * The CLI is a user of the public API: it imports from the library only names that `src/index.ts`
 * or `src/low-level.ts` export. It imports them from the modules that define them rather than
 * from the entries, so the build can give each command only the chunks its module reaches (an
 * import of the entry reaches the whole library and loads it at every start); this test keeps that
 * from becoming a back door to internals.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(CLI);
const entries = [join(ROOT, 'src/index.ts'), join(ROOT, 'src/low-level.ts')];
const program = ts.createProgram([...entries, ...files], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();

/** A symbol with aliases (re-exports, `import { x }`) followed to its declaration. */
function declared(symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/** Every symbol the two entries export. */
const PUBLIC = new Set<ts.Symbol>(
  entries.flatMap((file) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    return checker.getExportsOfModule(module).map(declared);
  }),
);

/** The names a CLI file imports at run time from library modules (outside src/cli/), by file:line. */
function libraryImports(file: string): Array<{ where: string; name: string; symbol: ts.Symbol | undefined }> {
  const source = program.getSourceFile(file)!;
  const out: Array<{ where: string; name: string; symbol: ts.Symbol | undefined }> = [];
  const visit = (node: ts.Node): void => {
    const from =
      ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)
        ? (node.moduleSpecifier as ts.StringLiteral).text
        : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
          ? (node.arguments[0] as ts.StringLiteral | undefined)?.text
          : undefined;
    if (from?.startsWith('.') && !resolve(file, '..', from).startsWith(`${CLI}/`)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const where = `${file.slice(ROOT.length + 1)}:${line} (${from})`;
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
        const bindings = node.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const e of bindings.elements) {
            if (e.isTypeOnly) continue;
            const symbol = checker.getSymbolAtLocation(e.name);
            out.push({ where, name: e.name.text, symbol: symbol && declared(symbol) });
          }
        } else if (node.importClause) out.push({ where, name: '* or default', symbol: undefined });
      } else if (ts.isExportDeclaration(node) && !node.isTypeOnly) {
        const clause = node.exportClause;
        if (clause && ts.isNamedExports(clause)) {
          for (const e of clause.elements) {
            const symbol = checker.getExportSpecifierLocalTargetSymbol(e);
            out.push({ where, name: e.name.text, symbol: symbol && declared(symbol) });
          }
        } else out.push({ where, name: '*', symbol: undefined });
      } else if (ts.isCallExpression(node)) {
        // `const { a, b } = await import('../../x.js')`: the names destructured.
        let parent: ts.Node = node.parent;
        while (ts.isAwaitExpression(parent) || ts.isParenthesizedExpression(parent)) parent = parent.parent;
        const names =
          ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name) ? parent.name : undefined;
        if (names === undefined) out.push({ where, name: 'a whole module', symbol: undefined });
        else
          for (const e of names.elements) {
            const key = (e.propertyName ?? e.name) as ts.Identifier;
            const type = checker.getTypeAtLocation(node);
            const awaited = checker.getAwaitedType(type) ?? type;
            const symbol = awaited.getProperty(key.text);
            out.push({ where, name: key.text, symbol: symbol && declared(symbol) });
          }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('the CLI imports only the public API', () => {
  it('finds the imports it checks', () => {
    const all = files.flatMap(libraryImports);
    expect(all.length).toBeGreaterThan(50);
    expect(all.some((i) => i.where.includes('await import') || i.where.includes('images.ts'))).toBe(true);
  });

  it.each(files.map((f) => f.slice(ROOT.length + 1)))('%s', (file) => {
    const internal = libraryImports(join(ROOT, file))
      .filter((i) => i.symbol === undefined || !PUBLIC.has(i.symbol))
      .map((i) => `${i.where}: ${i.name}`);
    expect(internal, 'export these from src/index.ts or src/low-level.ts, or do not use them').toEqual([]);
  });
});
