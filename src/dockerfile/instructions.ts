/**
 * `toInstruction`: an AST node to a typed instruction, with BuildKit's argument and flag checks
 * (`instructions/parse.go`) and its messages. Words stay unexpanded; see `expand-instruction.ts`.
 */
import { ErrorCodes } from '../errors.js';
import { dockerfileError } from './dockerfile-error.js';
import { withSuggestion } from './flags.js';
import { compareCodePoints, goQuote, trimGoSpace } from './go-text.js';
import { InstructionContext } from './instruction-context.js';
import type {
  ArgDefinition,
  ArgInstruction,
  EnvInstruction,
  ExposeInstruction,
  FromInstruction,
  Instruction,
  KeyValuePair,
  LabelInstruction,
  VolumeInstruction,
} from './instruction-types.js';
import { toCmd, toEntrypoint, toHealthcheck, toRun, toShell } from './instructions-command.js';
import { toAdd, toCopy, toOnbuild } from './instructions-copy.js';
import { INSTRUCTION_KEYWORDS } from './keywords.js';
import type { Node, ParsedDockerfile } from './types.js';

/** Options of {@link toInstruction}. */
export interface ToInstructionOptions {
  /** The file name for messages (default `Dockerfile`). */
  file?: string;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function toFrom(ctx: InstructionContext): FromInstruction {
  const { args } = ctx.node;
  let name: string | undefined;
  if (args.length === 3 && (args[1] as string).toLowerCase() === 'as') {
    name = (args[2] as string).toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw ctx.argError(
        `invalid name for build stage: ${goQuote(args[2] as string)}, name can't start with a number or contain symbols`,
      );
    }
  } else if (args.length !== 1) {
    throw ctx.argError('FROM requires either one or three arguments');
  }
  const flags = ctx.flags().string('platform').parse();
  const out: FromInstruction = { keyword: 'from', node: ctx.node, range: ctx.node.range, image: args[0] as string };
  if (name !== undefined) out.name = name;
  if (flags.used('platform')) out.platform = flags.value('platform');
  return out;
}

function pairs(ctx: InstructionContext): KeyValuePair[] {
  ctx.flags().parse();
  ctx.requireArgs();
  const { args } = ctx.node;
  const out: KeyValuePair[] = [];
  for (let i = 0; i + 2 < args.length; i += 3) {
    const key = args[i] as string;
    if (key === '') throw ctx.argError(`${ctx.name} names can not be blank`);
    out.push({ key, value: args[i + 1] as string, legacy: args[i + 2] === '' });
  }
  return out;
}

function toArg(ctx: InstructionContext): ArgInstruction {
  ctx.requireArgs();
  ctx.flags().parse();
  const args = ctx.node.args.map((word): ArgDefinition => {
    const eq = word.indexOf('=');
    if (eq < 0) return { key: word };
    if (eq === 0) throw ctx.argError('ARG names can not be blank');
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
  return { keyword: 'arg', node: ctx.node, range: ctx.node.range, args };
}

function toExpose(ctx: InstructionContext): ExposeInstruction {
  ctx.requireArgs();
  ctx.flags().parse();
  const ports = [...ctx.node.args].sort(compareCodePoints);
  return { keyword: 'expose', node: ctx.node, range: ctx.node.range, ports };
}

function toVolume(ctx: InstructionContext): VolumeInstruction {
  ctx.requireArgs();
  ctx.flags().parse();
  const volumes = ctx.node.args.map(trimGoSpace);
  if (volumes.includes('')) throw ctx.argError('VOLUME specified can not be an empty string');
  return { keyword: 'volume', node: ctx.node, range: ctx.node.range, volumes };
}

/** MAINTAINER, WORKDIR, USER, STOPSIGNAL: exactly one argument, no flags. */
function single(ctx: InstructionContext): string {
  const value = ctx.requireOneArg();
  ctx.flags().parse();
  return value;
}

/**
 * Converts one AST node. Throws `ERR_DOCKERFILE_UNKNOWN_INSTRUCTION` (with a "did you mean"
 * hint), `ERR_DOCKERFILE_ARGUMENTS` or `ERR_DOCKERFILE_FLAG`, each at file:line:column.
 */
export function toInstruction(node: Node, options: ToInstructionOptions = {}): Instruction {
  const ctx = new InstructionContext(node, options.file ?? 'Dockerfile');
  const base = { node, range: node.range };
  switch (node.keyword) {
    case 'from':
      return toFrom(ctx);
    case 'arg':
      return toArg(ctx);
    case 'env':
      return { keyword: 'env', ...base, pairs: pairs(ctx) } satisfies EnvInstruction;
    case 'label':
      return { keyword: 'label', ...base, pairs: pairs(ctx) } satisfies LabelInstruction;
    case 'maintainer':
      return { keyword: 'maintainer', ...base, maintainer: single(ctx) };
    case 'workdir':
      return { keyword: 'workdir', ...base, path: single(ctx) };
    case 'user':
      return { keyword: 'user', ...base, user: single(ctx) };
    case 'stopsignal':
      return { keyword: 'stopsignal', ...base, signal: single(ctx) };
    case 'run':
      return toRun(ctx);
    case 'cmd':
      return toCmd(ctx);
    case 'entrypoint':
      return toEntrypoint(ctx);
    case 'shell':
      return toShell(ctx);
    case 'expose':
      return toExpose(ctx);
    case 'volume':
      return toVolume(ctx);
    case 'healthcheck':
      return toHealthcheck(ctx);
    case 'onbuild':
      return toOnbuild(ctx);
    case 'copy':
      return toCopy(ctx);
    case 'add':
      return toAdd(ctx);
    default: {
      const names = INSTRUCTION_KEYWORDS.map((k) => k.toUpperCase());
      const reason = withSuggestion(`unknown instruction: ${node.rawKeyword}`, node.rawKeyword, names, false);
      throw dockerfileError(ErrorCodes.ERR_DOCKERFILE_UNKNOWN_INSTRUCTION, reason, {
        file: options.file ?? 'Dockerfile',
        ...node.range.start,
      });
    }
  }
}

/** Converts every node of a parsed Dockerfile, in order. */
export function toInstructions(parsed: ParsedDockerfile): Instruction[] {
  return parsed.nodes.map((node) => toInstruction(node, { file: parsed.file }));
}
