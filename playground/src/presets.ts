/**
 * The presets the page opens: the playground's own example, and the lessons of `examples/`
 * (generated from those folders when the page is built, by ../lessons.ts, so they cannot drift).
 */
import type { PlaygroundFile } from './files-fs.js';

/** A set of files to open, with what to try. */
export interface Preset {
  id: string;
  title: string;
  /** What the lesson shows, as paragraphs of plain text. */
  about: string[];
  /** What to change and rebuild. */
  task: string;
  files: PlaygroundFile[];
  /** The Dockerfile to build first (a path among the files). */
  dockerfile: string;
  /** Secrets the Dockerfile mounts, by id. */
  secrets?: Record<string, string>;
}

const text = (lines: string[]) => `${lines.join('\n')}\n`;

/** The page's default: three stages, a cache to break, a whiteout, an opaque directory, wasted bytes. */
export const DEFAULT_PRESET: Preset = {
  id: 'playground',
  title: 'Playground: three stages',
  about: [
    'A builder stage installs dependencies and bundles the sources; a test stage nobody needs is skipped; the release stage starts again from the base image and copies only the bundle.',
    'The release stage also writes a large file and deletes it in the next RUN (wasted bytes: the file stays in its layer, hidden by a whiteout) and replaces /var/cache (an opaque directory).',
    'ENV, EXPOSE, USER and CMD add no layer: they write the image config, shown above the report (what `docker run` starts).',
  ],
  task: 'Edit src/app.js and press Rebuild: which steps miss, and why? Then move the RUN that installs dependencies below COPY src/ and try again.',
  dockerfile: 'Dockerfile',
  files: [
    {
      path: 'Dockerfile',
      text: text([
        'FROM busybox AS builder',
        'WORKDIR /src',
        'COPY package.json ./',
        'RUN mkdir -p deps && cat package.json > deps/installed && echo "dependencies installed"',
        'COPY src/ ./src/',
        'RUN mkdir -p /out && cat src/*.js > /out/app.js && echo "bundled $(wc -l < /out/app.js) lines"',
        '',
        'FROM builder AS test',
        'RUN test -s /out/app.js && echo "tests pass"',
        '',
        'FROM busybox AS release',
        'WORKDIR /app',
        'RUN seq 1 20000 > /app/data.txt && head -n 3 /app/data.txt > /app/sample.txt',
        'RUN rm /app/data.txt',
        'RUN rm -rf /var/cache && mkdir -p /var/cache && echo fresh > /var/cache/index',
        'COPY --from=builder /out/app.js ./',
        'ENV NODE_ENV=production',
        'EXPOSE 8080',
        'USER 1000',
        'CMD ["sh", "-c", "cat /app/app.js"]',
      ]),
    },
    { path: '.dockerignore', text: text(['*.log', 'notes/']) },
    { path: 'package.json', text: text(['{ "name": "app", "dependencies": { "left-pad": "1.3.0" } }']) },
    { path: 'src/app.js', text: text(['import { greet } from "./greet.js";', 'console.log(greet("world"));']) },
    { path: 'src/greet.js', text: text(['export const greet = (name) => `hello, ${name}`;']) },
    { path: 'build.log', text: text(['kept out of the context by .dockerignore']) },
  ],
};
