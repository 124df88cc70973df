/**
 * The mutable state of one shell (or subshell): variables with their export/readonly flags,
 * functions, positional parameters, options (`set -e`...), the working directory and `$?`.
 * A subshell works on a {@link ShellState.clone}, so nothing it changes leaks back.
 */
import type { Command } from './ast.js';

/** One shell variable. */
export interface ShellVar {
  value: string;
  exported: boolean;
  readonly: boolean;
}

/** The `set -o` options the shell honours. */
export interface ShellOptions {
  /** `-e`: exit when a command fails (outside conditions, `&&`/`||` left sides and `!`). */
  errexit: boolean;
  /** `-u`: expanding an unset variable is an error. */
  nounset: boolean;
  /** `-x`: trace each command to stderr. */
  xtrace: boolean;
  /** `-f`: no pathname expansion. */
  noglob: boolean;
  /** `-C`: `>` does not overwrite an existing file. */
  noclobber: boolean;
  /** `-a`: export every variable that is assigned. */
  allexport: boolean;
  /** `-v`: accepted; the virtual shell does not echo input lines. */
  verbose: boolean;
  /** `-o pipefail`: a pipeline's status is that of its last failing command. */
  pipefail: boolean;
}

/** Single-letter flags of {@link ShellOptions} (for `set -e`, `$-`). */
export const OPTION_LETTERS: Readonly<Record<string, keyof ShellOptions>> = {
  e: 'errexit',
  u: 'nounset',
  x: 'xtrace',
  f: 'noglob',
  C: 'noclobber',
  a: 'allexport',
  v: 'verbose',
};

/** Thrown when assigning to or unsetting a readonly variable. */
export class ReadonlyVariableError extends Error {
  override readonly name = 'ReadonlyVariableError';
  readonly variable: string;
  constructor(variable: string) {
    super(`${variable}: is read only`);
    this.variable = variable;
  }
}

/** Variables, functions, parameters and options of one shell. */
export class ShellState {
  vars = new Map<string, ShellVar>();
  functions = new Map<string, Command>();
  positional: string[] = [];
  /** `$0`. */
  arg0 = 'sh';
  options: ShellOptions = {
    errexit: false,
    nounset: false,
    xtrace: false,
    noglob: false,
    noclobber: false,
    allexport: false,
    verbose: false,
    pipefail: false,
  };
  /** Logical working directory (absolute). */
  cwd = '/';
  /** `$?`. */
  status = 0;
  /** `$!`: the number given to the last `&` command. */
  lastBackground: number | undefined;
  /** File mode creation mask. */
  umask = 0o022;
  /** Saved variables of each active function call, restored on return (`local`). */
  localFrames: Map<string, ShellVar | undefined>[] = [];
  /** `trap` actions by condition (`EXIT`, `INT`...); a subshell starts with none. */
  traps = new Map<string, string>();
  /** Names given to `export` while unset: exported once assigned. */
  exportOnAssign = new Set<string>();
  /** `getopts` position inside a cluster of flags (`-abc`), with the OPTIND it belongs to. */
  getopts = { optind: 1, offset: 0 };

  /** A deep copy for a subshell. */
  clone(): ShellState {
    const s = new ShellState();
    for (const [k, v] of this.vars) s.vars.set(k, { ...v });
    s.functions = new Map(this.functions);
    s.positional = [...this.positional];
    s.arg0 = this.arg0;
    s.options = { ...this.options };
    s.cwd = this.cwd;
    s.status = this.status;
    s.lastBackground = this.lastBackground;
    s.umask = this.umask;
    s.exportOnAssign = new Set(this.exportOnAssign);
    s.getopts = { ...this.getopts };
    return s;
  }

  /** A variable's value, or undefined when unset. */
  get(name: string): string | undefined {
    return this.vars.get(name)?.value;
  }

  /** Sets a variable (keeping its flags). @throws ReadonlyVariableError */
  set(name: string, value: string, options: { export?: boolean } = {}): void {
    const v = this.vars.get(name);
    if (v?.readonly) throw new ReadonlyVariableError(name);
    const exported =
      options.export === true || v?.exported === true || this.options.allexport || this.exportOnAssign.has(name);
    this.vars.set(name, { value, exported, readonly: false });
  }

  /** Unsets a variable. @throws ReadonlyVariableError */
  unset(name: string): void {
    if (this.vars.get(name)?.readonly) throw new ReadonlyVariableError(name);
    this.vars.delete(name);
  }

  /** Marks a variable exported (creating it empty-and-unset is not possible: it stays unset). */
  markExported(name: string): void {
    const v = this.vars.get(name);
    if (v !== undefined) v.exported = true;
  }

  /** Marks a variable readonly. */
  markReadonly(name: string): void {
    const v = this.vars.get(name);
    if (v !== undefined) v.readonly = true;
  }

  /** `local name`: saves the variable in the innermost function frame (once per call). */
  makeLocal(name: string): boolean {
    const frame = this.localFrames[this.localFrames.length - 1];
    if (frame === undefined) return false;
    if (!frame.has(name)) {
      const v = this.vars.get(name);
      frame.set(name, v === undefined ? undefined : { ...v });
    }
    return true;
  }

  /** Restores the variables saved by `local` in the innermost frame. */
  popLocalFrame(): void {
    const frame = this.localFrames.pop();
    if (frame === undefined) return;
    for (const [name, saved] of frame) {
      if (saved === undefined) this.vars.delete(name);
      else this.vars.set(name, saved);
    }
  }

  /** The exported variables, as a command's environment. */
  environment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of this.vars) if (v.exported) env[k] = v.value;
    return env;
  }

  /** `$-`: the single-letter options that are on. */
  flags(): string {
    let s = '';
    for (const [letter, key] of Object.entries(OPTION_LETTERS)) if (this.options[key]) s += letter;
    return s;
  }
}
