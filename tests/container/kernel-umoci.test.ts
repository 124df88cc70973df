/**
 * The whole chain against the kernel: random layer stacks become a real image in the store
 * (tar layers with `.wh.` whiteouts and opaque markers), and are also materialised as overlayfs
 * lower directories; the same random operations run through `mountImage` and through Node's fs on
 * a kernel overlay mount; the committed image, unpacked by umoci, must equal the kernel's merged
 * tree (path, type, mode, owner, bytes, link target).
 *
 * Runs where overlay can be mounted and umoci is installed; `LAYERKIT_FUZZ_RUNS` scales it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { test } from '@fast-check/vitest';
import { addLayer, mountImage, openStore, writeImage, type Store } from '../../src/index.js';
import { compareTarPaths, type LayerEntryInput } from '../../src/low-level.js';
import { canMountOverlay, hasTool, missingToolMessage } from '../helpers/tools.js';
import { ops, outcome, stack } from '../union/helpers/gen.js';
import { runOnDir, runOnUnion } from '../union/helpers/run-op.js';
import { flattenLayers, makeLayers, plain, treeOfDir, type LayerSpec } from '../union/helpers/tree.js';

const RUNS = Math.max(3, Math.floor(Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? 40) / 4));
const skip = !canMountOverlay()
  ? 'overlayfs cannot be mounted here (needs root on Linux)'
  : !hasTool('setfattr')
    ? missingToolMessage('setfattr')
    : !hasTool('umoci')
      ? missingToolMessage('umoci')
      : undefined;

function materialise(dir: string, spec: LayerSpec): void {
  mkdirSync(dir, { recursive: true });
  const entries = [...spec.entries]
    .filter((e) => e.type !== 'hardlink')
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  const dirs: Array<[string, number]> = [];
  for (const e of entries) {
    const p = join(dir, e.path);
    if (e.type === 'directory') mkdirSync(p);
    else if (e.type === 'file') writeFileSync(p, e.data ?? '');
    else symlinkSync(e.linkTarget ?? '', p);
    lchownSync(p, e.uid ?? 0, e.gid ?? 0);
    if (e.type === 'directory') dirs.push([p, e.mode ?? 0o755]);
    else if (e.type === 'file') chmodSync(p, e.mode ?? 0o644);
  }
  for (const w of spec.whiteouts ?? []) execFileSync('mknod', [join(dir, w), 'c', '0', '0']);
  for (const o of spec.opaqueDirs ?? [])
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(dir, o)]);
  for (const [p, mode] of dirs.reverse()) chmodSync(p, mode);
}

/** A layer spec as real tar entries (whiteouts as `.wh.` files, opaque markers). */
function layerEntries(spec: LayerSpec): LayerEntryInput[] {
  const out: LayerEntryInput[] = [];
  for (const e of spec.entries) {
    if (e.type === 'hardlink') continue;
    const header = {
      path: e.path,
      type: e.type,
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: 0,
    } as LayerEntryInput['header'];
    if (e.type === 'symlink') header.linkTarget = e.linkTarget ?? '';
    if (e.type === 'file') {
      const data = Buffer.from(e.data ?? '');
      out.push({ header: { ...header, size: data.length }, data });
    } else out.push({ header });
  }
  const marker = (path: string): LayerEntryInput => ({
    header: { path, type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 },
    data: Buffer.alloc(0),
  });
  for (const w of spec.whiteouts ?? []) {
    const slash = w.lastIndexOf('/');
    out.push(marker(slash < 0 ? `.wh.${w}` : `${w.slice(0, slash)}/.wh.${w.slice(slash + 1)}`));
  }
  for (const o of spec.opaqueDirs ?? []) out.push(marker(o === '' ? '.wh..wh..opq' : `${o}/.wh..wh..opq`));
  return out.sort((a, b) => compareTarPaths(a.header.path, b.header.path));
}

async function imageFrom(store: Store, specs: LayerSpec[]): Promise<void> {
  const layers = [];
  for (const s of specs) layers.push(await addLayer({ store, entries: layerEntries(s), compression: 'none' }));
  await writeImage({
    store,
    config: {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created_by: 'spec' })),
    },
    layers: layers.map((l) => l.descriptor),
    tags: ['base:1'],
  });
}

describe.skipIf(skip !== undefined)(`committed layers vs the kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tmp: string;
  let run = 0;
  it.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
  });
  afterAll(() => {
    for (const line of execFileSync('cat', ['/proc/mounts']).toString().split('\n')) {
      const mnt = line.split(' ')[1];
      if (mnt?.startsWith(tmp)) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
    }
  });

  const diskStack = stack({ relativeLinks: true, explicitParents: true }).map((specs) =>
    specs.map((s, i) => {
      const below = flattenLayers(makeLayers(specs.slice(0, i)));
      return {
        ...s,
        whiteouts: (s.whiteouts ?? []).filter((w) => below.has(w) && !s.entries.some((e) => e.path === w)),
      };
    }),
  );

  test.prop([diskStack, ops({ relativeLinks: true, maxLength: 15 })], { numRuns: RUNS })(
    'umoci unpack of the committed image equals the kernel overlay',
    async (specs, list) => {
      const base = join(tmp, `run${run++}`);
      const lowers = specs.map((s, i) => {
        const d = join(base, `l${i}`);
        materialise(d, s);
        return d;
      });
      for (const d of ['upper', 'work', 'mnt']) mkdirSync(join(base, d));
      const mnt = join(base, 'mnt');
      execFileSync('mount', [
        '-t',
        'overlay',
        'overlay',
        '-o',
        `lowerdir=${[...lowers].reverse().join(':')},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')},index=off,metacopy=off`,
        mnt,
      ]);
      try {
        const store = await openStore({ root: join(base, 'store'), durable: false });
        await imageFrom(store, specs);
        const fs = await mountImage({ store, image: 'base:1' });
        for (const o of list) {
          if (o.op === 'rename' || o.op === 'copyFile') continue; // directory renames differ on purpose (EXDEV); see tests/union/kernel.test.ts
          const want = outcome(() => runOnDir(mnt, o));
          const got = outcome(() => runOnUnion(fs, o));
          expect({ o, got }).toEqual({ o, got: want });
        }
        await fs.commit({ tags: ['base:2'] });
        execFileSync('umoci', ['unpack', '--image', `${join(base, 'store')}:base:2`, join(base, 'bundle')], {
          stdio: 'ignore',
        });
        expect(plain(await treeOfDir(join(base, 'bundle', 'rootfs')))).toEqual(plain(await treeOfDir(mnt)));
      } finally {
        execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
        rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
