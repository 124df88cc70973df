/**
 * Reading a rootfs through its layers before any mount (what `run` does when runc mounts the
 * overlay inside the container): random stacks of files, folders, symlinks, whiteouts and opaque
 * folders, read through the layers and through the kernel's own overlay of the same folders, must
 * give the same answers (text of files, what a path resolves to, and the command look-up).
 * Runs: LAYERKIT_FUZZ_RUNS (default 25).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import {
  type LayerStack,
  lookupCommand,
  makeWhiteout,
  markOpaqueDir,
  readInRoot,
  resolveInRoot,
} from '../../src/low-level.js';
import { it } from '../helpers/fixtures.js';
import { runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();
const RUNS = Number(process.env.LAYERKIT_FUZZ_RUNS ?? 25);

/** Every path a layer may hold, parents before children. */
const PATHS = ['a', 'b', 'a/x', 'a/y', 'b/x', 'a/x/z'];
/** What a query may ask: the paths, through `..` and through symlinks. */
const QUERIES = [...PATHS, 'a/x/../y', 'b/../a/x/z', 'c', 'a/q', 'l', 'a/l', 'l/x', 'a/l/z'];
const TARGETS = ['a', '/b', '../b/x', 'x', '/a/x', 'nowhere', '.'];

type Kind =
  | { t: 'file'; text: string; exec: boolean }
  | { t: 'dir'; opaque: boolean }
  | { t: 'link'; to: string }
  | { t: 'wh' };

const kind: fc.Arbitrary<Kind | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 5 },
  {
    arbitrary: fc.record({ t: fc.constant('file' as const), text: fc.constantFrom('one', 'two'), exec: fc.boolean() }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant('dir' as const), opaque: fc.boolean() }), weight: 9 },
  { arbitrary: fc.record({ t: fc.constant('link' as const), to: fc.constantFrom(...TARGETS) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('wh' as const) }), weight: 1 },
);
/** A layer: a kind (or nothing) for every path and for the symlink names l, a/l. */
const layer = fc.record(Object.fromEntries([...PATHS, 'l', 'a/l'].map((p) => [p, kind]))) as fc.Arbitrary<
  Record<string, Kind | undefined>
>;

/** Writes a layer's folder; returns the folders it made opaque. */
function writeLayer(dir: string, entries: Record<string, Kind | undefined>): Set<string> {
  const opaque = new Set<string>();
  fs.mkdirSync(dir, { recursive: true });
  for (const path of [...PATHS, 'l', 'a/l']) {
    const k = entries[path];
    if (k === undefined) continue;
    // A child needs every ancestor to be a folder in this layer (made plain when the layer did not
    // say): never write through a symlink, whose target may be absolute (the host's).
    const ancestors = path
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    if (ancestors.some((p) => entries[p] !== undefined && entries[p]!.t !== 'dir')) continue;
    if (ancestors.length > 0) fs.mkdirSync(join(dir, ancestors.at(-1)!), { recursive: true });
    const host = join(dir, path);
    if (fs.lstatSync(host, { throwIfNoEntry: false }) !== undefined) continue;
    if (k.t === 'file') fs.writeFileSync(host, k.text, { mode: k.exec ? 0o755 : 0o644 });
    else if (k.t === 'dir') {
      fs.mkdirSync(host, { recursive: true });
      if (k.opaque) {
        markOpaqueDir(host);
        opaque.add(path);
      }
    } else if (k.t === 'link') fs.symlinkSync(k.to, host);
    else makeWhiteout(host);
  }
  return opaque;
}

/** What a view answers for a query: the file's text, or the kind of what the path resolves to. */
function answer(root: string | LayerStack, q: string): string {
  const text = readInRoot(root, q);
  if (text !== undefined) return `file ${text}`;
  const host = resolveInRoot(root, q);
  if (host === undefined) return 'missing';
  const st = fs.statSync(host, { throwIfNoEntry: false });
  return st === undefined ? 'missing' : st.isDirectory() ? 'dir' : 'other';
}

describe.skipIf(skip !== undefined)('reading a rootfs through its layers', () => {
  it('agrees with the kernel overlay of the same layers', ({ tmp }) => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(layer, { minLength: 2, maxLength: 3 }), (layers) => {
        const base = join(tmp, String(n++));
        const dirs = layers.map((_, i) => join(base, `l${i}`));
        const stack: LayerStack = {
          layers: layers.map((entries, i) => ({ dir: dirs[i]!, opaque: writeLayer(dirs[i]!, entries) })),
        };
        const merged = join(base, 'merged');
        for (const d of ['upper', 'work', 'merged']) fs.mkdirSync(join(base, d));
        const mount = spawnSync('mount', [
          '-t',
          'overlay',
          'overlay',
          '-o',
          `lowerdir=${dirs.join(':')},upperdir=${base}/upper,workdir=${base}/work`,
          merged,
        ]);
        expect(mount.status, String(mount.stderr)).toBe(0);
        try {
          for (const q of QUERIES) {
            expect(answer(stack, q), `${q} in ${JSON.stringify(layers)}`).toBe(answer(merged, q));
            for (const cmd of ['x', `/${q}`])
              expect(lookupCommand(stack, cmd, ['PATH=/a:/b'], '/'), `${cmd} in ${JSON.stringify(layers)}`).toEqual(
                lookupCommand(merged, cmd, ['PATH=/a:/b'], '/'),
              );
          }
        } finally {
          spawnSync('umount', [merged]);
        }
      }),
      {
        numRuns: RUNS,
        // Always: an opaque folder hiding a lower one's files, a whiteout hiding a lower file, a link across layers.
        examples: [
          [
            [
              { a: { t: 'dir', opaque: true }, 'a/y': { t: 'file', text: 'one', exec: true }, b: { t: 'wh' } },
              {
                a: { t: 'dir', opaque: false },
                'a/x': { t: 'file', text: 'two', exec: true },
                l: { t: 'link', to: 'a' },
              },
              { b: { t: 'file', text: 'one', exec: false }, 'a/l': { t: 'link', to: '/b' } },
            ],
          ],
        ],
      },
    );
  }, 120_000);
});
