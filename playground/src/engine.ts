/**
 * What the playground does with layerkit, apart from the page: an in-memory store with the base
 * image in it, and a build of the editor's files followed by the same analysis and report
 * `layerkit explain --html` makes. The worker runs it in the page; the browser benchmark runs the
 * very same code in Node, so the two are compared on equal terms.
 */
import type * as Layerkit from '../../src/index.js';
import { type PlaygroundFile, filesFs } from './files-fs.js';
import { BASE_DOCKERFILE, BASE_TAGS, rootfsFiles } from './rootfs.js';

/**
 * The parts of layerkit the engine drives: from the browser build in the page, from the Node
 * build in Node. Named one by one, so a bundle keeps only what they need.
 */
export type LayerkitModule = Pick<
  typeof Layerkit,
  'openStore' | 'build' | 'analyzeImage' | 'renderExplainHtml' | 'SUPPORTED_UTILITIES'
>;

/** What to build. */
export interface BuildRequest {
  files: readonly PlaygroundFile[];
  /** The Dockerfile's path among the files (default `Dockerfile`). */
  dockerfile?: string | undefined;
  /** The stage to build (default: the last). */
  target?: string | undefined;
  /** Secrets for `RUN --mount=type=secret,id=ID`, by id. */
  secrets?: Record<string, string> | undefined;
  /** Rebuild every step (`--no-cache`). */
  noCache?: boolean | undefined;
}

/** Where a build's cache goes and comes from besides its own store (`--cache-to`, `--cache-from`). */
export interface SharedCache {
  cacheFrom?: Layerkit.CacheImport[] | undefined;
  cacheTo?: Layerkit.CacheExport[] | undefined;
}

/** A finished build, as the page shows it. */
export interface BuildOutcome {
  /** Every step, in the order they ran. */
  steps: Layerkit.StepRecord[];
  durationMs: number;
  /** The explain analysis of the image (the data). */
  analysis: Layerkit.ImageAnalysis;
  /** The explain report as a self-contained HTML page (what `layerkit explain --html` writes). */
  html: string;
  /** The image's ID (its config digest). */
  id: string;
  /** What a container of the image starts with: Entrypoint, Cmd, Env, WorkingDir, User, ports… */
  config: Layerkit.ContainerConfig;
}

/** A playground: one in-memory store, kept across builds so the cache works. */
export interface Playground {
  store: Layerkit.Store;
  /** Builds the files (tagged `playground`), then analyses the image. */
  build(
    request: BuildRequest,
    onEvent?: (event: Layerkit.BuildEvent) => void,
    shared?: SharedCache,
  ): Promise<BuildOutcome>;
}

/** The tag every playground build gets. */
export const IMAGE_TAG = 'playground';
/** Where the context sits in its filesystem (the build record names it). */
const CONTEXT_DIR = '/context';

/** Opens an in-memory store and builds the base image (busybox, alias hello) into it. */
export async function openPlayground({ layerkit }: { layerkit: LayerkitModule }): Promise<Playground> {
  const store = await layerkit.openStore({ memory: true });
  const commands = layerkit.SUPPORTED_UTILITIES.map((u) => u.name);
  await layerkit.build({
    store,
    context: { fs: filesFs('/base', rootfsFiles(commands)), dir: '/base' },
    dockerfileText: BASE_DOCKERFILE,
    tags: [...BASE_TAGS],
    sourceDateEpoch: 0,
  });
  return {
    store,
    async build(request, onEvent, shared = {}) {
      const dockerfile = request.dockerfile ?? 'Dockerfile';
      const secrets: Record<string, { value: string }> = {};
      for (const [id, value] of Object.entries(request.secrets ?? {})) secrets[id] = { value };
      const result = await layerkit.build({
        store,
        context: { fs: filesFs(CONTEXT_DIR, request.files), dir: CONTEXT_DIR },
        dockerfile,
        tags: [IMAGE_TAG],
        target: request.target || undefined,
        secrets,
        noCache: request.noCache,
        sourceDateEpoch: 0,
        onEvent,
        ...shared,
      });
      const analysis = await layerkit.analyzeImage({ store, image: result.image.descriptor.digest });
      return {
        steps: result.steps,
        durationMs: result.durationMs,
        analysis,
        html: layerkit.renderExplainHtml(analysis),
        id: result.image.manifest.config.digest,
        config: result.image.config.config ?? {},
      };
    },
  };
}
