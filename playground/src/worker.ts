/**
 * The build worker: loads layerkit's browser build, opens an in-memory store with the base image,
 * and runs each build the page asks for, posting the build's progress events as they happen and
 * the explain report at the end. Builds never run on the page's own thread, so it stays responsive.
 */
import { SUPPORTED_UTILITIES, analyzeImage, build, openStore, renderExplainHtml, saveImages } from 'layerkit';
import { IMAGE_TAG, openPlayground, type Playground } from './engine.js';
import type { PageMessage, WorkerMessage } from './protocol.js';

const layerkit = { openStore, build, analyzeImage, renderExplainHtml, SUPPORTED_UTILITIES };
const post = (message: WorkerMessage) =>
  (self as unknown as { postMessage(m: WorkerMessage): void }).postMessage(message);

function describe(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'ERR_PLAYGROUND', message: String(e?.message ?? err) };
}

let playground: Playground | undefined;
async function reset(): Promise<void> {
  const started = performance.now();
  playground = undefined;
  try {
    playground = await openPlayground({ layerkit });
    post({ type: 'ready', ms: performance.now() - started });
  } catch (err) {
    post({ type: 'error', id: 0, error: describe(err) });
  }
}

/** Exports the last built image into a Blob, through a web WritableStream. */
async function save(): Promise<void> {
  try {
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

// One message at a time, in the order they came.
let queue: Promise<void> = reset();
self.addEventListener('message', (e: MessageEvent<PageMessage>) => {
  const m = e.data;
  queue = queue.then(async () => {
    if (m.type === 'reset') return reset();
    if (m.type === 'save') return save();
    try {
      if (playground === undefined) throw new Error('the store did not open');
      const outcome = await playground.build(m.request, (event) => post({ type: 'event', id: m.id, event }));
      post({ type: 'done', id: m.id, steps: outcome.steps, durationMs: outcome.durationMs, html: outcome.html });
    } catch (err) {
      post({ type: 'error', id: m.id, error: describe(err) });
    }
  });
});
