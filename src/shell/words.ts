/**
 * Small helpers on syntax-tree words shared by the lexer and the parser: quote removal without
 * expansion (heredoc delimiters) and splitting a leading `~user` into a tilde part.
 */
import type { WordPart } from './ast.js';

/** The text a part stands for after quote removal, without expansion (for heredoc delimiters). */
export function wordPartText(part: WordPart): string {
  switch (part.type) {
    case 'lit':
    case 'escaped':
    case 'sq':
      return part.text;
    case 'dq':
      return part.parts.map((p) => wordPartText(p)).join('');
    case 'tilde':
      return `~${part.user}`;
    case 'param':
      return `$${part.name}`;
    case 'cmdsub':
      return '';
    case 'arith':
      return part.expr.text;
  }
}

/** Splits a leading unquoted `~user` (up to the first `/`) off the first literal part. */
export function splitTilde(parts: WordPart[]): WordPart[] {
  const first = parts[0];
  if (first?.type !== 'lit' || !first.text.startsWith('~')) return parts;
  const slash = first.text.indexOf('/');
  if (slash < 0 && parts.length > 1) return parts;
  const user = first.text.slice(1, slash < 0 ? undefined : slash);
  if (!/^[A-Za-z0-9_.-]*$/.test(user)) return parts;
  const rest = slash < 0 ? '' : first.text.slice(slash);
  const out: WordPart[] = [{ type: 'tilde', user }];
  if (rest !== '') out.push({ type: 'lit', text: rest });
  return out.concat(parts.slice(1));
}
