/**
 * `instructionText`: the canonical text of an instruction, for cache keys, history and
 * messages. It is independent of layout (keyword case, continuation lines, spacing between
 * words) but keeps everything that changes meaning (the exact shell text, argument order, flags,
 * heredoc bodies).
 */
import { isInstructionKeyword } from './keywords.js';
import type { Node } from './types.js';

function argsText(node: Node): string {
  const { args } = node;
  switch (node.keyword) {
    case 'env':
    case 'label': {
      const parts: string[] = [];
      for (let i = 0; i + 2 < args.length; i += 3) {
        parts.push(args[i + 2] === '' ? `${args[i]} ${args[i + 1]}` : `${args[i]}=${args[i + 1]}`);
      }
      return parts.join(' ');
    }
    case 'healthcheck': {
      const [type, ...rest] = args;
      if (type === undefined) return '';
      if (node.json) return `${type} ${JSON.stringify(rest)}`;
      return rest.length === 0 ? type : `${type} ${rest.join(' ')}`;
    }
    default:
      return node.json ? JSON.stringify(args) : args.join(' ');
  }
}

/**
 * The canonical text of `node`: upper-case keyword, flags, arguments re-joined with single spaces
 * (JSON form as compact JSON, ENV/LABEL as `k=v`, legacy `k v` kept), ONBUILD's trigger in the
 * same form, then each heredoc as BuildKit re-attaches it (`\n` + body + delimiter). Unknown
 * keywords give their original text.
 */
export function instructionText(node: Node): string {
  let text: string;
  if (node.child !== undefined) {
    text = `ONBUILD ${instructionText({ ...node.child, heredocs: [] })}`;
  } else if (!isInstructionKeyword(node.keyword)) {
    text = node.original.trim();
  } else {
    text = [node.keyword.toUpperCase(), ...node.flags, argsText(node)].filter((s) => s !== '').join(' ');
  }
  for (const doc of node.heredocs) text += `\n${doc.content}${doc.name}`;
  return text;
}
