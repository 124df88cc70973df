/**
 * The build the browser bundle test runs, in the page and in Node alike: a 3-stage Dockerfile from
 * an injected context filesystem into an in-memory store, a fully cached rebuild, then a rebuild
 * after one source file is edited. Returns what both sides must agree on.
 */
import { createMapFs } from './map-fs.js';

export const DOCKERFILE = `FROM scratch AS base
COPY rootfs/ /
ENV PATH=/bin

FROM base AS builder
WORKDIR /app
COPY src/ ./src/
RUN mkdir -p out && cat src/index.js src/util.js > out/app.js
RUN echo built > out/stamp && rm out/stamp

FROM base AS release
COPY --from=builder /app/out/app.js /app/app.js
RUN rm /etc/motd && echo v2 > /etc/app.conf
CMD ["/app/app.js"]
`;

export const FILES = {
  Dockerfile: DOCKERFILE,
  '.dockerignore': 'notes/\n*.log\n',
  'rootfs/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
  'rootfs/etc/motd': 'welcome\n',
  'rootfs/etc/app.conf': 'v1\n',
  'src/index.js': "console.log('hello');\n",
  'src/util.js': 'export const util = 1;\n',
  'src/debug.log': 'ignored by .dockerignore\n',
  'notes/todo.txt': 'ignored by .dockerignore\n',
};

const MTIME = 1_700_000_000_000;

/** Runs the three builds with `lk` (the library: the browser bundle, or the sources in Node). */
export async function runScenario(lk) {
  const fs = createMapFs('/ctx', FILES, MTIME);
  const store = await lk.openStore({ memory: true });
  const options = { store, context: { fs, dir: '/ctx' }, tags: ['demo:1'], sourceDateEpoch: 1_700_000_000 };
  const timings = [];
  const run = async () => {
    const started = performance.now();
    const result = await lk.build(options);
    timings.push(Math.round(performance.now() - started));
    return summary(result);
  };
  const first = await run();
  const cached = await run();
  fs.writeFile('src/index.js', "console.log('edited');\n", MTIME + 60_000);
  const edited = await run();
  return { store, results: [first, cached, edited], timings };
}

function summary(result) {
  const image = result.image;
  return {
    digest: image.descriptor.digest,
    config: image.manifest.config.digest,
    diffIds: image.diffIds,
    layers: image.manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType })),
    steps: result.steps.map((s) => ({
      stage: s.stage,
      instruction: s.instruction,
      status: s.status,
      reason: s.reason ?? null,
    })),
  };
}
