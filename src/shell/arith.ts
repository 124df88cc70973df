/**
 * Shell arithmetic (`$((...))`): signed 64-bit integers with C operator precedence, variables by
 * name (unset or empty is 0; a value that is itself an expression is evaluated), assignment
 * operators, `++`/`--`, `?:` and short-circuit `&&`/`||`. Decimal, octal (`010`), hex (`0x1f`)
 * and `base#digits` constants.
 */

/** An arithmetic error; the shell prints `sh: arithmetic: <message>` and exits with status 2. */
export class ArithmeticError extends Error {
  override readonly name = 'ArithmeticError';
}

/** Variable access for arithmetic. */
export interface ArithmeticHost {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

type Node =
  | { k: 'num'; v: bigint }
  | { k: 'var'; name: string }
  | { k: 'un'; op: string; a: Node }
  | { k: 'incdec'; op: '++' | '--'; prefix: boolean; name: string }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'assign'; op: string; name: string; b: Node }
  | { k: 'cond'; c: Node; a: Node; b: Node }
  | { k: 'comma'; a: Node; b: Node };

const OPS = [
  '<<=',
  '>>=',
  '**',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '^=',
  '|=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '=',
  '!',
  '~',
  '&',
  '^',
  '|',
  '?',
  ':',
  '(',
  ')',
  ',',
] as const;

type Tok = { t: 'num'; v: bigint } | { t: 'id'; v: string } | { t: 'op'; v: string };

function parseNumber(text: string): bigint {
  const based = /^([0-9]+)#([0-9A-Za-z@_]+)$/.exec(text);
  if (based) {
    const base = Number(based[1]);
    if (base < 2 || base > 64) throw new ArithmeticError(`invalid number "${text}"`);
    let v = 0n;
    for (const ch of based[2] as string) {
      const d =
        ch >= '0' && ch <= '9'
          ? ch.charCodeAt(0) - 48
          : ch >= 'a' && ch <= 'z'
            ? ch.charCodeAt(0) - 87
            : ch >= 'A' && ch <= 'Z'
              ? base <= 36
                ? ch.charCodeAt(0) - 55
                : ch.charCodeAt(0) - 29
              : ch === '@'
                ? 62
                : 63;
      if (d >= base) throw new ArithmeticError(`invalid number "${text}"`);
      v = v * BigInt(base) + BigInt(d);
    }
    return v;
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  if (/^[0-9]+$/.test(text)) return BigInt(text);
  throw new ArithmeticError(`invalid number "${text}"`);
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+#[0-9A-Za-z@_]+|^0[xX][0-9a-fA-F]+|^[0-9A-Za-z_]+/.exec(src.slice(i));
      const text = (m as RegExpExecArray)[0];
      toks.push({ t: 'num', v: parseNumber(text) });
      i += text.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ t: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new ArithmeticError(`syntax error: invalid character "${c}"`);
    toks.push({ t: 'op', v: op });
    i += op.length;
  }
  return toks;
}

class ArithParser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): Node {
    if (this.toks.length === 0) return { k: 'num', v: 0n };
    const n = this.comma();
    if (this.i < this.toks.length) throw new ArithmeticError('syntax error');
    return n;
  }

  private peekOp(): string | undefined {
    const t = this.toks[this.i];
    return t?.t === 'op' ? t.v : undefined;
  }

  private comma(): Node {
    let a = this.assign();
    while (this.peekOp() === ',') {
      this.i++;
      a = { k: 'comma', a, b: this.assign() };
    }
    return a;
  }

  private assign(): Node {
    const t = this.toks[this.i];
    const nx = this.toks[this.i + 1];
    if (
      t?.t === 'id' &&
      nx?.t === 'op' &&
      ['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '^=', '|='].includes(nx.v)
    ) {
      this.i += 2;
      return { k: 'assign', op: nx.v, name: t.v, b: this.assign() };
    }
    return this.cond();
  }

  private cond(): Node {
    const c = this.binary(0);
    if (this.peekOp() !== '?') return c;
    this.i++;
    const a = this.comma();
    if (this.peekOp() !== ':') throw new ArithmeticError('syntax error: expecting ":"');
    this.i++;
    const b = this.cond();
    return { k: 'cond', c, a, b };
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<', '<=', '>', '>='],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];

  private binary(level: number): Node {
    const ops = ArithParser.LEVELS[level];
    if (ops === undefined) return this.power();
    let a = this.binary(level + 1);
    for (let op = this.peekOp(); op !== undefined && ops.includes(op); op = this.peekOp()) {
      this.i++;
      a = { k: 'bin', op, a, b: this.binary(level + 1) };
    }
    return a;
  }

  private power(): Node {
    const a = this.unary();
    if (this.peekOp() === '**') {
      this.i++;
      return { k: 'bin', op: '**', a, b: this.power() };
    }
    return a;
  }

  private unary(): Node {
    const op = this.peekOp();
    if (op === '++' || op === '--') {
      const t = this.toks[this.i + 1];
      if (t?.t !== 'id') throw new ArithmeticError(`syntax error: ${op} needs a variable`);
      this.i += 2;
      return { k: 'incdec', op, prefix: true, name: t.v };
    }
    if (op === '+' || op === '-' || op === '!' || op === '~') {
      this.i++;
      return { k: 'un', op, a: this.unary() };
    }
    return this.postfix();
  }

  private postfix(): Node {
    const t = this.toks[this.i];
    if (t === undefined) throw new ArithmeticError('syntax error: unexpected end of expression');
    if (t.t === 'num') {
      this.i++;
      return { k: 'num', v: t.v };
    }
    if (t.t === 'id') {
      this.i++;
      const op = this.peekOp();
      if (op === '++' || op === '--') {
        this.i++;
        return { k: 'incdec', op, prefix: false, name: t.v };
      }
      return { k: 'var', name: t.v };
    }
    if (t.v === '(') {
      this.i++;
      const n = this.comma();
      if (this.peekOp() !== ')') throw new ArithmeticError('syntax error: missing ")"');
      this.i++;
      return n;
    }
    throw new ArithmeticError(`syntax error: unexpected "${t.v}"`);
  }
}

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Evaluates an arithmetic expression (already parameter-expanded). @throws ArithmeticError */
export function evaluateArithmetic(expression: string, host: ArithmeticHost, depth = 0): bigint {
  if (depth > 32) throw new ArithmeticError('expression recursion level exceeded');
  const node = new ArithParser(tokenize(expression)).parse();
  const readVar = (name: string): bigint => {
    const value = host.get(name);
    if (value === undefined || value.trim() === '') return 0n;
    return evaluateArithmetic(value, host, depth + 1);
  };
  const binop = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '+':
        return wrap(a + b);
      case '-':
        return wrap(a - b);
      case '*':
        return wrap(a * b);
      case '/':
      case '%':
        if (b === 0n) throw new ArithmeticError('divide by zero');
        return wrap(op === '/' ? a / b : a % b);
      case '**':
        if (b < 0n) throw new ArithmeticError('exponent less than 0');
        return wrap(a ** b);
      case '<<':
        return wrap(a << (b & 63n));
      case '>>':
        return wrap(a >> (b & 63n));
      case '<':
        return a < b ? 1n : 0n;
      case '<=':
        return a <= b ? 1n : 0n;
      case '>':
        return a > b ? 1n : 0n;
      case '>=':
        return a >= b ? 1n : 0n;
      case '==':
        return a === b ? 1n : 0n;
      case '!=':
        return a !== b ? 1n : 0n;
      case '&':
        return a & b;
      case '^':
        return a ^ b;
      case '|':
        return a | b;
      default:
        throw new ArithmeticError(`syntax error: unknown operator "${op}"`);
    }
  };
  const ev = (n: Node): bigint => {
    switch (n.k) {
      case 'num':
        return wrap(n.v);
      case 'var':
        return readVar(n.name);
      case 'un': {
        const a = ev(n.a);
        if (n.op === '-') return wrap(-a);
        if (n.op === '!') return a === 0n ? 1n : 0n;
        if (n.op === '~') return wrap(~a);
        return a;
      }
      case 'incdec': {
        const old = readVar(n.name);
        const nv = wrap(n.op === '++' ? old + 1n : old - 1n);
        host.set(n.name, nv.toString());
        return n.prefix ? nv : old;
      }
      case 'bin':
        if (n.op === '&&') return ev(n.a) !== 0n && ev(n.b) !== 0n ? 1n : 0n;
        if (n.op === '||') return ev(n.a) !== 0n || ev(n.b) !== 0n ? 1n : 0n;
        return binop(n.op, ev(n.a), ev(n.b));
      case 'assign': {
        const b = ev(n.b);
        const v = n.op === '=' ? b : binop(n.op.slice(0, -1), readVar(n.name), b);
        host.set(n.name, v.toString());
        return v;
      }
      case 'cond':
        return ev(n.c) !== 0n ? ev(n.a) : ev(n.b);
      case 'comma':
        ev(n.a);
        return ev(n.b);
    }
  };
  return ev(node);
}
