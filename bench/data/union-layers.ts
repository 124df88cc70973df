/**
 * A deterministic many-layer image for the union benchmark, written twice: as folders a kernel
 * overlay mount can stack (whiteouts as 0/0 character devices) and as layer tars made by GNU tar
 * from those folders (whiteouts as `.wh.<name>` files), wrapped in an OCI layout.
 *
 * Each layer writes `filesPerLayer` regular files of 0–4 KiB random bytes into a shared tree of
 * folders (`dNN/sMM`, so folders merge across layers). From the second layer on, 5 % of the files
 * replace a file of a lower layer and about 1 % more names are whited out; 1 % of new files get a
 * symlink beside them and 0.2 % a second (hard) link.
 */
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from '../harness.js';
import { tarFolder, writeOciLayout } from './oci-layout.js';
import { pad } from './trees.js';
import { Prng, RandomBytes } from './prng.js';

/** Options for {@link writeUnionImage}. */
export interface UnionImageOptions {
  /** Folder for the layer folders, tars and layout. */
  dir: string;
  layers: number;
  filesPerLayer: number;
  seed?: number;
  /** The name written into the layout's index. */
  refName: string;
}

/** What {@link writeUnionImage} made. */
export interface UnionImage {
  /** Layer folders, bottom first (for `lowerdir=`, which wants them top first). */
  layerDirs: string[];
  /** The OCI layout holding the image. */
  layout: string;
  /** Regular files written over all layers (replacements included). */
  files: number;
  whiteouts: number;
  /** Every regular-file path the merged view shows, relative, sorted. */
  visibleFiles: string[];
}

/** Writes the layers (folders and tars) and an OCI layout of them. */
export async function writeUnionImage({
  dir,
  layers,
  filesPerLayer,
  seed = 11,
  refName,
}: UnionImageOptions): Promise<UnionImage> {
  const rng = new Prng(seed);
  const bytes = new RandomBytes(`union-${seed}`);
  const total = layers * filesPerLayer;
  const tops = Math.max(2, Math.min(50, Math.round(Math.sqrt(total / 40))));
  const subs = Math.max(2, Math.min(10, Math.round(total / 200 / tops)));
  // Paths the merged view shows: plain files may be replaced or whited out; linked ones stay.
  const visible = new Set<string>();
  const plain: string[] = [];
  const plainAt = new Map<string, number>();
  const dropPlain = (p: string): void => {
    const i = plainAt.get(p)!;
    const last = plain.pop()!;
    if (last !== p) {
      plain[i] = last;
      plainAt.set(last, i);
    }
    plainAt.delete(p);
  };
  const addPlain = (p: string): void => {
    plainAt.set(p, plain.length);
    plain.push(p);
  };
  const layerDirs: string[] = [];
  const tars: string[] = [];
  let files = 0;
  let whiteoutCount = 0;
  for (let k = 0; k < layers; k++) {
    const layerDir = join(dir, 'layers', pad(k, 2));
    const whDir = join(dir, 'wh', pad(k, 2));
    mkdirSync(layerDir, { recursive: true });
    const made = new Set<string>();
    const mkdir = (base: string, rel: string): void => {
      const key = `${base}\0${rel}`;
      if (!made.has(key)) mkdirSync(join(base, rel), { recursive: true });
      made.add(key);
    };
    const touched = new Set<string>();
    const whiteouts: string[] = [];
    let written = 0;
    for (let i = 0; written < filesPerLayer; i++) {
      const r = rng.next();
      if (k > 0 && r < 0.01 && plain.length > 0) {
        const victim = plain[rng.int(0, plain.length - 1)]!;
        if (touched.has(victim)) continue;
        touched.add(victim);
        dropPlain(victim);
        visible.delete(victim);
        whiteouts.push(victim);
        continue;
      }
      let rel: string;
      if (k > 0 && r < 0.06 && plain.length > 0) {
        rel = plain[rng.int(0, plain.length - 1)]!; // replaces a lower layer's file
        if (touched.has(rel)) continue;
      } else {
        rel = `d${pad(rng.int(0, tops - 1), 2)}/s${pad(rng.int(0, subs - 1), 2)}/l${pad(k, 2)}f${pad(i, 6)}.dat`;
      }
      touched.add(rel);
      const folder = rel.slice(0, rel.lastIndexOf('/'));
      mkdir(layerDir, folder);
      writeFileSync(join(layerDir, rel), bytes.take(rng.int(0, 4096)));
      written++;
      if (!visible.has(rel)) {
        visible.add(rel);
        addPlain(rel);
      }
      const extra = rng.next();
      if (extra < 0.01 && plainAt.has(rel)) {
        symlinkSync(rel.slice(folder.length + 1), join(layerDir, `${rel}.lnk`));
        dropPlain(rel);
      } else if (extra < 0.012 && plainAt.has(rel)) {
        linkSync(join(layerDir, rel), join(layerDir, `${rel}.hl`));
        visible.add(`${rel}.hl`);
        dropPlain(rel);
      }
    }
    files += written;
    whiteoutCount += whiteouts.length;
    // The tar gets `.wh.` files; the overlay folder gets 0/0 character devices (made after tarring).
    for (const w of whiteouts) {
      const slash = w.lastIndexOf('/');
      mkdir(whDir, w.slice(0, slash));
      writeFileSync(join(whDir, w.slice(0, slash), `.wh.${w.slice(slash + 1)}`), '');
    }
    const tar = join(dir, 'tars', `${pad(k, 2)}.tar`);
    mkdirSync(join(dir, 'tars'), { recursive: true });
    const whNames = whiteouts.map((w) => `${w.slice(0, w.lastIndexOf('/'))}/.wh.${w.slice(w.lastIndexOf('/') + 1)}`);
    await tarFolder({ dir: layerDir, archive: tar, extra: whNames.length > 0 ? ['-C', whDir, ...whNames] : [] });
    if (whiteouts.length > 0) {
      const script = whiteouts
        .map(
          (w) => `mkdir -p '${join(layerDir, w.slice(0, w.lastIndexOf('/')))}' && mknod '${join(layerDir, w)}' c 0 0`,
        )
        .join('\n');
      await runChild({ argv: ['sh', '-ec', script] });
    }
    layerDirs.push(layerDir);
    tars.push(tar);
  }
  const layout = join(dir, 'layout');
  await writeOciLayout({ dir: layout, layers: tars, refName });
  return { layerDirs, layout, files, whiteouts: whiteoutCount, visibleFiles: [...visible].sort() };
}
