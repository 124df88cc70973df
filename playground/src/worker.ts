/**
 * The build worker: loads layerkit's browser build, opens an in-memory store with the base image,
 * and runs each build the page asks for, posting the build's progress events as they happen and
 * the explain report at the end. Builds never run on the page's own thread, so it stays responsive.
 *
 * Two machines, two stores: `a` is where the page builds; `b` starts empty and shares only the
 * cache folder with `a` (an OCI layout in memory, written by `--cache-to type=local` and read by
 * `--cache-from type=local`), as two CI machines share a cache directory or a registry.
 */
import { SUPPORTED_UTILITIES, analyzeImage, build, openStore, renderExplainHtml, saveImages } from 'layerkit';
import { memoryFolder } from './cache-folder.js';
import { IMAGE_TAG, openPlayground, type Playground, type SharedCache } from './engine.js';
import { CACHE_FOLDER, type Machine, type PageMessage, type WorkerMessage } from './protocol.js';

const layerkit = { openStore, build, analyzeImage, renderExplainHtml, SUPPORTED_UTILITIES };
const post = (message: WorkerMessage) =>
  (self as unknown as { postMessage(m: WorkerMessage): void }).postMessage(message);

function describe(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'ERR_PLAYGROUND', message: String(e?.message ?? err) };
}

const machines = new Map<Machine, Playground>();
const folder = memoryFolder();

async function reset(machine: Machine): Promise<void> {
  const started = performance.now();
  machines.delete(machine);
  try {
    machines.set(machine, await openPlayground({ layerkit }));
    post({ type: 'ready', ms: performance.now() - started, machine });
  } catch (err) {
    post({ type: 'error', id: 0, error: describe(err) });
  }
}

/** Exports the last image machine `a` built into a Blob, through a web WritableStream. */
async function save(): Promise<void> {
  try {
    const playground = machines.get('a');
    if (playground === undefined) throw new Error('the store did not open');
    const chunks: Uint8Array[] = [];
    await saveImages({
      store: playground.store,
      images: [IMAGE_TAG],
      format: 'oci-archive',
      output: new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) }),
    });
    post({ type: 'archive', blob: new Blob(chunks as BlobPart[], { type: 'application/x-tar' }) });
  } catch (err) {
    post({ type: 'error', id: 0, error: describe(err) });
  }
}

async function runBuild(m: Extract<PageMessage, { type: 'build' }>): Promise<void> {
  const machine = m.machine ?? 'a';
  try {
    if (!machines.has(machine)) await reset(machine);
    const playground = machines.get(machine);
    if (playground === undefined) throw new Error('the store did not open');
    const shared: SharedCache = {
      ...(m.importCache ? { cacheFrom: [{ type: 'local', src: CACHE_FOLDER, fs: folder.fs }] } : {}),
      ...(m.exportCache ? { cacheTo: [{ type: 'local', dest: CACHE_FOLDER, mode: 'max', fs: folder.fs }] } : {}),
    };
    const outcome = await playground.build(m.request, (event) => post({ type: 'event', id: m.id, event }), shared);
    post({
      type: 'done',
      id: m.id,
      machine,
      steps: outcome.steps,
      durationMs: outcome.durationMs,
      html: outcome.html,
      image: { id: outcome.id, config: outcome.config },
      folder: folder.list(CACHE_FOLDER),
    });
  } catch (err) {
    post({ type: 'error', id: m.id, error: describe(err) });
  }
}

// One message at a time, in the order they came.
let queue: Promise<void> = reset('a');
self.addEventListener('message', (e: MessageEvent<PageMessage>) => {
  const m = e.data;
  queue = queue.then(async () => {
    if (m.type === 'reset') return reset(m.machine ?? 'a');
    if (m.type === 'save') return save();
    return runBuild(m);
  });
});
