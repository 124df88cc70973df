/**
 * A small multi-stage build with a bit of everything a report shows: files rewritten and deleted
 * by later layers, a directory removed and made again (opaque), a stage the target skips, a
 * `COPY --from`, and a second build after a source edit, so the record has cache hits and misses.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildResult, type Store } from '../../src/index.js';

export const DEMO_DOCKERFILE = `FROM scratch AS base
COPY rootfs/ /
RUN mkdir -p /var/cache/pkg && seq 1 6000 > /var/cache/pkg/index.txt && echo v1 > /etc/app.conf

FROM base AS builder
WORKDIR /src
COPY src/ /src/
RUN cat /src/main.js /src/util.js > /src/bundle.js

FROM base AS test
RUN echo testing > /tmp/t

FROM base
ENV APP_ENV=production
RUN rm -rf /var/cache/pkg && echo v2 > /etc/app.conf
RUN mkdir -p /opt && seq 1 2500 > /opt/data.txt
COPY --from=builder /src/bundle.js /app/bundle.js
RUN rm -rf /srv/www && mkdir /srv/www && echo '<h1>hi</h1>' > /srv/www/index.html
COPY config/ /etc/app/
CMD ["/app/bundle.js"]
`;

function write(dir: string, path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** Writes the demo context into `dir`, builds it twice into `store` (editing a source between) and returns the second build. */
export async function buildDemoImage({
  store,
  dir,
  tag = 'demo:1',
}: {
  store: Store;
  dir: string;
  tag?: string;
}): Promise<BuildResult> {
  write(dir, 'Dockerfile', DEMO_DOCKERFILE);
  write(dir, 'rootfs/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  write(dir, 'rootfs/etc/app.conf', 'v0\n');
  write(dir, 'rootfs/srv/www/a.html', `<p>${'a'.repeat(1500)}</p>\n`);
  write(dir, 'rootfs/srv/www/b.html', `<p>${'b'.repeat(900)}</p>\n`);
  write(dir, 'src/main.js', "console.log('main');\n");
  write(dir, 'src/util.js', 'export const util = 1;\n');
  write(dir, 'config/app.yaml', 'level: info\n');
  await build({ store, context: dir, tags: [tag], sourceDateEpoch: 1_700_000_000 });
  write(dir, 'src/util.js', 'export const util = 2; // changed\n');
  return build({ store, context: dir, tags: [tag], sourceDateEpoch: 1_700_000_000 });
}
