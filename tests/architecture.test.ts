/**
 * The module order: read from the README's Development section (the one place it is written),
 * checked against every relative import of src/. A module may import at run time only from
 * modules below it; `import type` is free (it leaves no trace in the built code). No runtime import
 * cycle may exist between files either, inside a module or across.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** One relative import of a source file. */
interface Import {
  /** The importing file, relative to the repository (`src/shell/files.ts`). */
  file: string;
  line: number;
  /** As written (`../builder/executor.js`). */
  specifier: string;
  /** The imported file, relative to the repository. */
  target: string;
  /** `import type`, `export type`, or every name marked `type`: erased from the built code. */
  typeOnly: boolean;
}

/** The module order, top first: each level is the modules on one line of the README's block. */
export function readModuleOrder(readme: string): string[][] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Development'));
  if (section === undefined) throw new Error('README.md has no "## Development" section');
  const block = /^Module order[\s\S]*?```text\n([\s\S]*?)```/m.exec(section);
  if (block === null) throw new Error('README.md\'s Development section has no "Module order" ```text block');
  return block[1]!
    .split('\n')
    .map((line) => (/^(src\/\S+(?: src\/\S+)*)/.exec(line)?.[1] ?? '').split(' ').filter(Boolean).map(moduleName))
    .filter((level) => level.length > 0);
}

/** `src/builder/` → `builder`; `src/errors.ts` → `errors`; `src/shell/utils/cp.ts` → `shell`. */
function moduleName(path: string): string {
  const rest = path.replace(/^src\//, '');
  const slash = rest.indexOf('/');
  return slash >= 0 ? rest.slice(0, slash) : rest.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT =
  /^[ \t]*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^[ \t]*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every relative import of a file (static, re-export, side-effect and dynamic). */
export function parseImports(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[4] ?? m[5] ?? m[6]!;
    if (!specifier.startsWith('.')) continue;
    const names = m[3]?.trim() ?? '';
    const braced = /^\{([\s\S]*)\}$/.exec(names);
    const listed = braced
      ? braced[1]!
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
    const typeOnly = m[2] !== undefined || (listed.length > 0 && listed.every((n) => n.startsWith('type ')));
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts');
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ file, line, specifier, target, typeOnly });
  }
  return out;
}

/** The runtime imports of a module above the importer's (modules the order does not name are reported by another test). */
export function upwardImports(imports: Import[], level: ReadonlyMap<string, number>): Import[] {
  return imports.filter((i) => {
    if (i.typeOnly) return false;
    const from = level.get(moduleName(i.file));
    const to = level.get(moduleName(i.target));
    return from !== undefined && to !== undefined && to < from;
  });
}

/** Runtime import cycles between files, each as the chain of imports that closes it. */
export function importCycles(imports: Import[]): Import[][] {
  const edges = new Map<string, Import[]>();
  for (const i of imports) if (!i.typeOnly) edges.set(i.file, [...(edges.get(i.file) ?? []), i]);
  const cycles: Import[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: Import[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    for (const i of edges.get(file) ?? []) {
      const s = state.get(i.target);
      if (s === 'open') cycles.push([...path.slice(path.findIndex((p) => p.file === i.target)), i]);
      else if (s === undefined) {
        path.push(i);
        visit(i.target);
        path.pop();
      }
    }
    state.set(file, 'done');
  };
  for (const f of [...edges.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const order = readModuleOrder(readme);
const level = new Map(order.flatMap((mods, i) => mods.map((m) => [m, i] as const)));
const files = sourceFiles(SRC).map((f) => relative(ROOT, f));
const imports = files.flatMap((f) => parseImports(f, readFileSync(join(ROOT, f), 'utf8')));
const show = (i: Import): string => `${i.file}:${i.line} imports ${i.specifier}`;

describe('the module order (README.md, Development)', () => {
  it('is read from the README and names every module of src/', () => {
    expect(order.length).toBeGreaterThan(5);
    const unknown = [...new Set(files.map((f) => moduleName(f)))].filter((m) => !level.has(m));
    expect(unknown, 'modules missing from the README\'s "Module order" block').toEqual([]);
  });

  it('the import parser sees static, type-only, re-export, side-effect and dynamic imports', () => {
    const text = [
      "import { a } from '../x/a.js';",
      "import type { B } from '../y/b.js';",
      "import { type C, type D } from '../z/c.js';",
      "import { type E, f } from '../w/e.js';",
      "export { g } from './g.js';",
      "export type { H } from '../h/h.js';",
      "const m = await import('../dyn/m.js');",
      "import '../side/effect.js';",
      'import {',
      '  n,',
      "} from 'node:path';",
    ].join('\n');
    const parsed = parseImports('src/q/file.ts', text).map((i) => [i.target, i.typeOnly, i.line]);
    expect(parsed).toEqual([
      ['src/x/a.ts', false, 1],
      ['src/y/b.ts', true, 2],
      ['src/z/c.ts', true, 3],
      ['src/w/e.ts', false, 4],
      ['src/q/g.ts', false, 5],
      ['src/h/h.ts', true, 6],
      ['src/dyn/m.ts', false, 7],
      ['src/side/effect.ts', false, 8],
    ]);
  });

  it('no runtime import goes up the order', () => {
    expect(upwardImports(imports, level).map(show), 'runtime imports of a module above the importer').toEqual([]);
  });

  it('no runtime import cycle between modules', () => {
    const between = imports.flatMap((i) => {
      const from = moduleName(i.file);
      const to = moduleName(i.target);
      return from === to ? [] : [{ ...i, file: `src/${from}`, target: `src/${to}`, specifier: i.specifier }];
    });
    expect(importCycles(between).map((c) => c.map(show).join(' → '))).toEqual([]);
  });

  it('no runtime import cycle between files (but inside the shell, whose interpreter is recursive)', () => {
    // eval, `.`, command, exec and sh -c run commands through the interpreter that runs them.
    const outside = imports.filter((i) => moduleName(i.file) !== 'shell');
    expect(importCycles(outside).map((c) => c.map(show).join(' → '))).toEqual([]);
  });

  it('reports a planted upward import and a planted cycle, naming file, line and import', () => {
    const planted = [
      ...parseImports(
        'src/digest/bad.ts',
        "import type { X } from '../builder/x.js';\nimport { build } from '../builder/build.js';\n",
      ),
      ...parseImports('src/tar/a.ts', "import { b } from './b.js';\n"),
      ...parseImports('src/tar/b.ts', "import type { A } from './a.js';\nimport { c } from './c.js';\n"),
      ...parseImports('src/tar/c.ts', "export { a } from './a.js';\n"),
    ];
    expect(upwardImports(planted, level).map(show)).toEqual(['src/digest/bad.ts:2 imports ../builder/build.js']);
    expect(importCycles(planted).map((c) => c.map(show))).toEqual([
      ['src/tar/a.ts:1 imports ./b.js', 'src/tar/b.ts:2 imports ./c.js', 'src/tar/c.ts:1 imports ./a.js'],
    ]);
  });
});
