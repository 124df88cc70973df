/**
 * The two platform files (src/platform/node.ts and browser.ts, chosen by `#platform`) export the
 * same names with the same types, and the browser's (hash-wasm, plain-JavaScript hashes, fflate)
 * give Node's results: every hash on randomly chunked input, also with hashes fed in turns (they
 * share one WebAssembly instance), and gzip members built from dictionary-chained raw blocks that
 * Node's zlib reads back.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import * as browser from '../../src/platform/browser.js';
import * as node from '../../src/platform/node.js';

// Compile-time: the browser platform has every name of Node's, with compatible types.
const same: Omit<typeof node, 'startEvalWorker' | 'homedir' | 'localFs' | 'platformName'> = browser;

beforeAll(() => browser.platformReady());

const chunked = fc
  .tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 6 }))
  .map(([data, cuts]) => {
    const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
    const parts: Uint8Array[] = [];
    let from = 0;
    for (const c of [...at, data.length]) {
      parts.push(data.subarray(from, c));
      from = c;
    }
    return { data, parts };
  });

describe('the browser platform', () => {
  it('exports what Node exports', () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    expect(typeof same.createHash).toBe('function');
  });

  test.prop([chunked, fc.constantFrom('sha256', 'sha512', 'sha1', 'md5' as const)])(
    'hashes as Node does, whatever the chunking',
    ({ data, parts }, algorithm) => {
      const h = browser.createHash(algorithm);
      for (const p of parts) h.update(p);
      expect(h.digest('hex')).toBe(createHash(algorithm).update(data).digest('hex'));
    },
  );

  test.prop([fc.array(chunked, { minLength: 2, maxLength: 4 })])('keeps hashes fed in turns apart', (inputs) => {
    const hashes = inputs.map(() => browser.createHash('sha256'));
    const longest = Math.max(...inputs.map((i) => i.parts.length));
    for (let k = 0; k < longest; k++)
      inputs.forEach((input, i) => {
        const part = input.parts[k];
        if (part !== undefined) hashes[i]!.update(part);
      });
    inputs.forEach((input, i) => {
      expect(hashes[i]!.digest('hex')).toBe(createHash('sha256').update(input.data).digest('hex'));
    });
  });

  it('hashes text as UTF-8', () => {
    const text = 'héllo wörld ✓';
    for (const a of ['sha256', 'sha512', 'sha1', 'md5'] as const)
      expect(browser.createHash(a).update(text).digest('hex')).toBe(createHash(a).update(text).digest('hex'));
  });

  test.prop([fc.uint8Array({ maxLength: 200_000 }), fc.integer({ min: 1, max: 9 })], { numRuns: 20 })(
    'deflates dictionary-chained blocks into a gzip member zlib reads, with the same CRC-32',
    async (data, level) => {
      const block = 40_000;
      const parts: Uint8Array[] = [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3)];
      let crc = 0;
      let dictionary: Uint8Array | undefined;
      for (let at = 0; at === 0 || at < data.length; at += block) {
        const piece = data.subarray(at, at + block);
        const final = at + block >= data.length;
        parts.push(await browser.deflateRawBlock(piece, { level, dictionary, final }));
        crc = browser.crc32(piece, crc);
        dictionary = piece.length >= 32_768 ? piece.subarray(piece.length - 32_768) : undefined;
      }
      expect(crc).toBe(zlib.crc32(data));
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(data.length, 4);
      const gz = Buffer.concat([...parts, trailer]);
      expect(new Uint8Array(zlib.gunzipSync(gz))).toEqual(data);
      expect(browser.gunzipSync(gz)).toEqual(data);
    },
  );

  it('gunzips every member of a stream, and reports corrupt data with a Z_ code', async () => {
    const a = randomBytes(70_000);
    const b = Buffer.from('second member');
    const gz = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
    async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    const gunzip = browser.decoder('gzip', 64 * 1024)!;
    const out: Buffer[] = [];
    for await (const c of gunzip(pieces(gz, 1000))) out.push(Buffer.from(c));
    expect(Buffer.concat(out).equals(Buffer.concat([a, b]))).toBe(true);
    const bad = async () => {
      for await (const _ of gunzip(pieces(Buffer.concat([gz.subarray(0, 20), Buffer.alloc(20, 0xff)]), 1000))) {
        // drain
      }
    };
    await expect(bad()).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
    expect(browser.decoder('zstd', 64 * 1024)).toBeUndefined();
    expect(() => browser.gunzipSync(Buffer.alloc(30, 7))).toThrow(expect.objectContaining({ code: 'Z_DATA_ERROR' }));
  });

  it('yields to the event loop, and names one live owner', async () => {
    let ticked = false;
    setTimeout(() => {
      ticked = true;
    }, 0);
    for (let i = 0; i < 50 && !ticked; i++) await browser.yieldToEventLoop();
    expect(ticked).toBe(true);
    expect(browser.isProcessAlive(browser.pid)).toBe(true);
    expect(browser.isProcessAlive(browser.pid + 1)).toBe(false);
    expect(browser.randomHex(6)).toMatch(/^[0-9a-f]{12}$/);
    expect(browser.digestWorkerAvailable).toBe(false);
    expect(node.digestWorkerAvailable).toBe(true);
    expect(() => browser.homedir()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }));
  });
});

describe("the browser build's Buffer (the npm port, with text through TextEncoder/TextDecoder)", () => {
  test.prop([fc.string({ unit: 'binary' }), fc.nat(40), fc.nat(40)])(
    'encodes, decodes and measures UTF-8 as Node does',
    async (text, a, b) => {
      const { Buffer: Port } = await import('../../scripts/browser-globals.js');
      const own = Buffer.from(text);
      const port = Port.from(text);
      expect(new Uint8Array(port)).toEqual(new Uint8Array(own));
      expect(Port.byteLength(text)).toBe(Buffer.byteLength(text));
      expect(port.toString()).toBe(own.toString());
      expect(port.toString('utf8', a, a + b)).toBe(own.toString('utf8', a, a + b));
      expect(Port.from(text, 'utf-8').toString('hex')).toBe(own.toString('hex'));
    },
  );

  test.prop([fc.uint8Array({ maxLength: 64 })])('decodes bytes that are not UTF-8 as Node does', async (bytes) => {
    const { Buffer: Port } = await import('../../scripts/browser-globals.js');
    expect(Port.from(bytes).toString()).toBe(Buffer.from(bytes).toString());
    expect(Port.from('aGk=', 'base64').toString()).toBe('hi');
  });
});

/**
 * The hazard behind issue 13's rule: a module that sets something up when it is evaluated (a
 * registration, a patch) and is reached only through an `import()` whose result nobody uses can be
 * dropped by a bundler honouring `"sideEffects": false`, and the set-up with it (it broke
 * `openStore({ memory: true })` in a bundle once). So the library has no set-up at all at module
 * level, and every `import()` of its own modules uses what it loads; loading a command's code when
 * it is needed (the registry client for a pull, the shell for a RUN) stays possible.
 */
describe('the library (src/ outside src/cli/)', () => {
  const libraryFiles = async (): Promise<string[]> => {
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? e.name === 'cli'
            ? []
            : files(join(dir, e.name))
          : e.name.endsWith('.ts')
            ? [join(dir, e.name)]
            : [],
      );
    return files(join(import.meta.dirname, '../../src'));
  };

  it('no module does anything at its top level but declare (nothing a bundler could drop)', async () => {
    const { readFileSync } = await import('node:fs');
    const ts = await import('typescript');
    const declarations = new Set([
      ts.SyntaxKind.ImportDeclaration,
      ts.SyntaxKind.ExportDeclaration,
      ts.SyntaxKind.ExportAssignment,
      ts.SyntaxKind.VariableStatement,
      ts.SyntaxKind.FunctionDeclaration,
      ts.SyntaxKind.ClassDeclaration,
      ts.SyntaxKind.InterfaceDeclaration,
      ts.SyntaxKind.TypeAliasDeclaration,
      ts.SyntaxKind.EnumDeclaration,
      ts.SyntaxKind.ModuleDeclaration,
    ]);
    // A table filled in place at load time, read only by its own module.
    const ownTables = new Set(['union/file-handle.ts']);
    const found: string[] = [];
    for (const file of await libraryFiles()) {
      const name = file.slice(file.lastIndexOf('/src/') + 5);
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      for (const statement of source.statements) {
        if (declarations.has(statement.kind) || ownTables.has(name)) continue;
        const { line } = source.getLineAndCharacterOfPosition(statement.getStart());
        found.push(`${name}:${line + 1}: ${ts.SyntaxKind[statement.kind]}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('every import() of its own modules uses what it loads (none is there for its side effects)', async () => {
    const { readFileSync } = await import('node:fs');
    const ts = await import('typescript');
    const found: string[] = [];
    let seen = 0;
    for (const file of await libraryFiles()) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: import('typescript').Node): void => {
        if (
          ts.isCallExpression(node) &&
          node.expression.kind === ts.SyntaxKind.ImportKeyword &&
          ts.isStringLiteral(node.arguments[0]!) &&
          node.arguments[0].text.startsWith('.')
        ) {
          seen++;
          // Used: `(await import(x)).name`, `const { a } = await import(x)`, `import(x).then((m) => …)`.
          let user: import('typescript').Node = node.parent;
          while (ts.isAwaitExpression(user) || ts.isParenthesizedExpression(user)) user = user.parent;
          const used =
            ts.isPropertyAccessExpression(user) ||
            (ts.isVariableDeclaration(user) && user.initializer !== undefined) ||
            (ts.isPropertyAccessExpression(node.parent) &&
              node.parent.name.text === 'then' &&
              ts.isCallExpression(node.parent.parent) &&
              node.parent.parent.arguments.some((a) => ts.isFunctionLike(a) && a.parameters.length > 0));
          if (!used) {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            found.push(`${file.slice(file.lastIndexOf('/src/') + 1)}:${line + 1}: ${node.getText()}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(found).toEqual([]);
    // The check looked at something: the builder loads the registry client when a build pulls.
    expect(seen).toBeGreaterThan(0);
  });
});
