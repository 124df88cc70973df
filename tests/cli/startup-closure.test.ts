/**
 * What a command loads before it does anything (issue 10, CLI start-up): the modules a command's
 * file reaches through static imports are all compiled and run at its start, while those behind a
 * dynamic `import()` wait until used. esbuild bundles the commands as the package build does
 * (code splitting, Node's built-ins and npm packages left outside), and its metafile says what each
 * entry's chunks import statically. A fully cached build and `layerkit images` must not load the
 * registry client, the virtual shell, the Linux executor or the Node built-ins only they need.
 */
import { build, type Metafile } from 'esbuild';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The source files and external modules an entry loads at start: its static import closure. */
function staticClosure(meta: Metafile, entry: string): { sources: Set<string>; externals: Set<string> } {
  const sources = new Set<string>();
  const externals = new Set<string>();
  const out = Object.entries(meta.outputs).find(([, o]) => o.entryPoint === entry)?.[0];
  if (out === undefined) throw new Error(`no output for ${entry}`);
  const todo = [out];
  const seen = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const o = meta.outputs[file]!;
    for (const input of Object.keys(o.inputs)) sources.add(input);
    for (const i of o.imports) {
      if (i.kind === 'dynamic-import') continue;
      if (i.external) externals.add(i.path.replace(/^node:/, ''));
      else todo.push(i.path);
    }
  }
  return { sources, externals };
}

let meta: Metafile;
beforeAll(async () => {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [
      'src/cli/main.ts',
      'src/cli/commands/build.ts',
      'src/cli/commands/build-run.ts',
      'src/cli/build-memo.ts',
      'src/cli/commands/images.ts',
      'src/cli/commands/run.ts',
    ],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  meta = result.metafile;
}, 60_000);

describe('what a command loads at its start (static imports)', () => {
  it('the closure is computed: each command reaches what it needs at once', () => {
    const build = staticClosure(meta, 'src/cli/commands/build-run.ts').sources;
    for (const f of ['src/builder/build.ts', 'src/store/store.ts', 'src/dockerfile/parse.ts', 'src/errors.ts'])
      expect(build.has(f), f).toBe(true);
    expect(staticClosure(meta, 'src/cli/commands/build.ts').sources.has('src/builder/build-memo.ts')).toBe(true);
    expect(staticClosure(meta, 'src/cli/commands/images.ts').sources.has('src/errors.ts')).toBe(true);
    // A planted dynamic import is not followed: main.ts loads every command through import().
    expect(staticClosure(meta, 'src/cli/main.ts').sources.has('src/cli/commands/build.ts')).toBe(false);
  });

  it.for([
    ['src/cli/main.ts', ['src/builder/build.ts', 'src/store/store.ts', 'src/registry/client.ts']],
    // What the executable loads to ask for a build's memo: not the CLI's commands, no builder.
    [
      'src/cli/build-memo.ts',
      [
        'src/cli/main.ts',
        'src/cli/commands/build.ts',
        'src/builder/build.ts',
        'src/dockerfile/parse.ts',
        'src/cli/progress/plain.ts',
        'src/cli/hints.ts',
      ],
    ],
    // A build that a memo answers loads neither the builder nor the Dockerfile parser.
    [
      'src/cli/commands/build.ts',
      [
        'src/builder/build.ts',
        'src/builder/stage-runner.ts',
        'src/dockerfile/parse.ts',
        'src/cli/progress/tty.ts',
        'src/registry/client.ts',
        'src/shell/executor.ts',
      ],
    ],
    [
      'src/cli/commands/build-run.ts',
      [
        'src/registry/client.ts',
        'src/registry/pull.ts',
        'src/registry/push.ts',
        'src/registry/cache-remote.ts',
        'src/shell/executor.ts',
        'src/builder/executors/linux.ts',
        'src/builder/executors/linux-runc.ts',
      ],
    ],
    ['src/cli/commands/images.ts', ['src/registry/client.ts', 'src/builder/build.ts', 'src/shell/executor.ts']],
    // `layerkit run`: the union view, the tar reader and the unpacker load only to convert a
    // shell-made container or to extract a layer for the first time; the lifecycle operations (and
    // the commands ps, stop, logs, stats...) only for a detached container or another command.
    [
      'src/cli/commands/run.ts',
      [
        'src/cli/commands/lifecycle.ts',
        'src/runtime/lifecycle.ts',
        'src/store/gc.ts',
        'src/runtime/monitor.ts',
        'src/union/union-fs.ts',
        'src/union/mount-image.ts',
        'src/tar/reader.ts',
        'src/layer/layer-index.ts',
        'src/image/unpack.ts',
        'src/registry/client.ts',
        'src/builder/build.ts',
      ],
    ],
  ] as const)('%s does not load %j at start', ([entry, forbidden]) => {
    const { sources } = staticClosure(meta, entry);
    expect(forbidden.filter((f) => sources.has(f))).toEqual([]);
  });

  it.for([
    ['src/cli/main.ts', ['child_process', 'crypto', 'net', 'tls', 'zlib', 'worker_threads', 'stream', 'undici']],
    ['src/cli/commands/build.ts', ['child_process', 'net', 'tls', 'zlib', 'worker_threads', 'undici']],
    ['src/cli/commands/build-run.ts', ['child_process', 'net', 'tls', 'zlib', 'worker_threads', 'undici']],
    [
      'src/cli/commands/images.ts',
      ['child_process', 'net', 'tls', 'zlib', 'worker_threads', 'stream', 'undici', 'memfs'],
    ],
  ] as const)('%s loads none of the built-ins and packages %j at start', ([entry, forbidden]) => {
    const { externals } = staticClosure(meta, entry);
    expect(forbidden.filter((f) => externals.has(f))).toEqual([]);
  });
});
