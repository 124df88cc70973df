/** `sed`: stream editor (a subset: addresses and `s y d p q a i c = {}`). */
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, usageError } from './common.js';
import { execLongest, RegexSyntaxError } from './regex.js';
import { ScriptParser, SedError, type Address, type SedCommand } from './sed-script.js';

function expandReplacement(repl: string, m: RegExpExecArray | string[]): string {
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i] as string;
    if (c === '&') out += m[0] ?? '';
    else if (c === '\\' && i + 1 < repl.length) {
      const n = repl[++i] as string;
      if (/[0-9]/.test(n)) out += m[Number(n)] ?? '';
      else if (n === 'n') out += '\n';
      else if (n === 't') out += '\t';
      else out += n;
    } else out += c;
  }
  return out;
}

/**
 * POSIX substitution: replaces the `nth` match (and every later one with `global`); an empty
 * match right after the previous match is skipped, so replacing every `b*` in `abc` by `X` gives `XaXcX`.
 */
function substitute(
  text: string,
  re: RegExp,
  repl: string,
  global: boolean,
  nth: number,
): { text: string; changed: boolean } {
  let out = '';
  let pos = 0;
  let count = 0;
  let changed = false;
  let lastEnd = -1;
  while (pos <= text.length) {
    const m = execLongest(re, text, pos);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    if (m[0] === '' && start === lastEnd) {
      if (start >= text.length) break;
      out += text.slice(pos, start + 1);
      pos = start + 1;
      continue;
    }
    count++;
    out += text.slice(pos, start);
    if (count >= nth && (global || count === nth)) {
      out += expandReplacement(
        repl,
        Array.from(m, (g) => g ?? ''),
      );
      changed = true;
    } else {
      out += m[0];
    }
    lastEnd = end;
    if (m[0] === '') {
      if (start < text.length) out += text[start];
      pos = start + 1;
    } else {
      pos = end;
    }
    if (!global && count >= nth) break;
  }
  if (pos <= text.length) out += text.slice(pos);
  return { text: out, changed };
}

interface RunState {
  lineNo: number;
  last: boolean;
  out: string[];
  quit?: number | undefined;
  lastRe?: RegExp;
}

function matchAddress(a: Address, line: string, st: RunState): boolean {
  if (a.kind === 'line') return st.lineNo === a.n;
  if (a.kind === 'last') return st.last;
  a.re.lastIndex = 0;
  return a.re.test(line);
}

function selected(cmd: SedCommand, line: string, st: RunState): boolean {
  let hit: boolean;
  if (cmd.a1 === undefined) hit = true;
  else if (cmd.a2 === undefined) hit = matchAddress(cmd.a1, line, st);
  else if (cmd.inRange === true) {
    hit = true;
    const end = cmd.a2;
    if (end.kind === 'line' ? st.lineNo >= end.n : matchAddress(end, line, st)) cmd.inRange = false;
  } else if (matchAddress(cmd.a1, line, st)) {
    hit = true;
    const end = cmd.a2;
    cmd.inRange = !(end.kind === 'line' ? st.lineNo >= end.n : end.kind === 'last' ? st.last : false);
  } else hit = false;
  return hit !== cmd.negate;
}

/** Runs commands on the pattern space; returns the new pattern space, or undefined when deleted. */
function runCommands(
  cmds: SedCommand[],
  space: string,
  st: RunState,
  noPrint: boolean,
  append: string[],
): string | undefined {
  let ps = space;
  for (const cmd of cmds) {
    if (!selected(cmd, ps, st)) continue;
    switch (cmd.name) {
      case 's': {
        const re = cmd.re ?? st.lastRe;
        if (re === undefined) throw new SedError('no previous regular expression');
        st.lastRe = re;
        const r = substitute(ps, re, cmd.repl ?? '', cmd.global === true, cmd.nth ?? 1);
        ps = r.text;
        const changed = r.changed;
        if (changed && cmd.print === true) st.out.push(`${ps}\n`);
        break;
      }
      case 'y':
        ps = Array.from(ps)
          .map((c) => cmd.map?.get(c) ?? c)
          .join('');
        break;
      case 'd':
        return undefined;
      case 'p':
        st.out.push(`${ps}\n`);
        break;
      case '=':
        st.out.push(`${st.lineNo}\n`);
        break;
      case 'a':
        append.push(`${cmd.text ?? ''}\n`);
        break;
      case 'i':
        st.out.push(`${cmd.text ?? ''}\n`);
        break;
      case 'c':
        if (cmd.a2 === undefined || cmd.inRange !== true) st.out.push(`${cmd.text ?? ''}\n`);
        return undefined;
      case 'q':
        st.quit = cmd.code ?? 0;
        return ps;
      case 'Q':
        st.quit = cmd.code ?? 0;
        return undefined;
      case '{': {
        const r = runCommands(cmd.body ?? [], ps, st, noPrint, append);
        if (r === undefined) return undefined;
        ps = r;
        if (st.quit !== undefined) return ps;
        break;
      }
    }
  }
  return ps;
}

/** Edits text; returns the output and the exit code of `q` if one ran. */
function edit(cmds: SedCommand[], text: string, noPrint: boolean, st: RunState, isLastInput: boolean): string {
  const lines = text.split('\n');
  const trailingNewline = lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  st.out = [];
  for (let k = 0; k < lines.length; k++) {
    st.lineNo++;
    st.last = isLastInput && k === lines.length - 1;
    const append: string[] = [];
    const ps = runCommands(cmds, lines[k] as string, st, noPrint, append);
    const missingNewline = k === lines.length - 1 && !trailingNewline && append.length === 0;
    if (ps !== undefined && !noPrint) st.out.push(ps + (missingNewline ? '' : '\n'));
    st.out.push(...append);
    if (st.quit !== undefined) break;
  }
  return st.out.join('');
}

/**
 * `sed [-n] [-E|-r] [-i[SUFFIX]] [-s] [-e SCRIPT]... [-f FILE] [SCRIPT] [FILE|-]...`: a real
 * subset of POSIX/GNU sed. Addresses: `N`, `$`, `/re/` (or `\cREc`, `I`), ranges `a,b`, `!`.
 * Commands: `s/re/repl/[gpIN]` (`&`, `\1`-`\9`, `\n` in repl; any delimiter), `y/abc/xyz/`,
 * `d`, `p`, `q [code]`, `Q`, `a text`, `i text`, `c text`, `=`, `{ ... }`. `-i` edits each
 * file in place (optionally keeping FILE+SUFFIX). Others (`n N h H g G x b t :`) are refused.
 */
export const sed: UtilityDefinition = {
  name: 'sed',
  synopsis: 'sed [-n] [-E|-r] [-i[SUFFIX]] [-e SCRIPT]... [-f FILE] [SCRIPT] [FILE|-]...',
  description: 'Stream editor subset: addresses, s///[gpIN], y, d, p, q, a, i, c, =, {}; -i edits in place.',
  run: async (ctx: UtilityContext) => {
    let noPrint = false;
    let extended = false;
    let inPlace: string | undefined;
    const scripts: string[] = [];
    const operands: string[] = [];
    const args = [...ctx.args];
    let endOpts = false;
    while (args.length > 0) {
      const a = args.shift() as string;
      if (endOpts || !a.startsWith('-') || a === '-') {
        operands.push(a);
        continue;
      }
      if (a === '--') endOpts = true;
      else if (a === '-n' || a === '--quiet' || a === '--silent') noPrint = true;
      else if (a === '-E' || a === '-r' || a === '--regexp-extended') extended = true;
      else if (a === '-s' || a === '--separate' || a === '-u') continue;
      else if (a.startsWith('--in-place')) inPlace = a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
      else if (a.startsWith('-i')) inPlace = a.slice(2);
      else if (a === '-e' || a === '--expression') scripts.push(args.shift() ?? '');
      else if (a.startsWith('-e')) scripts.push(a.slice(2));
      else if (a === '-f' || a === '--file') {
        const file = args.shift() ?? '';
        try {
          scripts.push(toText(await ctx.readInput(file)).replace(/\n$/, ''));
        } catch (err) {
          await ctx.error(`couldn't open file ${file}: ${fsErrorText(err)}`);
          return 1;
        }
      } else if (/^-[nErs]+$/.test(a)) {
        if (a.includes('n')) noPrint = true;
        if (a.includes('E') || a.includes('r')) extended = true;
      } else return usageError(ctx, `invalid option -- '${a.slice(1)}'`);
    }
    if (scripts.length === 0) {
      const s = operands.shift();
      if (s === undefined) return usageError(ctx, 'no script specified');
      scripts.push(s);
    }
    let cmds: SedCommand[];
    try {
      cmds = new ScriptParser(scripts.join('\n'), extended).parse();
    } catch (err) {
      if (!(err instanceof SedError)) throw err;
      await ctx.error(`-e expression #1: ${err.message}`);
      return 1;
    }
    const st: RunState = { lineNo: 0, last: false, out: [] };
    let status = 0;
    try {
      if (inPlace !== undefined) {
        if (operands.length === 0) return usageError(ctx, 'no input files');
        for (const file of operands) {
          const abs = ctx.resolve(file);
          let text: string;
          try {
            text = toText(await ctx.fs.readFile(abs));
          } catch (err) {
            await ctx.error(`can't read ${file}: ${fsErrorText(err)}`);
            status = 2;
            continue;
          }
          st.lineNo = 0;
          st.quit = undefined;
          for (const c of cmds) c.inRange = false;
          const out = edit(cmds, text, noPrint, st, true);
          if (inPlace !== '') {
            // The backup keeps the original's mode; a new backup belongs to the running user.
            const backup = abs + inPlace;
            const existed = await ctx.fs.lstat(backup).then(
              () => true,
              () => false,
            );
            await ctx.fs.writeFile(backup, text);
            await ctx.fs.chmod(backup, (await ctx.fs.stat(abs)).mode & 0o7777);
            if (!existed) await ctx.ownCreated(backup);
          }
          await ctx.fs.writeFile(abs, out);
          if (st.quit !== undefined) return st.quit;
        }
        return status;
      }
      const inputs = operands.length === 0 ? ['-'] : operands;
      const texts: string[] = [];
      for (const file of inputs) {
        try {
          texts.push(toText(await ctx.readInput(file)));
        } catch (err) {
          await ctx.error(`can't read ${file}: ${fsErrorText(err)}`);
          status = 2;
        }
      }
      for (let k = 0; k < texts.length; k++) {
        let text = texts[k] as string;
        if (k < texts.length - 1 && text !== '' && !text.endsWith('\n')) text += '\n';
        await ctx.stdout.write(edit(cmds, text, noPrint, st, k === texts.length - 1));
        if (st.quit !== undefined) return st.quit;
      }
    } catch (err) {
      if (err instanceof SedError || err instanceof RegexSyntaxError) {
        await ctx.error(err.message);
        return 1;
      }
      throw err;
    }
    return status;
  },
};
