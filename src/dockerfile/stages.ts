/**
 * `toStages`: typed instructions grouped into build stages. ARGs before the first FROM are the
 * meta (global) args; any other instruction before it is an error; stage names are
 * case-insensitive and must be unique (BuildKit only lints a duplicate; layerkit refuses it so a
 * `--from=name` can never be ambiguous).
 */
import { ErrorCodes } from '../errors.js';
import { dockerfileError } from './dockerfile-error.js';
import type { ArgInstruction, FromInstruction, Instruction } from './instruction-types.js';
import { toInstruction } from './instructions.js';
import type { ParsedDockerfile, SourceRange } from './types.js';

/** One build stage: its FROM and the instructions up to the next FROM. */
export interface Stage {
  /** 0-based position among the stages (what `COPY --from=0` names). */
  index: number;
  /** The lowercased `AS` name, when given. */
  name?: string;
  from: FromInstruction;
  /** The instructions after FROM, in order (FROM itself excluded). */
  instructions: Instruction[];
  /** From the FROM keyword to the end of the stage's last instruction. */
  range: SourceRange;
}

/** What {@link toStages} returns. */
export interface Stages {
  /** The ARGs before the first FROM, visible to FROM lines only. */
  metaArgs: ArgInstruction[];
  /** At least one stage. */
  stages: Stage[];
}

/**
 * Types every instruction and groups them into stages. Throws the errors of `toInstruction`,
 * plus `ERR_DOCKERFILE_SYNTAX` for an instruction before the first FROM or a file with no FROM,
 * and `ERR_DOCKERFILE_ARGUMENTS` for a stage name used twice (naming the first line).
 */
export function toStages(parsed: ParsedDockerfile): Stages {
  const { file } = parsed;
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const node of parsed.nodes) {
    const instruction = toInstruction(node, { file });
    const current = stages[stages.length - 1];
    if (instruction.keyword === 'from') {
      if (instruction.name !== undefined) {
        const firstLine = names.get(instruction.name);
        if (firstLine !== undefined) {
          throw dockerfileError(
            ErrorCodes.ERR_DOCKERFILE_ARGUMENTS,
            `duplicate stage name ${JSON.stringify(instruction.name)}: already used on line ${firstLine}; stage names are case-insensitive, rename one of them`,
            { file, ...node.range.start },
          );
        }
        names.set(instruction.name, node.range.start.line);
      }
      const stage: Stage = {
        index: stages.length,
        from: instruction,
        instructions: [],
        range: { start: { ...node.range.start }, end: { ...node.range.end } },
      };
      if (instruction.name !== undefined) stage.name = instruction.name;
      stages.push(stage);
    } else if (current !== undefined) {
      current.instructions.push(instruction);
      current.range.end = { ...node.range.end };
    } else if (instruction.keyword === 'arg') {
      metaArgs.push(instruction);
    } else {
      throw dockerfileError(
        ErrorCodes.ERR_DOCKERFILE_SYNTAX,
        `no build stage in current context: ${node.rawKeyword} must come after a FROM (only ARG may precede the first FROM)`,
        { file, ...node.range.start },
      );
    }
  }
  if (stages.length === 0) {
    const at = parsed.nodes[parsed.nodes.length - 1]?.range.start ?? { line: 1, column: 1 };
    throw dockerfileError(ErrorCodes.ERR_DOCKERFILE_SYNTAX, 'dockerfile contains no stages to build: add a FROM', {
      file,
      ...at,
    });
  }
  return { metaArgs, stages };
}
