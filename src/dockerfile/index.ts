/**
 * The Dockerfile front end, pure (no I/O): text to an AST with source ranges (BuildKit's
 * grammar), typed instructions and stages, word expansion with BuildKit's lexer rules, and
 * `.dockerignore` matching. The builder (`src/builder/`) turns its output into layers.
 */
export { parseDockerfile, MAX_LINE_BYTES, type ParseOptions } from './parse.js';
export type {
  Directives,
  EscapeToken,
  Heredoc,
  Node,
  ParsedDockerfile,
  Position,
  SourceRange,
  Warning,
} from './types.js';
export type { DockerfileErrorData } from './dockerfile-error.js';
export { dumpDockerfile, dumpNode } from './dump.js';
export { instructionText } from './instruction-text.js';
export { chompHeredocContent, heredocsFromLine, parseHeredocWord } from './heredoc.js';
export {
  expandWord,
  expandWords,
  type EnvLookup,
  type ExpandOptions,
  type WordExpansion,
  type WordsExpansion,
} from './lex.js';
export { INSTRUCTION_KEYWORDS, isInstructionKeyword } from './keywords.js';
export { toInstruction, toInstructions, type ToInstructionOptions } from './instructions.js';
export type * from './instruction-types.js';
export {
  parseRunMount,
  runMountFrom,
  parseRunDevice,
  MountTypes,
  MountSharingModes,
  type MountType,
  type MountSharing,
  type RunMount,
  type ParseRunMountOptions,
} from './run-mount.js';
export {
  expandInstruction,
  EXPANDED_INSTRUCTIONS,
  type ExpandInstructionOptions,
  type ExpandedInstruction,
} from './expand-instruction.js';
export { toStages, type Stage, type Stages } from './stages.js';
export {
  parseDockerignore,
  createIgnoreMatcher,
  dockerignoreCandidates,
  type IgnoreMatcher,
  type IgnoreMatcherOptions,
} from './dockerignore.js';
export type { CompiledPattern } from './ignore-pattern.js';
export { goQuote } from './go-text.js';
