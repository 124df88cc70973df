/**
 * Instruction `--flags`, validated as BuildKit's `instructions/bflag.go` does: unknown flags,
 * duplicates of single-valued flags, missing values and bad booleans are errors (with a "did you
 * mean" suggestion for near misses), and `--exclude`-style list flags may repeat. Errors are
 * `ERR_DOCKERFILE_FLAG` at the flag's own position.
 */
import { ErrorCodes, type LayerkitError } from '../errors.js';
import { dockerfileError } from './dockerfile-error.js';
import type { Node } from './types.js';

function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = cur;
  }
  return prev[y.length] as number;
}

/**
 * BuildKit's `suggest.WrapError`: appends ` (did you mean x?)` when an option is within edit
 * distance 2 of `value` (options are tried in sorted order; the closest wins).
 */
export function withSuggestion(
  message: string,
  value: string,
  options: Iterable<string>,
  caseSensitive: boolean,
): string {
  const v = caseSensitive ? value : value.toLowerCase();
  let best = '';
  let min = 3;
  for (const option of [...options].sort()) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return message;
    const d = levenshtein(v, o);
    if (d < min) {
      min = d;
      best = caseSensitive
        ? o
        : value === value.toLowerCase()
          ? o
          : value === value.toUpperCase()
            ? o.toUpperCase()
            : o;
    }
  }
  return best === '' ? message : `${message} (did you mean ${best}?)`;
}

type FlagKind = 'bool' | 'string' | 'strings';

interface FlagState {
  kind: FlagKind;
  value: string;
  values: string[];
  used: boolean;
}

/** The flags one instruction accepts, and after `parse()`, the values it was given. */
export class FlagSet {
  private readonly defs = new Map<string, FlagState>();

  constructor(
    private readonly node: Node,
    private readonly file: string,
  ) {}

  /** Declares a boolean flag (`--link`, `--link=false`). */
  bool(name: string): this {
    this.defs.set(name, { kind: 'bool', value: 'false', values: [], used: false });
    return this;
  }

  /** Declares a single-valued flag (`--from=x`). */
  string(name: string, defaultValue = ''): this {
    this.defs.set(name, { kind: 'string', value: defaultValue, values: [], used: false });
    return this;
  }

  /** Declares a repeatable flag (`--exclude=a --exclude=b`). */
  strings(name: string): this {
    this.defs.set(name, { kind: 'strings', value: '', values: [], used: false });
    return this;
  }

  /** Checks the node's flags against the declarations; throws `ERR_DOCKERFILE_FLAG`. */
  parse(): this {
    this.node.flags.forEach((flag, i) => {
      if (flag === '--') return;
      const eq = flag.indexOf('=');
      const name = eq < 0 ? flag : flag.slice(0, eq);
      const value = eq < 0 ? '' : flag.slice(eq + 1);
      const def = name.startsWith('--') ? this.defs.get(name.slice(2)) : undefined;
      if (def === undefined) {
        const known = [...this.defs.keys()];
        const hint = known.length === 0 ? `; ${this.node.rawKeyword} takes no flags` : '';
        throw this.error(i, withSuggestion(`unknown flag: ${name}`, name.slice(2), known, true) + hint);
      }
      if (def.used && def.kind !== 'strings') throw this.error(i, `duplicate flag specified: ${name}`);
      def.used = true;
      if (def.kind === 'bool') {
        if (eq >= 0 && value === '') throw this.error(i, `missing a value on flag: ${name}`);
        const v = value.toLowerCase();
        if (v === 'true' || v === '') def.value = 'true';
        else if (v === 'false') def.value = 'false';
        else throw this.error(i, `expecting boolean value for flag ${name}, not: ${value}`);
      } else {
        if (eq < 0) throw this.error(i, `missing a value on flag: ${name}`);
        if (def.kind === 'string') def.value = value;
        else def.values.push(value);
      }
    });
    return this;
  }

  /** The value of a boolean flag. */
  isTrue(name: string): boolean {
    return this.defs.get(name)?.value === 'true';
  }

  /** The value of a string flag (its default when not given). */
  value(name: string): string {
    return this.defs.get(name)?.value ?? '';
  }

  /** The values of a repeatable flag, in order. */
  values(name: string): string[] {
    return [...(this.defs.get(name)?.values ?? [])];
  }

  /** Whether the flag was given. */
  used(name: string): boolean {
    return this.defs.get(name)?.used ?? false;
  }

  /** The names of the flags given, sorted. */
  usedNames(): string[] {
    return [...this.defs]
      .filter(([, d]) => d.used)
      .map(([n]) => n)
      .sort();
  }

  /** An `ERR_DOCKERFILE_FLAG` error at flag `index` (or at the instruction when out of range). */
  error(index: number, reason: string): LayerkitError {
    const at = this.node.flagPositions[index] ?? this.node.range.start;
    return dockerfileError(ErrorCodes.ERR_DOCKERFILE_FLAG, reason, { file: this.file, ...at });
  }

  /** The index of the last occurrence of a flag, for errors about its value. */
  indexOf(name: string): number {
    for (let i = this.node.flags.length - 1; i >= 0; i--) {
      const f = this.node.flags[i] as string;
      if (f === `--${name}` || f.startsWith(`--${name}=`)) return i;
    }
    return -1;
  }
}
