/**
 * Prints the AST in BuildKit's `Node.Dump()` format, one `(keyword ["--flags"] "arg" ...)` line
 * per instruction, so the parser can be compared byte for byte with BuildKit's parser corpus.
 */
import { goQuote, trimGoSpace } from './go-text.js';
import { isInstructionKeyword } from './keywords.js';
import type { Node, ParsedDockerfile } from './types.js';

/** One node as BuildKit dumps it (without the surrounding parentheses). */
export function dumpNode(node: Node): string {
  let out = node.keyword;
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (node.child !== undefined) {
    out += ` ${trimGoSpace(`(${dumpNode(node.child)})\n`)}`;
  } else if (!isInstructionKeyword(node.keyword)) {
    out += ' ""'; // BuildKit keeps one empty argument node for an unknown instruction
  } else {
    for (const arg of node.args) out += ` ${goQuote(arg)}`;
  }
  return trimGoSpace(out);
}

/** The whole AST as BuildKit's `result` files hold it (a trailing newline included). */
export function dumpDockerfile(parsed: Pick<ParsedDockerfile, 'nodes'>): string {
  return `${trimGoSpace(parsed.nodes.map((n) => `(${dumpNode(n)})\n`).join(''))}\n`;
}
