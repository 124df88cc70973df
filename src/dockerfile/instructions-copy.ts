/**
 * COPY and ADD (sources, heredoc sources, destination and their flags) and ONBUILD (the trigger
 * and the expression the image config stores).
 */
import { chompHeredocContent, parseHeredocWord } from './heredoc.js';
import type { InstructionContext } from './instruction-context.js';
import type {
  AddInstruction,
  CopyInstruction,
  CopyLikeFields,
  HeredocSource,
  OnbuildInstruction,
} from './instruction-types.js';
import type { FlagSet } from './flags.js';
import type { Heredoc } from './types.js';

function heredocWord(word: string): Heredoc | undefined {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined; // BuildKit's MustParseHeredoc ignores a malformed delimiter here
  }
}

function sourcesAndDest(ctx: InstructionContext, flags: FlagSet): CopyLikeFields {
  const { node } = ctx;
  const dest = node.args[node.args.length - 1] as string;
  if (heredocWord(dest) !== undefined) throw ctx.argError(`${ctx.name} cannot accept a heredoc as a destination`);
  const bodies = new Map<string, string>();
  for (const doc of node.heredocs) bodies.set(doc.name, doc.content);
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const src of node.args.slice(0, -1)) {
    const doc = heredocWord(src);
    if (doc === undefined) {
      sources.push(src);
      continue;
    }
    const content = bodies.get(doc.name) ?? '';
    heredocSources.push({
      name: doc.name,
      content: doc.chomp ? chompHeredocContent(content) : content,
      expand: doc.expand,
    });
  }
  const fields: CopyLikeFields = {
    sources,
    heredocSources,
    dest,
    link: flags.isTrue('link'),
    excludes: flags.values('exclude'),
  };
  if (flags.used('chown')) fields.chown = flags.value('chown');
  if (flags.used('chmod')) fields.chmod = flags.value('chmod');
  return fields;
}

function requireDestination(ctx: InstructionContext): void {
  if (ctx.node.args.length < 2) {
    throw ctx.argError(
      `${ctx.name} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
}

/** COPY. */
export function toCopy(ctx: InstructionContext): CopyInstruction {
  requireDestination(ctx);
  const flags = ctx
    .flags()
    .string('chown')
    .string('from')
    .string('chmod')
    .bool('link')
    .strings('exclude')
    .bool('parents');
  flags.parse();
  const out: CopyInstruction = {
    keyword: 'copy',
    node: ctx.node,
    range: ctx.node.range,
    ...sourcesAndDest(ctx, flags),
    parents: flags.isTrue('parents'),
  };
  if (flags.used('from')) out.from = flags.value('from');
  return out;
}

/** ADD. */
export function toAdd(ctx: InstructionContext): AddInstruction {
  requireDestination(ctx);
  const flags = ctx.flags().string('chown').string('chmod').bool('link').bool('keep-git-dir').string('checksum');
  flags.bool('unpack').strings('exclude').parse();
  const out: AddInstruction = { keyword: 'add', node: ctx.node, range: ctx.node.range, ...sourcesAndDest(ctx, flags) };
  if (flags.used('checksum')) out.checksum = flags.value('checksum');
  if (flags.used('keep-git-dir')) out.keepGitDir = flags.isTrue('keep-git-dir');
  if (flags.used('unpack')) out.unpack = flags.isTrue('unpack');
  return out;
}

/** ONBUILD. */
export function toOnbuild(ctx: InstructionContext): OnbuildInstruction {
  const { node } = ctx;
  const trigger = node.child;
  if (trigger === undefined) throw ctx.argError('ONBUILD requires at least one argument');
  ctx.flags().parse();
  const keyword = trigger.rawKeyword.trim().toUpperCase();
  if (keyword === 'ONBUILD') throw ctx.argError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (keyword === 'MAINTAINER' || keyword === 'FROM')
    throw ctx.argError(`${keyword} isn't allowed as an ONBUILD trigger`);
  let expression = node.original.replace(/^[\t\n\f\r ]*onbuild[\t\n\f\r ]*/i, '');
  for (const doc of node.heredocs) expression += `\n${doc.content}${doc.name}`;
  return { keyword: 'onbuild', node, range: node.range, expression, trigger };
}
