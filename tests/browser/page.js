/**
 * What the test page runs with the browser bundle: the scenario (scenario.js), a check of every
 * layer blob with the browser's own DecompressionStream and WebCrypto, the export of the image as
 * an OCI archive into a Blob (as a "download" button would), and calls a page cannot make, which
 * must fail with ERR_UNSUPPORTED. The outcome is left in `window.outcome` for the test to read.
 */
import * as lib from './dist/index.js';
import { createMapFs } from './map-fs.js';
import { runScenario } from './scenario.js';

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

async function main() {
  const { store, results, timings } = await runScenario(lib);
  const readBlob = async (digest) => {
    const parts = [];
    for await (const c of store.blobs.chunks(digest)) parts.push(new Uint8Array(c));
    return new Uint8Array(await new Blob(parts).arrayBuffer());
  };
  const checks = [];
  for (const r of results)
    for (const [i, layer] of r.layers.entries()) {
      const bytes = await readBlob(layer.digest);
      const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      const raw = await new Response(inflated).arrayBuffer();
      checks.push({
        digest: layer.digest,
        sha: `sha256:${hex(await crypto.subtle.digest('SHA-256', bytes))}`,
        diffId: r.diffIds[i],
        diff: `sha256:${hex(await crypto.subtle.digest('SHA-256', raw))}`,
      });
    }
  // "Download as OCI archive": the export goes into a web WritableStream, collected as a Blob.
  const chunks = [];
  await lib.saveImages({
    store,
    images: ['demo:1'],
    format: 'oci-archive',
    output: new WritableStream({ write: (c) => void chunks.push(c.slice()) }),
  });
  const blob = new Blob(chunks, { type: 'application/x-tar' });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let archive = '';
  for (let i = 0; i < bytes.length; i += 0x8000) archive += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const unsupported = [];
  const calls = [
    ['openStore on disk', () => lib.openStore({ root: '/var/lib/layerkit' })],
    ['exportImage to a path', () => lib.exportImage({ store, image: 'demo:1', format: 'oci', output: '/tmp/x' })],
    ['build from a context path', () => lib.build({ store, context: '/ctx' })],
    ['pullImage', () => lib.pullImage({ store, reference: 'docker.io/library/busybox:latest' })],
    ['linuxExecutor', async () => lib.linuxExecutor()],
    ['runContainer', () => lib.runContainer({ store, image: 'demo:1' })],
    [
      'a cache folder with no fs',
      () =>
        lib.build({
          store,
          context: { fs: createMapFs('/folder-ctx', { a: 'a\n' }, 0), dir: '/folder-ctx' },
          dockerfileText: 'FROM scratch\nCOPY a /a\n',
          cacheTo: [{ type: 'local', dest: '/cache' }],
        }),
    ],
  ];
  for (const [call, f] of calls) {
    try {
      await f();
      unsupported.push({ call, code: 'none', message: 'it worked' });
    } catch (err) {
      unsupported.push({ call, code: String(err?.code), message: String(err?.message) });
    }
  }
  return { results, timings, checks, archive: btoa(archive), unsupported };
}

window.outcome = main().catch((err) => ({ error: `${err?.code ?? ''} ${err?.stack ?? err}` }));
