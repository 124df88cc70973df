/**
 * Helpers shared by the built-in utilities: GNU-style option parsing (clustered short flags,
 * values attached or separate, long options, `--`, options after operands), strerror texts for
 * Node fs errors, and the usage-error convention (`name: message`, exit status 2).
 */
import type { UtilityContext } from '../utility.js';

/** How a utility's options look. */
export interface OptionSpec {
  /** Short flags without a value, e.g. `'nrf'`. */
  flags?: string;
  /** Short options that take a value, e.g. `'nk'`. */
  values?: string;
  /** Long options mapped to a short letter or key; a trailing `=` on the name means it takes a value. */
  long?: Record<string, string>;
  /** Stop at the first operand (for utilities that run a command: `env`, `xargs`). */
  stopAtOperand?: boolean;
  /** Option letter that `-NUM` stands for (`head -5` is `head -n 5`). */
  numeric?: string;
}

/** Parsed options: flags seen (in order), option values (every occurrence), operands. */
export interface ParsedOptions {
  flags: Set<string>;
  values: Map<string, string[]>;
  operands: string[];
  /** Flags and value options in the order given. */
  order: string[];
}

/** The last value given for an option. */
export function lastValue(opts: ParsedOptions, key: string): string | undefined {
  const v = opts.values.get(key);
  return v === undefined ? undefined : v[v.length - 1];
}

/** Parses arguments; returns a usage message instead when an option is unknown or lacks its value. */
export function parseOptions(args: readonly string[], spec: OptionSpec): ParsedOptions | { error: string } {
  const flags = spec.flags ?? '';
  const values = spec.values ?? '';
  const out: ParsedOptions = { flags: new Set(), values: new Map(), operands: [], order: [] };
  const addValue = (key: string, v: string): void => {
    const list = out.values.get(key) ?? [];
    list.push(v);
    out.values.set(key, list);
    out.order.push(key);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && spec.long !== undefined) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const key = spec.long[name];
      const valueKey = spec.long[`${name}=`];
      if (valueKey !== undefined) {
        if (eq >= 0) addValue(valueKey, a.slice(eq + 1));
        else if (i + 1 < args.length) addValue(valueKey, args[++i] as string);
        else return { error: `option '--${name}' requires an argument` };
        continue;
      }
      if (key !== undefined && eq < 0) {
        out.flags.add(key);
        out.order.push(key);
        continue;
      }
      return { error: `unrecognized option '${a}'` };
    }
    if (a.startsWith('-') && a !== '-' && a.length > 1) {
      if (spec.numeric !== undefined && /^-[0-9]+$/.test(a)) {
        addValue(spec.numeric, a.slice(1));
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        if (values.includes(c)) {
          const rest = a.slice(j + 1);
          if (rest !== '') addValue(c, rest);
          else if (i + 1 < args.length) addValue(c, args[++i] as string);
          else return { error: `option requires an argument -- '${c}'` };
          break;
        }
        if (flags.includes(c)) {
          out.flags.add(c);
          out.order.push(c);
          continue;
        }
        return { error: `invalid option -- '${c}'` };
      }
      continue;
    }
    out.operands.push(a);
    if (spec.stopAtOperand === true) {
      out.operands.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}

/** Prints a usage error and returns exit status 2. */
export async function usageError(ctx: UtilityContext, message: string): Promise<number> {
  await ctx.error(message);
  return 2;
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument',
  ELOOP: 'Too many levels of symbolic links',
  EROFS: 'Read-only file system',
  EXDEV: 'Invalid cross-device link',
  ENAMETOOLONG: 'File name too long',
  EBADF: 'Bad file descriptor',
  EMLINK: 'Too many links',
  ENOSYS: 'Function not implemented',
  EBUSY: 'Device or resource busy',
};

/** The C library's text for an fs error (`No such file or directory`), or the error's message. */
export function fsErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && STRERROR[code] !== undefined) return STRERROR[code];
  return err instanceof Error ? err.message : String(err);
}

/** The fs error code of `err`, if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Splits text into lines without their newlines; a final newline does not make an empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
