/**
 * The state of a stage while it builds: its layers, image config, history, the build
 * environment (base Env, ENV and valued ARGs, in order) and the cache key chain.
 */
import type { Digest } from '../digest/digest.js';
import type { LayerIndex } from '../layer/layer-index.js';
import type { Descriptor, History, ImageConfig, Platform } from '../oci/types.js';
import { scratchConfig } from '../union/commit-diff.js';

/** A layer of a stage. */
export interface StageLayer {
  descriptor: Descriptor;
  diffId: Digest;
  index: LayerIndex;
  /** The cache key of the step that made it (for `--cache-to`: which records the image's layers are). */
  cacheKey?: Digest | undefined;
}

/** The default PATH BuildKit gives images that have none. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A stage being built. */
export interface StageState {
  /** `builder`, or `stage-N` for an unnamed stage. */
  id: string;
  index: number;
  layers: StageLayer[];
  /** The image config (with `config.config` the execution defaults). */
  config: ImageConfig;
  history: History[];
  /** The build environment: base Env, ENV and valued ARGs; later definitions win. */
  env: Map<string, string>;
  /** ARGs declared in this stage, in first-declaration order (for `RUN |N k=v`). */
  args: string[];
  /** The cache key of the last filesystem step (or the base: `image:<digest>` / `scratch`). */
  key: string;
  /** True once CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** The `Env` list of a config as a map (order kept). */
export function envToMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/** Sets `KEY=value` in a config `Env` list: replaced in place, else appended (BuildKit keeps order). */
export function setEnv(env: string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** The config a stage FROM scratch starts with, for `platform`: no layers, BuildKit's default PATH, WorkingDir `/`. */
export function scratchStageConfig(platform: Platform): ImageConfig & { config: NonNullable<ImageConfig['config']> } {
  const config = scratchConfig();
  config.architecture = platform.architecture;
  config.os = platform.os;
  if (platform.variant !== undefined) config.variant = platform.variant;
  else delete config.variant;
  return { ...config, config: { Env: [DEFAULT_PATH], WorkingDir: '/' } };
}
