/**
 * The virtual shell: a POSIX-sh subset interpreter with built-in utilities that runs RUN steps
 * directly on a filesystem object (the union view), so builds work the same on every OS and in
 * memory. Everything public about it is re-exported here.
 */
export type {
  ParamOp,
  WordPart,
  Word,
  Assignment,
  RedirectOp,
  Redirect,
  SimpleCommand,
  Subshell,
  Group,
  If,
  For,
  While,
  CaseItem,
  Case,
  FunctionDef,
  Command,
  Pipeline,
  AndOr,
  List,
  Script,
} from './ast.js';
export { parseScript, ShellSyntaxError } from './parser.js';
export { printScript, printCommand } from './print.js';
export {
  createVirtualShell,
  runShellScript,
  type VirtualShellOptions,
  type RunShellScriptOptions,
} from './executor.js';
export { NOT_FOUND_ADVICE } from './external.js';
export type { Utility, UtilityContext, UtilityDefinition, UtilityExecOptions } from './utility.js';
export { InputStream, BrokenPipeError, type Writer } from './io.js';
export { SUPPORTED_UTILITIES, SHELL_BUILTINS, type SupportedUtility } from './utils/index.js';
export { resolveUser, UserLookupError, type ResolvedUser } from './users.js';
