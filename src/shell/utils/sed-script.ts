/**
 * The script language of the virtual shell's `sed`: addresses (`N`, `$`, `/re/`, ranges, `!`)
 * and the commands `s y d p q Q a i c = {}`, parsed into a list of {@link SedCommand}s.
 */
import { compileRegex } from './regex.js';

/** A line address. */
export type Address = { kind: 'line'; n: number } | { kind: 'last' } | { kind: 're'; re: RegExp };

/** One parsed command with its addresses (and range state while running). */
export interface SedCommand {
  a1?: Address;
  a2?: Address;
  negate: boolean;
  name: string;
  /** s: regex, replacement, flags; y: maps; a/i/c: text; q: exit code; {: body. */
  re?: RegExp | undefined;
  repl?: string;
  global?: boolean;
  nth?: number;
  print?: boolean;
  text?: string;
  map?: Map<string, string>;
  code?: number;
  body?: SedCommand[];
  inRange?: boolean;
  rangeEnd?: number;
}

/** A script or run-time error of sed. */
export class SedError extends Error {}

/** Parses a sed script (commands separated by `;` or newlines). */
export class ScriptParser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly extended: boolean,
  ) {}

  parse(untilBrace = false): SedCommand[] {
    const cmds: SedCommand[] = [];
    for (;;) {
      this.skip(' \t\n;');
      if (this.i >= this.src.length) {
        if (untilBrace) throw new SedError('unmatched `{`');
        return cmds;
      }
      if (this.src[this.i] === '}') {
        if (!untilBrace) throw new SedError('unexpected `}`');
        this.i++;
        return cmds;
      }
      cmds.push(this.command());
    }
  }

  private skip(chars: string): void {
    while (this.i < this.src.length && chars.includes(this.src[this.i] as string)) this.i++;
  }

  private delimited(delim: string): string {
    let out = '';
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '\n') throw new SedError(`unterminated expression (missing ${delim})`);
      this.i++;
      if (c === delim) return out;
      if (c === '\\') {
        const n = this.src[this.i++];
        if (n === undefined) throw new SedError('trailing backslash');
        out += n === delim ? n : n === 'n' ? '\\n' : `\\${n}`;
        continue;
      }
      out += c;
    }
  }

  private regex(text: string, flags = ''): RegExp {
    try {
      return compileRegex(text, {
        extended: this.extended,
        ignoreCase: flags.includes('I') || flags.includes('i'),
        global: true,
      });
    } catch (err) {
      throw new SedError(err instanceof Error ? err.message : String(err));
    }
  }

  private address(): Address | undefined {
    const c = this.src[this.i];
    if (c === '$') {
      this.i++;
      return { kind: 'last' };
    }
    const m = /^[0-9]+/.exec(this.src.slice(this.i));
    if (m) {
      this.i += m[0].length;
      return { kind: 'line', n: Number(m[0]) };
    }
    if (c === '/' || c === '\\') {
      let delim = '/';
      if (c === '\\') {
        delim = this.src[this.i + 1] ?? '/';
        this.i++;
      }
      this.i++;
      const text = this.delimited(delim);
      let flags = '';
      if (this.src[this.i] === 'I') {
        flags = 'I';
        this.i++;
      }
      return { kind: 're', re: this.regex(text, flags) };
    }
    return undefined;
  }

  private text(): string {
    this.skip(' \t');
    if (this.src[this.i] === '\\') {
      this.i++;
      if (this.src[this.i] === '\n') this.i++;
    }
    let out = '';
    while (this.i < this.src.length && this.src[this.i] !== '\n') {
      const c = this.src[this.i++] as string;
      if (c === '\\' && this.i < this.src.length) out += this.src[this.i++];
      else out += c;
    }
    return out;
  }

  private command(): SedCommand {
    const cmd: SedCommand = { negate: false, name: '' };
    const a1 = this.address();
    if (a1 !== undefined) {
      cmd.a1 = a1;
      if (this.src[this.i] === ',') {
        this.i++;
        const a2 = this.address();
        if (a2 === undefined) throw new SedError('unexpected `,`');
        cmd.a2 = a2;
      }
    }
    this.skip(' \t');
    if (this.src[this.i] === '!') {
      cmd.negate = true;
      this.i++;
      this.skip(' \t');
    }
    const name = this.src[this.i++];
    if (name === undefined) throw new SedError('missing command');
    cmd.name = name;
    switch (name) {
      case 's': {
        const delim = this.src[this.i++];
        if (delim === undefined || delim === '\n' || delim === '\\') throw new SedError('unterminated `s` command');
        const re = this.delimited(delim);
        cmd.repl = this.delimited(delim);
        let flags = '';
        while (this.i < this.src.length && /[gpiI0-9]/.test(this.src[this.i] as string)) flags += this.src[this.i++];
        cmd.global = flags.includes('g');
        cmd.print = flags.includes('p');
        const nth = /[0-9]+/.exec(flags);
        cmd.nth = nth ? Number(nth[0]) : 1;
        cmd.re = re === '' ? undefined : this.regex(re, flags);
        break;
      }
      case 'y': {
        const delim = this.src[this.i++] ?? '/';
        const from = Array.from(this.delimited(delim).replace(/\\n/g, '\n'));
        const to = Array.from(this.delimited(delim).replace(/\\n/g, '\n'));
        if (from.length !== to.length) throw new SedError('strings for `y` command are different lengths');
        cmd.map = new Map(from.map((c, k) => [c, to[k] as string]));
        break;
      }
      case 'a':
      case 'i':
      case 'c':
        cmd.text = this.text();
        break;
      case 'q':
      case 'Q': {
        this.skip(' \t');
        const m = /^[0-9]+/.exec(this.src.slice(this.i));
        cmd.code = m ? Number(m[0]) : 0;
        if (m) this.i += m[0].length;
        break;
      }
      case '{':
        cmd.body = this.parse(true);
        break;
      case 'd':
      case 'p':
      case '=':
        break;
      default:
        throw new SedError(`unsupported command '${name}' (the virtual shell's sed has s y d p q Q a i c = and {})`);
    }
    this.skip(' \t');
    if (
      name !== '{' &&
      name !== 'a' &&
      name !== 'i' &&
      name !== 'c' &&
      this.i < this.src.length &&
      !';\n}'.includes(this.src[this.i] as string)
    ) {
      throw new SedError(`extra characters after command '${name}'`);
    }
    return cmd;
  }
}
