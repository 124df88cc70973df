/** `grep`: searches text. */
import { posix } from 'node:path';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { isVirtualDevice } from '../files.js';
import { toText } from '../io.js';
import { fsErrorText, parseOptions, splitLines, usageError } from './common.js';
import { compileRegex, execLongest, RegexSyntaxError } from './regex.js';
import { walk } from './tree.js';

/**
 * `grep [-EFGivcnlLqsohHrRwx] [-e PATTERN]... [-f FILE] PATTERN [FILE|-]...`: prints matching
 * lines. Basic (default), extended (`-E`) or fixed (`-F`) patterns; `-i` ignores case, `-v`
 * inverts, `-c` counts, `-n` numbers, `-l`/`-L` list files, `-q` is quiet, `-o` prints only
 * the matches, `-w`/`-x` match words/lines, `-r` searches directories (sorted). Status 0 when
 * something matched, 1 when nothing did, 2 on error.
 */
export const grep: UtilityDefinition = {
  name: 'grep',
  synopsis:
    'grep [-E|-F] [-i] [-v] [-c] [-n] [-l|-L] [-q] [-s] [-o] [-w] [-x] [-h|-H] [-r] [-e PATTERN]... PATTERN [FILE|-]...',
  description: 'Print lines matching basic (default), extended (-E) or fixed (-F) patterns; -r searches directories.',
  run: async (ctx) => runGrep(ctx, ctx.name === 'egrep' ? 'E' : ctx.name === 'fgrep' ? 'F' : undefined),
};

async function runGrep(ctx: UtilityContext, mode: 'E' | 'F' | undefined): Promise<number> {
  const opts = parseOptions(ctx.args, {
    flags: 'EFGivcnlLqsohHrRwxyaIz',
    values: 'ef',
    long: {
      'extended-regexp': 'E',
      'fixed-strings': 'F',
      'ignore-case': 'i',
      'invert-match': 'v',
      count: 'c',
      'line-number': 'n',
      'files-with-matches': 'l',
      'files-without-match': 'L',
      quiet: 'q',
      silent: 'q',
      'no-messages': 's',
      'only-matching': 'o',
      recursive: 'r',
      'word-regexp': 'w',
      'line-regexp': 'x',
      'regexp=': 'e',
      'file=': 'f',
      'no-filename': 'h',
      'with-filename': 'H',
    },
  });
  if ('error' in opts) return usageError(ctx, opts.error);
  const f = opts.flags;
  const patterns = [...(opts.values.get('e') ?? [])];
  for (const file of opts.values.get('f') ?? []) {
    try {
      patterns.push(...splitLines(toText(await ctx.readInput(file))));
    } catch (err) {
      await ctx.error(`${file}: ${fsErrorText(err)}`);
      return 2;
    }
  }
  const operands = [...opts.operands];
  if (patterns.length === 0) {
    const p = operands.shift();
    if (p === undefined) return usageError(ctx, 'usage: grep [OPTION]... PATTERN [FILE]...');
    patterns.push(...p.split('\n'));
  }
  const extended = mode === 'E' || f.has('E');
  const fixed = mode === 'F' || f.has('F');
  const ignoreCase = f.has('i') || f.has('y');
  let regexes: RegExp[];
  try {
    regexes = patterns.map((p) => {
      let src = p;
      if (fixed) src = p.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
      const re = compileRegex(src, { extended: extended || fixed, ignoreCase, global: true });
      let body = re.source;
      if (f.has('w')) body = `(?<![A-Za-z0-9_])(?:${body})(?![A-Za-z0-9_])`;
      if (f.has('x')) body = `^(?:${body})$`;
      return new RegExp(body, re.flags);
    });
  } catch (err) {
    if (!(err instanceof RegexSyntaxError)) throw err;
    await ctx.error(err.message);
    return 2;
  }
  const recursive = f.has('r') || f.has('R');
  const defaulted = operands.length === 0;
  if (defaulted) operands.push(recursive ? '.' : '-');
  const files: { shown: string; path: string | undefined; device?: string }[] = [];
  let status = 1;
  let listed = 0;
  let errors = false;
  for (const op of operands) {
    if (op === '-') {
      files.push({ shown: '(standard input)', path: undefined });
      continue;
    }
    const abs = ctx.resolve(op);
    if (isVirtualDevice(abs)) {
      files.push({ shown: op, path: undefined, device: op });
      continue;
    }
    let isDir = false;
    try {
      isDir = (await ctx.fs.stat(abs)).isDirectory();
    } catch (err) {
      if (!f.has('s')) await ctx.error(`${op}: ${fsErrorText(err)}`);
      errors = true;
      continue;
    }
    if (!isDir) {
      files.push({ shown: op, path: abs });
      continue;
    }
    if (!recursive) {
      if (!f.has('s')) await ctx.error(`${op}: Is a directory`);
      errors = true;
      continue;
    }
    for await (const e of walk(ctx.fs, abs, { followRoot: true })) {
      if (!e.stats.isFile()) continue;
      const rel = posix.relative(abs, e.path);
      files.push({ shown: defaulted ? rel : `${op.replace(/\/+$/, '')}/${rel}`, path: e.path });
    }
  }
  const withName = f.has('H') || (!f.has('h') && (files.length > 1 || recursive));
  const invert = f.has('v');
  const matches = (line: string): boolean =>
    regexes.some((re) => {
      re.lastIndex = 0;
      return re.test(line);
    });
  for (const file of files) {
    let text: string;
    try {
      text = toText(
        file.path !== undefined ? await ctx.fs.readFile(file.path) : await ctx.readInput(file.device ?? '-'),
      );
    } catch (err) {
      if (!f.has('s')) await ctx.error(`${file.shown}: ${fsErrorText(err)}`);
      errors = true;
      continue;
    }
    let count = 0;
    let out = '';
    const prefix = withName ? `${file.shown}:` : '';
    for (const [i, line] of splitLines(text).entries()) {
      if (matches(line) === invert) continue;
      count++;
      if (f.has('q')) return 0;
      if (f.has('l') || f.has('L') || f.has('c')) continue;
      const num = f.has('n') ? `${i + 1}:` : '';
      if (f.has('o') && !invert) {
        for (const re of regexes) {
          for (
            let pos = 0, m = execLongest(re, line, 0);
            m !== null;
            m = pos > line.length ? null : execLongest(re, line, pos)
          ) {
            if (m[0] !== '') out += `${prefix}${num}${m[0]}\n`;
            pos = m.index + Math.max(1, m[0].length);
          }
        }
      } else {
        out += `${prefix}${num}${line}\n`;
      }
    }
    if (count > 0) status = 0;
    if (f.has('l')) {
      if (count > 0) out = `${file.shown}\n`;
    } else if (f.has('L')) {
      if (count === 0) {
        out = `${file.shown}\n`;
        listed++;
      }
    } else if (f.has('c')) out = `${prefix}${count}\n`;
    await ctx.stdout.write(out);
  }
  if (f.has('L')) status = listed > 0 ? 0 : 1;
  return errors && !(f.has('q') && status === 0) ? 2 : status;
}
