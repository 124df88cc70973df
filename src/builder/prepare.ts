/**
 * The pure half of a build: the Dockerfile's text in, everything the stage loop needs out (its
 * stages, the meta ARGs, each stage's FROM after expansion, the plan of what the target reaches,
 * the parse warnings). No store, no context folder, no clock: the same text and options give the
 * same preparation.
 */
import { expandInstruction, parseDockerfile, type Stages, toStages } from '../dockerfile/index.js';
import { ErrorCodes, locatedError } from '../errors.js';
import { formatPlatform, hostPlatform } from '../image/platform.js';
import type { Platform } from '../oci/types.js';
import type { BuildWarning } from './events.js';
import { planBuild, type StagePlan } from './plan.js';

/** Options for {@link prepareBuild}. */
export interface PrepareBuildOptions {
  /** The Dockerfile's text. */
  text: string;
  /** Its name, as messages show it. */
  file: string;
  /** `--build-arg` values. */
  buildArgs?: Record<string, string> | undefined;
  /** The stage to build (default: the last). */
  target?: string | undefined;
  /** The target platform (default: this machine's). */
  platform?: Platform | undefined;
}

/** A build, ready to run. */
export interface BuildPreparation {
  file: string;
  escapeToken: '\\' | '`';
  stages: Stages;
  /** Parse warnings (lint rules broken), in line order. */
  warnings: BuildWarning[];
  platform: Platform;
  buildArgs: Map<string, string>;
  /** The ARGs in scope of every FROM: the predefined platform ARGs, then the ARGs before the first FROM. */
  metaArgs: Map<string, string | undefined>;
  /** The valued meta ARGs: the environment FROM lines expand in. */
  metaEnv: Map<string, string>;
  /** What each stage's FROM names, after ARG expansion (by stage index). */
  fromImages: string[];
  plans: StagePlan[];
  /** The index of the target stage. */
  target: number;
}

/** The predefined platform ARGs (global scope), for the target platform. */
function platformArgs(platform: Platform, targetStage: string): Map<string, string> {
  const host = hostPlatform();
  return new Map([
    ['BUILDPLATFORM', formatPlatform(host)],
    ['BUILDOS', host.os],
    ['BUILDARCH', host.architecture],
    ['BUILDVARIANT', host.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(platform)],
    ['TARGETOS', platform.os],
    ['TARGETARCH', platform.architecture],
    ['TARGETVARIANT', platform.variant ?? ''],
    ['TARGETSTAGE', targetStage],
  ]);
}

/**
 * Parses a Dockerfile, resolves its meta ARGs and FROM names and plans the stages the target needs.
 * @example const prep = prepareBuild({ text: 'FROM scratch\nCOPY a /a\n', file: 'Dockerfile' });
 */
export function prepareBuild(options: PrepareBuildOptions): BuildPreparation {
  const { text, file } = options;
  const parsed = parseDockerfile(text, { file });
  const escapeToken = parsed.directives.escape;
  const warnings = parsed.warnings;
  const stages = toStages(parsed);
  const platform = options.platform ?? hostPlatform();
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));

  // Meta ARGs: predefined platform args, then the ARGs before the first FROM (build args win).
  const lastStage = stages.stages[stages.stages.length - 1]!;
  const targetName = options.target?.toLowerCase() ?? lastStage.name ?? 'default';
  const metaEnv = platformArgs(platform, targetName);
  for (const [k, v] of buildArgs) if (metaEnv.has(k)) metaEnv.set(k, v);
  const metaArgs = new Map<string, string | undefined>(metaEnv);
  for (const arg of stages.metaArgs) {
    const { instruction } = expandInstruction(arg, { env: metaEnv, escapeToken, file });
    for (const a of instruction.args) {
      const value = buildArgs.has(a.key) ? buildArgs.get(a.key) : a.value;
      // A bare `ARG X` keeps the value X already has (a predefined platform ARG, an earlier meta ARG), as BuildKit does.
      if (value !== undefined) {
        metaArgs.set(a.key, value);
        metaEnv.set(a.key, value);
      } else if (!metaArgs.has(a.key)) {
        metaArgs.set(a.key, undefined);
      }
    }
  }
  const fromImages = stages.stages.map((s) => {
    const image = expandInstruction(s.from, { env: metaEnv, escapeToken, file }).instruction.image;
    if (image.trim() === '') {
      throw locatedError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `base name (${s.from.image}) should not be blank`, {
        file,
        line: s.from.range.start.line,
      });
    }
    return image;
  });
  const { plans, target } = planBuild({ stages, target: options.target, fromImages, file });
  return { file, escapeToken, stages, warnings, platform, buildArgs, metaArgs, metaEnv, fromImages, plans, target };
}
