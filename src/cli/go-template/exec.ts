/** Runs a parsed template on a value, as Go's text/template executes one. */
import { FUNCS, goType } from './functions.js';
import { lineOf, type Arg, type Cmd, type Node, type Pipeline } from './parse.js';
import { GoNil, goString, isMap, isStruct, NO_VALUE, TemplateError, truthy } from './values.js';

class Break {}
class Continue {}

/** One run of a template on a value: walks the nodes, writing what they print. */
export class Exec {
  private out = '';
  constructor(
    private readonly src: string,
    private readonly root: unknown,
  ) {}

  run(nodes: Node[]): string {
    this.walk(nodes, this.root, [{ name: '$', value: this.root }]);
    return this.out;
  }

  private fail(pos: number, at: string, why: string): TemplateError {
    const col = pos - this.src.lastIndexOf('\n', pos - 1);
    return new TemplateError(`template: :${lineOf(this.src, pos)}:${col + 1}: executing "" at <${at}>: ${why}`, 'exec');
  }

  private walk(nodes: Node[], dot: unknown, vars: Array<{ name: string; value: unknown }>): void {
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          this.out += n.text;
          break;
        case 'action': {
          const v = this.pipeline(n.pipe, dot, vars, n.pos);
          if (n.pipe.decl.length === 0) this.out += goString(v);
          break;
        }
        case 'if':
        case 'with': {
          const inner = [...vars];
          const v = this.pipeline(n.pipe, dot, inner, n.pos);
          if (truthy(v)) this.walk(n.body, n.t === 'with' ? v : dot, inner);
          else if (n.else) this.walk(n.else, dot, inner);
          break;
        }
        case 'range':
          this.range(n, dot, vars);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private range(n: Extract<Node, { t: 'range' }>, dot: unknown, vars: Array<{ name: string; value: unknown }>): void {
    const pipe = { ...n.pipe, decl: [] as string[] };
    const v = this.pipeline(pipe, dot, vars, n.pos);
    let items: Array<[unknown, unknown]>;
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (v instanceof GoNil || v === NO_VALUE || v === null || v === undefined) items = [];
    else if (typeof v === 'number' && Number.isInteger(v))
      items = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
    else if (isMap(v))
      items = Object.keys(v)
        .sort()
        .map((k) => [k, v[k]]);
    else throw this.fail(n.pos, n.pipe.text.trim(), `range can't iterate over ${goString(v)}`);
    if (items.length === 0) {
      if (n.else) this.walk(n.else, dot, [...vars]);
      return;
    }
    for (const [key, value] of items) {
      const inner = [...vars];
      const d = n.pipe.decl;
      if (d.length === 1) inner.push({ name: d[0]!, value });
      if (d.length === 2) inner.push({ name: d[0]!, value: key }, { name: d[1]!, value });
      try {
        this.walk(n.body, value, inner);
      } catch (e) {
        if (e instanceof Break) break;
        if (e instanceof Continue) continue;
        throw e;
      }
    }
  }

  private pipeline(p: Pipeline, dot: unknown, vars: Array<{ name: string; value: unknown }>, pos: number): unknown {
    let value: unknown = NO_VALUE;
    let have = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, vars, pos, have ? value : undefined, have);
      have = true;
    }
    if (p.decl.length > 0) {
      if (p.assign) {
        const slot = [...vars].reverse().find((x) => x.name === p.decl[0]);
        if (!slot) throw this.fail(pos, p.decl[0]!, `undefined variable: ${p.decl[0]}`);
        slot.value = value;
      } else vars.push({ name: p.decl[0]!, value });
    }
    return value;
  }

  private command(
    cmd: Cmd,
    dot: unknown,
    vars: Array<{ name: string; value: unknown }>,
    pos: number,
    final: unknown,
    hasFinal: boolean,
  ): unknown {
    const [first, ...rest] = cmd.args;
    if (first!.t === 'ident') {
      if (first!.name === 'and' || first!.name === 'or') {
        // Short-circuit, as Go 1.18+: the first falsy (and) / truthy (or) argument, else the last.
        const thunks = rest.map((a) => () => this.arg(a, dot, vars, pos));
        if (hasFinal) thunks.push(() => final);
        if (thunks.length === 0) throw this.fail(pos, first!.name, 'wrong number of args: want at least 1 got 0');
        let v: unknown;
        for (const t of thunks) {
          v = t();
          if (truthy(v) === (first!.name === 'or')) return v;
        }
        return v;
      }
      const fn = FUNCS[first!.name];
      if (!fn)
        throw new TemplateError(`template: :${lineOf(this.src, pos)}: function "${first!.name}" not defined`, 'parse');
      const args = rest.map((a) => this.arg(a, dot, vars, pos));
      if (hasFinal) args.push(final);
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof TemplateError && e.phase === 'exec' && !e.message.startsWith('template:'))
          throw this.fail(pos, first!.name, e.message);
        throw e;
      }
    }
    if (rest.length > 0 || hasFinal) {
      const what =
        first!.t === 'field' ? `.${first!.path.join('.')}` : first!.t === 'lit' ? goString(first!.value) : 'value';
      throw this.fail(pos, what, `can't give argument to non-function ${what}`);
    }
    return this.arg(first!, dot, vars, pos);
  }

  private arg(a: Arg, dot: unknown, vars: Array<{ name: string; value: unknown }>, pos: number): unknown {
    switch (a.t) {
      case 'lit':
        return a.value;
      case 'field':
        return this.fields(dot, a.path, pos, '');
      case 'var': {
        const slot = [...vars].reverse().find((x) => x.name === a.name);
        if (!slot)
          throw new TemplateError(`template: :${lineOf(this.src, pos)}: undefined variable "${a.name}"`, 'parse');
        return this.fields(slot.value, a.path, pos, a.name);
      }
      case 'pipe':
        return this.fields(this.pipeline(a.pipe, dot, vars, pos), a.path, pos, '');
      case 'ident': {
        if (a.name === 'and' || a.name === 'or') throw this.fail(pos, a.name, 'missing argument');
        const fn = FUNCS[a.name];
        if (!fn)
          throw new TemplateError(`template: :${lineOf(this.src, pos)}: function "${a.name}" not defined`, 'parse');
        return fn();
      }
    }
  }

  private fields(value: unknown, path: string[], pos: number, prefix: string): unknown {
    let cur = value;
    for (let i = 0; i < path.length; i++) {
      const name = path[i]!;
      const at = `${prefix}.${path.slice(0, i + 1).join('.')}`;
      if (isStruct(cur) || isMap(cur)) {
        // A missing field prints <no value>, as docker's fallback to the raw JSON map does.
        cur = Object.hasOwn(cur, name) ? cur[name] : NO_VALUE;
      } else if (cur instanceof GoNil && cur.kind === 'map') {
        cur = NO_VALUE;
      } else if (cur === NO_VALUE || cur === null || cur === undefined || cur instanceof GoNil) {
        throw this.fail(pos, at, `nil pointer evaluating interface {}.${name}`);
      } else {
        throw this.fail(pos, at, `can't evaluate field ${name} in type ${goType(cur)}`);
      }
    }
    return cur;
  }
}
