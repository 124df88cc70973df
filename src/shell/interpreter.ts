/**
 * The interpreter: walks the syntax tree of lists, and-or lists, pipelines and compound
 * commands, with `set -e` and its POSIX exemptions (conditions of `if`/`while`/`until`, the
 * left side of `&&`/`||`, negated pipelines), subshells on a copy of the state, and pipelines
 * whose stages run concurrently over bounded in-memory pipes. Simple commands are in
 * `command.ts`, redirections in `redirect.ts`.
 */
import { yieldToEventLoop } from '#platform';
import { throwIfAborted } from '../errors.js';
import type { Case, Command, For, If, List, AndOr, Pipeline, Script, While, Word } from './ast.js';
import { execSimple } from './command.js';
import { expandPattern, expandString, expandWords, ExpansionError, type ExpansionHost } from './expand.js';
import { BrokenPipeError, BufferWriter, createPipe, toBytes } from './io.js';
import { matchPattern } from './pattern.js';
import { applyRedirects } from './redirect.js';
import { ExitSignal, LoopSignal, ReturnSignal, type FdEntry, type FdTable, type Runtime } from './runtime.js';
import { parseScript, ShellSyntaxError } from './parser.js';
import { ReadonlyVariableError, type ShellState } from './state.js';
import { readPasswd } from './users.js';

/** Commands run between two yields to the event loop (so timers and abort signals can fire). */
const YIELD_EVERY = 512;
/** Deepest function call nesting before the shell gives up. */
const MAX_CALL_DEPTH = 500;

/** One shell (or subshell): its state plus the runtime shared with every other shell of the run. */
export class Interpreter implements ExpansionHost {
  readonly rt: Runtime;
  readonly state: ShellState;
  /** Enclosing loops in the current function (for `break`/`continue`). */
  loopDepth = 0;
  /** Active function calls. */
  callDepth = 0;
  /** Active `.` scripts. */
  sourceDepth = 0;
  /** Status of the last command substitution of the current simple command. */
  cmdSubStatus: number | undefined;
  /** Redirections made permanent by `exec` with no command. */
  execFds = new Map<number, FdEntry>();
  /** Exit statuses of `&` commands by job number (for `wait`). */
  readonly jobStatus = new Map<number, number>();
  /** The fds of the command being expanded (command substitutions inherit its stdin and stderr). */
  private expansionFds: FdTable | undefined;

  constructor(rt: Runtime, state: ShellState) {
    this.rt = rt;
    this.state = state;
  }

  get fs(): Runtime['fs'] {
    return this.rt.fs;
  }

  /** A subshell: a copy of this shell's state (without traps) over the same runtime. */
  subshell(): Interpreter {
    const sub = new Interpreter(this.rt, this.state.clone());
    sub.execFds = new Map(this.execFds);
    return sub;
  }

  /** Runs `fn` as the body of this (sub)shell: `exit` ends it, then the EXIT trap runs. */
  async runShell(fn: () => Promise<number>, fds: FdTable): Promise<number> {
    let status: number;
    try {
      status = await fn();
    } catch (err) {
      status = this.unwindStatus(err);
    }
    const trap = this.state.traps.get('EXIT');
    if (trap !== undefined && trap !== '') {
      this.state.traps.delete('EXIT');
      this.state.status = status;
      try {
        await this.evalString(trap, fds);
      } catch (err) {
        status = this.unwindStatus(err);
      }
    }
    return status;
  }

  private unwindStatus(err: unknown): number {
    if (err instanceof ExitSignal || err instanceof ReturnSignal) return err.status;
    if (err instanceof LoopSignal) return 0;
    throw err;
  }

  /** Parses and runs text in this shell (`eval`, traps); a syntax error prints and returns 2. */
  async evalString(source: string, fds: FdTable, noErrexit = false): Promise<number> {
    let script: Script;
    try {
      script = parseScript({ source });
    } catch (err) {
      if (err instanceof ShellSyntaxError) {
        await fds.stderr.write(`sh: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    return this.execList(script, fds, noErrexit);
  }

  /** Writes `sh: message` to stderr and exits the shell with `status`. */
  async fatal(fds: FdTable, message: string, status: number): Promise<never> {
    await fds.stderr.write(`sh: ${message}\n`);
    throw new ExitSignal(status);
  }

  /** Prints `sh: message` on standard error. */
  async warn(fds: FdTable, message: string): Promise<void> {
    await fds.stderr.write(`sh: ${message}\n`);
  }

  /** Yields to the event loop now and then, and honours the abort signal. */
  async checkpoint(): Promise<void> {
    throwIfAborted(this.rt.signal);
    if (++this.rt.ticks >= YIELD_EVERY) {
      this.rt.ticks = 0;
      await yieldToEventLoop();
      throwIfAborted(this.rt.signal);
    }
  }

  // --- expansion (ExpansionHost) ---

  async commandSubstitution(script: Script): Promise<string> {
    const sub = this.subshell();
    const out = new BufferWriter();
    const base = this.expansionFds;
    if (base === undefined) throw new Error('command substitution outside a command');
    const fds = base.with(1, { kind: 'out', writer: out });
    // `$?` keeps the previous command's status until this command ends (as in dash and ash);
    // a command made of assignments only takes the status of its last substitution.
    this.cmdSubStatus = await sub.runShell(() => sub.execList(script, fds, false), fds);
    return out.text();
  }

  async homeDirectory(user: string): Promise<string | undefined> {
    if (user === '') return this.rt.user.home;
    return (await readPasswd(this.rt.fs)).find((p) => p.name === user)?.home;
  }

  private async expansion<T>(fds: FdTable, fn: () => Promise<T>): Promise<T> {
    const saved = this.expansionFds;
    this.expansionFds = fds;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ExpansionError) return this.fatal(fds, err.message, err.status);
      throw err;
    } finally {
      this.expansionFds = saved;
    }
  }

  /** Expands words into fields (splitting and globbing); a fatal expansion error exits the shell. */
  expandWords(words: readonly Word[], fds: FdTable): Promise<string[]> {
    return this.expansion(fds, () => expandWords(this, words));
  }

  /** Expands a word to one string (no splitting or globbing). */
  expandString(word: Word, fds: FdTable): Promise<string> {
    return this.expansion(fds, () => expandString(this, word));
  }

  /** Expands a word to a pattern. */
  expandPattern(word: Word, fds: FdTable): Promise<string> {
    return this.expansion(fds, () => expandPattern(this, word));
  }

  /** Sets a variable; a readonly one is a fatal error. */
  async setVar(name: string, value: string, fds: FdTable): Promise<void> {
    try {
      this.state.set(name, value);
    } catch (err) {
      if (err instanceof ReadonlyVariableError) return this.fatal(fds, err.message, 2);
      throw err;
    }
  }

  /** Writes an `set -x` trace line. */
  async trace(fds: FdTable, text: string): Promise<void> {
    const ps4 = this.state.get('PS4') ?? '+ ';
    await fds.stderr.write(toBytes(`${ps4}${text}\n`));
  }

  // --- execution ---

  /** Runs a list; `noErrexit` marks a context where `set -e` does not apply. */
  async execList(list: List, fds: FdTable, noErrexit: boolean): Promise<number> {
    let status = 0;
    for (const item of list.items) {
      const itemFds = this.applyExecFds(fds);
      if (item.async) {
        const sub = this.subshell();
        const s = await sub.runShell(() => sub.execAndOr(item.command, itemFds, false), itemFds);
        const job = ++this.rt.jobs;
        this.state.lastBackground = job;
        this.jobStatus.set(job, s);
        status = 0;
      } else {
        status = await this.execAndOr(item.command, itemFds, noErrexit);
      }
      this.state.status = status;
    }
    return status;
  }

  private applyExecFds(fds: FdTable): FdTable {
    let out = fds;
    for (const [fd, entry] of this.execFds) out = out.with(fd, entry);
    return out;
  }

  async execAndOr(node: AndOr, fds: FdTable, noErrexit: boolean): Promise<number> {
    let status = await this.execPipeline(node.head, fds, noErrexit || node.tail.length > 0);
    for (let i = 0; i < node.tail.length; i++) {
      const { op, pipeline } = node.tail[i] as AndOr['tail'][number];
      if ((op === '&&') !== (status === 0)) continue;
      status = await this.execPipeline(pipeline, fds, noErrexit || i < node.tail.length - 1);
    }
    return status;
  }

  async execPipeline(p: Pipeline, fds: FdTable, noErrexit: boolean): Promise<number> {
    const suppress = noErrexit || p.bang;
    const first = p.commands[0] as Command;
    let status =
      p.commands.length === 1
        ? await this.execCommand(first, fds, suppress)
        : await this.execStages(p.commands, fds, suppress);
    if (p.bang) status = status === 0 ? 1 : 0;
    this.state.status = status;
    const counts = p.commands.length > 1 || first.type === 'simple' || first.type === 'subshell';
    if (!suppress && status !== 0 && this.state.options.errexit && counts) throw new ExitSignal(status);
    return status;
  }

  /** Runs pipeline stages concurrently, each in a subshell, joined by bounded pipes. */
  private async execStages(commands: readonly Command[], fds: FdTable, noErrexit: boolean): Promise<number> {
    const n = commands.length;
    const pipes = Array.from({ length: n - 1 }, () => createPipe());
    const runs = commands.map(async (cmd, i) => {
      let stageFds = fds;
      const input = pipes[i - 1];
      const output = pipes[i];
      if (input !== undefined) stageFds = stageFds.with(0, { kind: 'in', stream: input.reader });
      if (output !== undefined) stageFds = stageFds.with(1, { kind: 'out', writer: output.writer });
      const sub = this.subshell();
      try {
        return await sub.runShell(() => sub.execCommand(cmd, stageFds, noErrexit), stageFds);
      } catch (err) {
        if (err instanceof BrokenPipeError) return 141;
        throw err;
      } finally {
        output?.writer.end();
        input?.reader.close();
      }
    });
    const statuses = await Promise.all(runs);
    if (this.state.options.pipefail) {
      for (let i = statuses.length - 1; i >= 0; i--) if (statuses[i] !== 0) return statuses[i] as number;
      return 0;
    }
    return statuses[n - 1] as number;
  }

  /** Runs one command of a pipeline. */
  async execCommand(cmd: Command, fds: FdTable, noErrexit: boolean): Promise<number> {
    if (cmd.type === 'simple') return execSimple(this, cmd, fds, noErrexit);
    if (cmd.type === 'function') {
      this.state.functions.set(cmd.name, cmd.body);
      return 0;
    }
    await this.checkpoint();
    const rfds = await applyRedirects(this, cmd.redirs, fds);
    if (rfds === undefined) return 1;
    switch (cmd.type) {
      case 'subshell': {
        const sub = this.subshell();
        return sub.runShell(() => sub.execList(cmd.body, rfds, noErrexit), rfds);
      }
      case 'group':
        return this.execList(cmd.body, rfds, noErrexit);
      case 'if':
        return this.execIf(cmd, rfds, noErrexit);
      case 'for':
        return this.execFor(cmd, rfds, noErrexit);
      case 'while':
        return this.execWhile(cmd, rfds, noErrexit);
      case 'case':
        return this.execCase(cmd, rfds, noErrexit);
    }
  }

  private async execIf(cmd: If, fds: FdTable, noErrexit: boolean): Promise<number> {
    for (const clause of cmd.clauses) {
      if ((await this.execList(clause.cond, fds, true)) === 0) return this.execList(clause.body, fds, noErrexit);
    }
    if (cmd.else !== undefined) return this.execList(cmd.else, fds, noErrexit);
    return 0;
  }

  /** Runs a loop body; returns 'break' when the loop must stop. */
  private async loopBody(body: List, fds: FdTable, noErrexit: boolean): Promise<{ status: number; stop: boolean }> {
    try {
      return { status: await this.execList(body, fds, noErrexit), stop: false };
    } catch (err) {
      if (!(err instanceof LoopSignal)) throw err;
      if (err.levels > 1) throw new LoopSignal(err.kind, err.levels - 1);
      return { status: 0, stop: err.kind === 'break' };
    }
  }

  private async execFor(cmd: For, fds: FdTable, noErrexit: boolean): Promise<number> {
    const items = cmd.items === undefined ? [...this.state.positional] : await this.expandWords(cmd.items, fds);
    let status = 0;
    this.loopDepth++;
    try {
      for (const item of items) {
        await this.checkpoint();
        await this.setVar(cmd.name, item, fds);
        const r = await this.loopBody(cmd.body, fds, noErrexit);
        status = r.status;
        if (r.stop) break;
      }
    } finally {
      this.loopDepth--;
    }
    return status;
  }

  private async execWhile(cmd: While, fds: FdTable, noErrexit: boolean): Promise<number> {
    let status = 0;
    this.loopDepth++;
    try {
      for (;;) {
        await this.checkpoint();
        let cond: number;
        try {
          cond = await this.execList(cmd.cond, fds, true);
        } catch (err) {
          if (!(err instanceof LoopSignal)) throw err;
          if (err.levels > 1) throw new LoopSignal(err.kind, err.levels - 1);
          if (err.kind === 'break') break;
          continue;
        }
        if (cmd.until ? cond === 0 : cond !== 0) break;
        const r = await this.loopBody(cmd.body, fds, noErrexit);
        status = r.status;
        if (r.stop) break;
      }
    } finally {
      this.loopDepth--;
    }
    return status;
  }

  private async execCase(cmd: Case, fds: FdTable, noErrexit: boolean): Promise<number> {
    const subject = await this.expandString(cmd.word, fds);
    for (const item of cmd.items) {
      for (const p of item.patterns) {
        if (matchPattern(await this.expandPattern(p, fds), subject)) return this.execList(item.body, fds, noErrexit);
      }
    }
    return 0;
  }

  /** Calls a shell function with `args` as its positional parameters. */
  async callFunction(body: Command, args: readonly string[], fds: FdTable, noErrexit: boolean): Promise<number> {
    if (this.callDepth >= MAX_CALL_DEPTH)
      return this.fatal(fds, `function nesting too deep (${MAX_CALL_DEPTH} calls)`, 2);
    const saved = this.state.positional;
    const savedLoops = this.loopDepth;
    this.state.positional = [...args];
    this.state.localFrames.push(new Map());
    this.callDepth++;
    this.loopDepth = 0;
    try {
      return await this.execCommand(body, fds, noErrexit);
    } catch (err) {
      if (err instanceof ReturnSignal) return err.status;
      throw err;
    } finally {
      this.callDepth--;
      this.loopDepth = savedLoops;
      this.state.popLocalFrame();
      this.state.positional = saved;
    }
  }
}
