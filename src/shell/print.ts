/**
 * Prints a syntax tree back as canonical shell text: one space between tokens, `;` between
 * commands, words as written. Parsing the printed text gives the same tree, which makes the
 * printer the readable form of the parser's output in tests and messages.
 */
import type { AndOr, Command, List, Pipeline, Redirect } from './ast.js';

/** Canonical text of a list (`a && b | c; d &`). */
export function printScript(list: List): string {
  return list.items
    .map((item, i) => {
      const text = printAndOr(item.command);
      if (item.async) return `${text} &`;
      return i < list.items.length - 1 ? `${text};` : text;
    })
    .join(' ');
}

function body(list: List): string {
  const text = printScript(list);
  return text.endsWith('&') ? text : `${text};`;
}

function printAndOr(node: AndOr): string {
  let text = printPipeline(node.head);
  for (const { op, pipeline } of node.tail) text += ` ${op} ${printPipeline(pipeline)}`;
  return text;
}

function printPipeline(node: Pipeline): string {
  const text = node.commands.map((c) => printCommand(c)).join(' | ');
  return node.bang ? `! ${text}` : text;
}

function printRedirects(redirs: Redirect[]): string {
  return redirs
    .map((r) => {
      const fd = r.fd === undefined ? '' : String(r.fd);
      return ` ${fd}${r.op}${r.target.text}`;
    })
    .join('');
}

/** Canonical text of one command. */
export function printCommand(node: Command): string {
  switch (node.type) {
    case 'simple': {
      const words = [...node.assigns.map((a) => `${a.name}=${a.value.text}`), ...node.words.map((w) => w.text)];
      return (words.join(' ') + printRedirects(node.redirs)).trim();
    }
    case 'subshell':
      return `(${printScript(node.body)})${printRedirects(node.redirs)}`;
    case 'group':
      return `{ ${body(node.body)} }${printRedirects(node.redirs)}`;
    case 'if': {
      let text = node.clauses
        .map((c, i) => `${i === 0 ? 'if' : 'elif'} ${body(c.cond)} then ${body(c.body)}`)
        .join(' ');
      if (node.else !== undefined) text += ` else ${body(node.else)}`;
      return `${text} fi${printRedirects(node.redirs)}`;
    }
    case 'for': {
      const items = node.items === undefined ? '' : ` in${node.items.map((w) => ` ${w.text}`).join('')};`;
      return `for ${node.name}${items} do ${body(node.body)} done${printRedirects(node.redirs)}`;
    }
    case 'while':
      return `${node.until ? 'until' : 'while'} ${body(node.cond)} do ${body(node.body)} done${printRedirects(node.redirs)}`;
    case 'case': {
      const items = node.items
        .map(
          (it) =>
            ` ${it.patterns.map((p) => p.text).join('|')}) ${it.body.items.length > 0 ? printScript(it.body) : ''};;`,
        )
        .join('');
      return `case ${node.word.text} in${items} esac${printRedirects(node.redirs)}`;
    }
    case 'function':
      return `${node.name}() ${printCommand(node.body)}`;
  }
}
