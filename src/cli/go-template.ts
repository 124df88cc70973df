/**
 * Go's text/template, the subset `docker inspect --format` users write: field paths (`.Config.Cmd`),
 * variables, pipelines, parentheses, `if`/`else if`/`else`, `range` (with `$i, $v :=` and
 * `else`), `with`, `break`/`continue`, trim markers (`{{-` `-}}`), comments, Go's built-in
 * functions (and, or, not, len, index, slice, eq, ne, lt, le, gt, ge, print, printf, println,
 * html, js, urlquery) and docker's (json, join, split, title, lower, upper, pad, truncate).
 * Values print as Go's `%v` does: `[a b]` for slices, `map[k:v]` for maps (keys sorted), `{a b}`
 * for structs, `<no value>` for a missing key.
 */
import { Exec } from './go-template/exec.js';
import { FUNCS } from './go-template/functions.js';
import { lineOf, Parser, type Node, type Pipeline } from './go-template/parse.js';
import { TemplateError } from './go-template/values.js';

export { GoNil, goString, goStruct, TemplateError } from './go-template/values.js';

/** A parsed template, ready to run on any number of values. */
export interface GoTemplate {
  execute(data: unknown): string;
}

/**
 * Parses a Go text/template (docker's `--format` dialect). Throws {@link TemplateError} (`parse`).
 * @example parseTemplate('{{join .Config.Env ","}}').execute(inspect)
 */
export function parseTemplate(source: string): GoTemplate {
  const nodes = new Parser(source).parse();
  checkFunctions(nodes, source);
  return { execute: (data) => new Exec(source, data).run(nodes) };
}

/** Go reports unknown functions when parsing; so do we. */
function checkFunctions(nodes: Node[], src: string): void {
  const visitPipe = (p: Pipeline, pos: number): void => {
    for (const c of p.cmds)
      for (const a of c.args) {
        if (a.t === 'ident' && !FUNCS[a.name] && a.name !== 'and' && a.name !== 'or')
          throw new TemplateError(`template: :${lineOf(src, pos)}: function "${a.name}" not defined`, 'parse');
        if (a.t === 'pipe') visitPipe(a.pipe, pos);
      }
  };
  for (const n of nodes) {
    if (n.t === 'action') visitPipe(n.pipe, n.pos);
    if (n.t === 'if' || n.t === 'with' || n.t === 'range') {
      visitPipe(n.pipe, n.pos);
      checkFunctions(n.body, src);
      if (n.else) checkFunctions(n.else, src);
    }
  }
}
