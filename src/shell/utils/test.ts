/** `test`: evaluates conditions. */
import type { ExecutorStats } from '../../union/fs-contract.js';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { DEVICE_STATS, isVirtualDevice } from '../files.js';
import { lstatOrUndefined, statOrUndefined } from './tree.js';

class TestSyntaxError extends Error {}

const UNARY = new Set([
  '-b',
  '-c',
  '-d',
  '-e',
  '-f',
  '-g',
  '-h',
  '-L',
  '-k',
  '-p',
  '-r',
  '-s',
  '-S',
  '-t',
  '-u',
  '-w',
  '-x',
  '-z',
  '-n',
  '-O',
  '-G',
]);
const BINARY = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef']);

function toInt(text: string): bigint {
  if (!/^\s*[+-]?[0-9]+\s*$/.test(text)) throw new TestSyntaxError(`${text}: integer expression expected`);
  return BigInt(text.trim());
}

function permitted(ctx: UtilityContext, st: ExecutorStats, bit: 4 | 2 | 1): boolean {
  const { uid, gid, groups } = ctx.user;
  if (st === DEVICE_STATS) return bit !== 1;
  if (uid === 0) return bit !== 1 || st.isDirectory() || (st.mode & 0o111) !== 0;
  if (st.uid === uid) return ((st.mode >> 6) & bit) !== 0;
  if (st.gid === gid || groups.includes(st.gid)) return ((st.mode >> 3) & bit) !== 0;
  return (st.mode & bit) !== 0;
}

async function unary(ctx: UtilityContext, op: string, arg: string): Promise<boolean> {
  if (op === '-z') return arg === '';
  if (op === '-n') return arg !== '';
  if (op === '-t') return false;
  const path = ctx.resolve(arg);
  if (arg === '') return false;
  if (op === '-h' || op === '-L') return (await lstatOrUndefined(ctx.fs, path))?.isSymbolicLink() === true;
  const st = (await statOrUndefined(ctx.fs, path)) ?? (isVirtualDevice(path) ? DEVICE_STATS : undefined);
  if (st === undefined) return false;
  switch (op) {
    case '-e':
      return true;
    case '-f':
      return st.isFile();
    case '-d':
      return st.isDirectory();
    case '-b':
      return st.isBlockDevice();
    case '-c':
      return st.isCharacterDevice();
    case '-p':
      return st.isFIFO();
    case '-S':
      return (
        !st.isFile() &&
        !st.isDirectory() &&
        !st.isSymbolicLink() &&
        !st.isFIFO() &&
        !st.isCharacterDevice() &&
        !st.isBlockDevice()
      );
    case '-s':
      return st.size > 0;
    case '-g':
      return (st.mode & 0o2000) !== 0;
    case '-u':
      return (st.mode & 0o4000) !== 0;
    case '-k':
      return (st.mode & 0o1000) !== 0;
    case '-r':
      return permitted(ctx, st, 4);
    case '-w':
      return permitted(ctx, st, 2);
    case '-x':
      return permitted(ctx, st, 1);
    case '-O':
      return st.uid === ctx.user.uid;
    case '-G':
      return st.gid === ctx.user.gid;
    default:
      throw new TestSyntaxError(`${op}: unary operator expected`);
  }
}

async function binary(ctx: UtilityContext, a: string, op: string, b: string): Promise<boolean> {
  switch (op) {
    case '=':
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '-eq':
      return toInt(a) === toInt(b);
    case '-ne':
      return toInt(a) !== toInt(b);
    case '-lt':
      return toInt(a) < toInt(b);
    case '-le':
      return toInt(a) <= toInt(b);
    case '-gt':
      return toInt(a) > toInt(b);
    case '-ge':
      return toInt(a) >= toInt(b);
    case '-nt':
    case '-ot': {
      const sa = await statOrUndefined(ctx.fs, ctx.resolve(a));
      const sb = await statOrUndefined(ctx.fs, ctx.resolve(b));
      if (op === '-nt') return sa !== undefined && (sb === undefined || sa.mtimeMs > sb.mtimeMs);
      return sb !== undefined && (sa === undefined || sa.mtimeMs < sb.mtimeMs);
    }
    case '-ef': {
      const ra = await ctx.fs.realpath(ctx.resolve(a)).catch(() => undefined);
      const rb = await ctx.fs.realpath(ctx.resolve(b)).catch(() => undefined);
      return ra !== undefined && ra === rb;
    }
    default:
      throw new TestSyntaxError(`${op}: binary operator expected`);
  }
}

/** The general recursive-descent parser, for more than four arguments. */
class Parser {
  private i = 0;
  constructor(
    private readonly ctx: UtilityContext,
    private readonly args: readonly string[],
  ) {}

  async parse(): Promise<boolean> {
    const v = await this.or();
    if (this.i < this.args.length) throw new TestSyntaxError(`${this.args[this.i] ?? ''}: unexpected operator`);
    return v;
  }

  private async or(): Promise<boolean> {
    let v = await this.and();
    while (this.args[this.i] === '-o') {
      this.i++;
      const r = await this.and();
      v = v || r;
    }
    return v;
  }

  private async and(): Promise<boolean> {
    let v = await this.not();
    while (this.args[this.i] === '-a') {
      this.i++;
      const r = await this.not();
      v = v && r;
    }
    return v;
  }

  private async not(): Promise<boolean> {
    if (this.args[this.i] === '!' && this.i + 1 < this.args.length) {
      this.i++;
      return !(await this.not());
    }
    return this.primary();
  }

  private async primary(): Promise<boolean> {
    const a = this.args[this.i];
    if (a === undefined) throw new TestSyntaxError('argument expected');
    const next = this.args[this.i + 1];
    if (next !== undefined && BINARY.has(next) && this.i + 2 < this.args.length) {
      this.i += 3;
      return binary(this.ctx, a, next, this.args[this.i - 1] as string);
    }
    if (a === '(') {
      this.i++;
      const v = await this.or();
      if (this.args[this.i] !== ')') throw new TestSyntaxError("missing ')'");
      this.i++;
      return v;
    }
    if (UNARY.has(a) && next !== undefined) {
      this.i += 2;
      return unary(this.ctx, a, next);
    }
    this.i++;
    return a !== '';
  }
}

/** Evaluates test arguments with POSIX's rules for 0 to 4 arguments, a full parser beyond. */
async function evaluate(ctx: UtilityContext, args: readonly string[]): Promise<boolean> {
  const [a, b, c, d] = args;
  switch (args.length) {
    case 0:
      return false;
    case 1:
      return a !== '';
    case 2:
      if (a === '!') return b === '';
      if (UNARY.has(a as string)) return unary(ctx, a as string, b as string);
      throw new TestSyntaxError(`${a ?? ''}: unary operator expected`);
    case 3:
      if (BINARY.has(b as string)) return binary(ctx, a as string, b as string, c as string);
      if (a === '!') return !(await evaluate(ctx, args.slice(1)));
      if (a === '(' && c === ')') return b !== '';
      if (b === '-a' || b === '-o') return new Parser(ctx, args).parse();
      throw new TestSyntaxError(`${b ?? ''}: binary operator expected`);
    case 4:
      if (a === '!') return !(await evaluate(ctx, args.slice(1)));
      if (a === '(' && d === ')') return evaluate(ctx, args.slice(1, 3));
      return new Parser(ctx, args).parse();
    default:
      return new Parser(ctx, args).parse();
  }
}

/** Runs `test` (or `[`, which needs a closing `]`) on the utility's arguments. */
export async function runTest(ctx: UtilityContext, bracket: boolean): Promise<number> {
  let args = ctx.args;
  if (bracket) {
    if (args[args.length - 1] !== ']') {
      await ctx.error('missing ]');
      return 2;
    }
    args = args.slice(0, -1);
  }
  try {
    return (await evaluate(ctx, args)) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof TestSyntaxError)) throw err;
    await ctx.error(err.message);
    return 2;
  }
}

/**
 * `test EXPRESSION` / `[ EXPRESSION ]`: file tests against the filesystem (`-e -f -d -h -L -s
 * -r -w -x -b -c -p -S -g -u -k -O -G`, `-nt -ot -ef`), strings (`-z -n = == != < >`), integers
 * (`-eq -ne -lt -le -gt -ge`), `!`, `-a`, `-o` and parentheses. Status 0 true, 1 false, 2 error.
 * `-r`/`-w`/`-x` check the mode bits for the running user (root may read and write anything).
 */
export const test: UtilityDefinition = {
  name: 'test',
  synopsis: 'test EXPRESSION',
  description: 'Evaluate file, string and integer conditions with !, -a, -o and parentheses.',
  run: (ctx) => runTest(ctx, false),
};
