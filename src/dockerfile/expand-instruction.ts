/**
 * Variable expansion of a typed instruction, field by field as BuildKit's `Expand` methods and
 * `dispatch` do it (reference §2.1). The builder supplies the environment in scope: the stage's
 * ARG/ENV state, or the meta args for FROM. RUN/CMD/ENTRYPOINT text, SHELL, HEALTHCHECK,
 * MAINTAINER and ONBUILD are never expanded by the builder.
 */
import { ErrorCodes, isLayerkitError } from '../errors.js';
import { dockerfileError } from './dockerfile-error.js';
import type { Instruction, InstructionKeyword } from './instruction-types.js';
import { expandWord, expandWords, type EnvLookup, type ExpandOptions } from './lex.js';
import { parseRunMount, type RunMount } from './run-mount.js';
import type { EscapeToken } from './types.js';

/**
 * The instructions whose words the builder expands. FROM (image, `--platform`) uses the meta
 * args only; ARG expands default values (not names); COPY/ADD expand sources, destination,
 * `--chown`, `--chmod`, ADD's `--checksum` and unquoted-delimiter heredoc bodies, never `--from`
 * or `--exclude`; EXPOSE also splits words; RUN expands `--mount` option values only.
 */
export const EXPANDED_INSTRUCTIONS = [
  'add',
  'arg',
  'copy',
  'env',
  'expose',
  'from',
  'label',
  'run',
  'stopsignal',
  'user',
  'volume',
  'workdir',
] as const satisfies readonly InstructionKeyword[];

/** Options of {@link expandInstruction}. */
export interface ExpandInstructionOptions {
  /** The variables in scope before this instruction (meta args for FROM). */
  env: EnvLookup;
  /** The Dockerfile's escape token (`parsed.directives.escape`). */
  escapeToken?: EscapeToken;
  /** The file name for messages (default `Dockerfile`). */
  file?: string;
}

/** An expanded instruction and the variables it looked up. */
export interface ExpandedInstruction<I extends Instruction> {
  /** A copy of the instruction with its expandable fields expanded. */
  instruction: I;
  /** Every variable referenced, set or not (for cache explanations). */
  used: Set<string>;
  /** The referenced variables that were not set. */
  unset: Set<string>;
  /** RUN only: the `--mount`s, option values expanded and validated. */
  mounts?: RunMount[];
}

/**
 * Expands `instruction` with `options.env`. Throws `ERR_DOCKERFILE_EXPANSION` (bad
 * substitution, `${X:?}`) or, for RUN mounts, `ERR_DOCKERFILE_FLAG`, at the instruction.
 */
export function expandInstruction<I extends Instruction>(
  instruction: I,
  options: ExpandInstructionOptions,
): ExpandedInstruction<I> {
  const used = new Set<string>();
  const unset = new Set<string>();
  const file = options.file ?? 'Dockerfile';
  const at = { file, ...instruction.range.start };
  const record = (r: { used: Set<string>; unset: Set<string> }): void => {
    for (const n of r.used) used.add(n);
    for (const n of r.unset) unset.add(n);
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (isLayerkitError(err, ErrorCodes.ERR_DOCKERFILE_EXPANSION)) {
        throw dockerfileError(ErrorCodes.ERR_DOCKERFILE_EXPANSION, err.message, at, err);
      }
      throw err;
    }
  };
  const lexOptions: ExpandOptions = { escapeToken: options.escapeToken ?? '\\' };
  const word = (w: string): string =>
    guard(() => {
      const r = expandWord(w, options.env, lexOptions);
      record(r);
      return r.value;
    });
  const raw = (w: string): string =>
    guard(() => {
      const r = expandWord(w, options.env, { escapeToken: '\\', skipProcessQuotes: true });
      record(r);
      return r.value;
    });
  const opt = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));

  const i: Instruction = instruction;
  let out: Instruction = i;
  let mounts: RunMount[] | undefined;
  switch (i.keyword) {
    case 'from':
      out = { ...i, image: word(i.image) };
      if (i.platform !== undefined) out.platform = word(i.platform);
      break;
    case 'arg':
      out = {
        ...i,
        args: i.args.map((a) => (a.value === undefined ? { ...a } : { key: a.key, value: word(a.value) })),
      };
      break;
    case 'env':
    case 'label':
      out = { ...i, pairs: i.pairs.map((p) => ({ key: word(p.key), value: word(p.value), legacy: p.legacy })) };
      break;
    case 'copy':
    case 'add': {
      const copy = {
        ...i,
        sources: i.sources.map(word),
        dest: word(i.dest),
        heredocSources: i.heredocSources.map((h) => (h.expand ? { ...h, content: raw(h.content) } : { ...h })),
        excludes: [...i.excludes],
      };
      const chown = opt(i.chown);
      const chmod = opt(i.chmod);
      if (chown !== undefined) copy.chown = chown;
      if (chmod !== undefined) copy.chmod = chmod;
      if (copy.keyword === 'add' && copy.checksum !== undefined) copy.checksum = word(copy.checksum);
      out = copy;
      break;
    }
    case 'workdir':
      out = { ...i, path: word(i.path) };
      break;
    case 'user':
      out = { ...i, user: word(i.user) };
      break;
    case 'stopsignal':
      out = { ...i, signal: word(i.signal) };
      break;
    case 'volume':
      out = { ...i, volumes: i.volumes.map(word) };
      break;
    case 'expose':
      out = {
        ...i,
        ports: i.ports.flatMap((p) =>
          guard(() => {
            const r = expandWords(p, options.env, lexOptions);
            record(r);
            return r.words;
          }),
        ),
      };
      break;
    case 'run':
      mounts = i.mounts.map((m) => {
        try {
          return parseRunMount(m, { expand: word });
        } catch (err) {
          if (isLayerkitError(err)) throw err;
          throw dockerfileError(ErrorCodes.ERR_DOCKERFILE_FLAG, (err as Error).message, at);
        }
      });
      break;
    default:
      break;
  }
  const result: ExpandedInstruction<I> = { instruction: out as I, used, unset };
  if (mounts !== undefined) result.mounts = mounts;
  return result;
}
