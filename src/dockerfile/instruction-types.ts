/**
 * Typed instructions: what `toInstruction` makes of an AST node. Words are kept raw (quotes,
 * escapes and `$VAR`s as written) because expansion needs the ARG/ENV state of the build;
 * `expandInstruction` applies it, and `EXPANDED_INSTRUCTIONS` lists which ones expand.
 */
import type { Heredoc, Node, SourceRange } from './types.js';

/** Fields every instruction has. */
export interface InstructionBase<K extends string> {
  /** The lowercase keyword: the discriminant of {@link Instruction}. */
  keyword: K;
  /** The AST node it was made from (flags, heredocs, original text). */
  node: Node;
  range: SourceRange;
}

/** `FROM [--platform=p] image [AS name]`. */
export interface FromInstruction extends InstructionBase<'from'> {
  /** The image reference or earlier stage name, unexpanded (meta ARGs apply). */
  image: string;
  /** The stage name, lowercased. */
  name?: string;
  /** `--platform`, unexpanded. */
  platform?: string;
}

/** One `name[=default]` of an ARG. */
export interface ArgDefinition {
  key: string;
  /** The default as written (quotes kept), absent for a bare `ARG name`. */
  value?: string;
}

/** `ARG name[=default] ...`. */
export interface ArgInstruction extends InstructionBase<'arg'> {
  args: ArgDefinition[];
}

/** One pair of an ENV or LABEL. */
export interface KeyValuePair {
  key: string;
  /** As written: quotes and escapes are removed by expansion. */
  value: string;
  /** True for the legacy `ENV key value...` form. */
  legacy: boolean;
}

/** `ENV k=v ...` or `ENV k v`. */
export interface EnvInstruction extends InstructionBase<'env'> {
  pairs: KeyValuePair[];
}

/** `LABEL k=v ...`. */
export interface LabelInstruction extends InstructionBase<'label'> {
  pairs: KeyValuePair[];
}

/** `MAINTAINER name` (deprecated; sets the image author). */
export interface MaintainerInstruction extends InstructionBase<'maintainer'> {
  maintainer: string;
}

/** `WORKDIR path`. */
export interface WorkdirInstruction extends InstructionBase<'workdir'> {
  path: string;
}

/** `USER user[:group]`. */
export interface UserInstruction extends InstructionBase<'user'> {
  user: string;
}

/** `STOPSIGNAL signal`. */
export interface StopsignalInstruction extends InstructionBase<'stopsignal'> {
  signal: string;
}

/** The command of RUN, CMD or ENTRYPOINT. */
export interface CommandLine {
  /** `exec` for a JSON array (run as is), `shell` for text the SHELL (`/bin/sh -c`) runs. */
  form: 'shell' | 'exec';
  /** Exec form: the argv. Shell form: one string (none when the instruction had no text). */
  args: string[];
  /** RUN heredocs, content as written (apply `chompHeredocContent` when `chomp`). */
  heredocs: Heredoc[];
}

/** A `RUN --device` request (`name[,required]`). */
export interface RunDevice {
  name: string;
  required: boolean;
}

/** `RUN [--mount=...] [--network=...] [--security=...] [--device=...] command`. */
export interface RunInstruction extends InstructionBase<'run'> {
  command: CommandLine;
  /**
   * The `--mount` values as written (CSV). Their option values are expanded one by one, so turn
   * them into `RunMount`s with `parseRunMount(raw, { expand })` (or take them from
   * `expandInstruction`). Ones without `$` were already validated.
   */
  mounts: string[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
  devices: RunDevice[];
  /** Names of the flags given (`mount`, `network`...), sorted. */
  flagsUsed: string[];
}

/** `CMD`. An empty exec form (`CMD []`) has no args. */
export interface CmdInstruction extends InstructionBase<'cmd'> {
  command: CommandLine;
}

/** `ENTRYPOINT`. An empty exec form (`ENTRYPOINT []`) has no args and clears the entrypoint. */
export interface EntrypointInstruction extends InstructionBase<'entrypoint'> {
  command: CommandLine;
}

/** `SHELL ["executable", "param"...]` (JSON form only). */
export interface ShellInstruction extends InstructionBase<'shell'> {
  shell: string[];
}

/** `EXPOSE port[/proto] ...`, sorted as BuildKit sorts them before expanding. */
export interface ExposeInstruction extends InstructionBase<'expose'> {
  ports: string[];
}

/** `VOLUME path ...` or `VOLUME ["path", ...]`. */
export interface VolumeInstruction extends InstructionBase<'volume'> {
  volumes: string[];
}

/** `HEALTHCHECK NONE` or `HEALTHCHECK [options] CMD command`, as the image config stores it. */
export interface HealthcheckInstruction extends InstructionBase<'healthcheck'> {
  /** `["NONE"]`, `["CMD-SHELL", text]` or `["CMD", argv...]`. */
  test: string[];
  /** Nanoseconds; 0 means the runtime default. */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

/** `ONBUILD instruction`. */
export interface OnbuildInstruction extends InstructionBase<'onbuild'> {
  /** The trigger text stored in the image config (heredoc bodies re-attached). */
  expression: string;
  /** The trigger's AST node. */
  trigger: Node;
}

/** A COPY/ADD source given inline as a heredoc. */
export interface HeredocSource {
  /** The file name (the delimiter). */
  name: string;
  /** The body, `<<-` tabs already removed. */
  content: string;
  /** Whether `$VAR`s in the body are expanded (unquoted delimiter). */
  expand: boolean;
}

/** Fields COPY and ADD share. */
export interface CopyLikeFields {
  /** Source paths as written (unexpanded), heredoc sources excluded. */
  sources: string[];
  heredocSources: HeredocSource[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** `--exclude` patterns (not expanded). */
  excludes: string[];
}

/** `COPY [--from=...] [--chown] [--chmod] [--link] [--parents] [--exclude] src... dest`. */
export interface CopyInstruction extends InstructionBase<'copy'>, CopyLikeFields {
  /** `--from`: a stage name, stage index or image; never expanded. */
  from?: string;
  parents: boolean;
}

/** `ADD [--chown] [--chmod] [--link] [--checksum] [--keep-git-dir] [--unpack] [--exclude] src... dest`. */
export interface AddInstruction extends InstructionBase<'add'>, CopyLikeFields {
  checksum?: string;
  /** Undefined unless `--keep-git-dir` was given. */
  keepGitDir?: boolean;
  /** Undefined unless `--unpack` was given (then it overrides the URL/local default). */
  unpack?: boolean;
}

/** Any instruction. */
export type Instruction =
  | FromInstruction
  | ArgInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | WorkdirInstruction
  | UserInstruction
  | StopsignalInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | ExposeInstruction
  | VolumeInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction
  | AddInstruction;

/** The keyword of an {@link Instruction}. */
export type InstructionKeyword = Instruction['keyword'];
