/**
 * Deterministic file trees for the benchmarks, written with synchronous fs calls (fast on tmpfs).
 * The same options always give the same names, sizes and bytes.
 *
 * - {@link writeSmallFilesTree}: N files of 0–4 KiB random bytes in 100 folders (the "10,000
 *   small files" layer of the import target, the dataset of reference §A4).
 * - {@link writeBigFileTree}: one file of random bytes (the "500 MB single-file layer").
 * - {@link writeMixedTree}: a source-tree-like mix for export: log-uniform sizes from 16 B to
 *   256 KiB, 70 % compressible text and 30 % random bytes, a few big files, symlinks and
 *   hardlinks, in 200 folders two levels deep.
 */
import { closeSync, linkSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Prng, RandomBytes, textCorpus } from './prng.js';

/** What a written tree holds. */
export interface TreeStats {
  /** Regular files (hardlinks not counted). */
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Bytes of file data. */
  bytes: number;
}

/** Options for {@link writeSmallFilesTree}. */
export interface SmallFilesTreeOptions {
  dir: string;
  files: number;
  /** Folders to spread them over (default 100). */
  folders?: number;
  /** Largest file (default 4096; sizes are uniform in [0, maxSize]). */
  maxSize?: number;
  seed?: number;
}

/** Writes `files` files of random bytes, 0–`maxSize` bytes each, spread over `folders` folders. */
export function writeSmallFilesTree({
  dir,
  files,
  folders = 100,
  maxSize = 4096,
  seed = 1,
}: SmallFilesTreeOptions): TreeStats {
  const rng = new Prng(seed);
  const bytes = new RandomBytes(`small-${seed}`);
  const n = Math.max(1, Math.min(folders, files));
  for (let d = 0; d < n; d++) mkdirSync(join(dir, `d${pad(d, 3)}`), { recursive: true });
  let total = 0;
  for (let i = 0; i < files; i++) {
    const size = rng.int(0, maxSize);
    writeFileSync(join(dir, `d${pad(i % n, 3)}`, `f${pad(i, 6)}.bin`), bytes.take(size));
    total += size;
  }
  return { files, dirs: n, symlinks: 0, hardlinks: 0, bytes: total };
}

/** Writes one file of `bytes` random bytes at `dir/big.bin`. */
export function writeBigFileTree({ dir, bytes, seed = 2 }: { dir: string; bytes: number; seed?: number }): TreeStats {
  mkdirSync(dir, { recursive: true });
  writeStreamed(join(dir, 'big.bin'), bytes, new RandomBytes(`big-${seed}`), undefined);
  return { files: 1, dirs: 0, symlinks: 0, hardlinks: 0, bytes };
}

/** Options for {@link writeMixedTree}. */
export interface MixedTreeOptions {
  dir: string;
  /** Total bytes of file data to write (approximately: the last small file may overshoot by < 256 KiB). */
  bytes: number;
  /** Big files (default 4), each `bigFileBytes` (default 8 MiB), part of `bytes`. */
  bigFiles?: number;
  bigFileBytes?: number;
  seed?: number;
}

const CORPUS_BYTES = 8 << 20;
const SMALL_MIN = 16;
const SMALL_MAX = 256 << 10;

/** Writes a source-tree-like mix of compressible and incompressible files (see the module doc). */
export function writeMixedTree({
  dir,
  bytes,
  bigFiles = 4,
  bigFileBytes = 8 << 20,
  seed = 3,
}: MixedTreeOptions): TreeStats {
  const rng = new Prng(seed);
  const random = new RandomBytes(`mixed-${seed}`);
  const corpus = textCorpus(seed, CORPUS_BYTES);
  const stats: TreeStats = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0 };
  const leaves: string[] = [];
  for (let a = 0; a < 40; a++) {
    for (let b = 0; b < 5; b++) {
      const rel = `pkg${pad(a, 2)}/mod${b}`;
      mkdirSync(join(dir, rel), { recursive: true });
      leaves.push(rel);
    }
  }
  stats.dirs = 40 + leaves.length;
  const big = Math.min(bigFiles, Math.floor(bytes / Math.max(1, bigFileBytes)));
  for (let i = 0; i < big; i++) {
    const path = join(dir, leaves[i % leaves.length]!, `blob${i}.dat`);
    writeStreamed(path, bigFileBytes, i % 2 === 0 ? random : undefined, corpusSlicer(corpus, rng));
    stats.files++;
    stats.bytes += bigFileBytes;
  }
  const logMin = Math.log(SMALL_MIN);
  const logMax = Math.log(SMALL_MAX);
  for (let i = 0; stats.bytes < bytes; i++) {
    const size = Math.floor(Math.exp(logMin + rng.next() * (logMax - logMin)));
    const text = rng.next() < 0.7;
    const rel = join(leaves[rng.int(0, leaves.length - 1)]!, `f${pad(i, 6)}${text ? '.src' : '.bin'}`);
    const data = text ? corpusSlicer(corpus, rng)(size) : random.take(size);
    writeFileSync(join(dir, rel), data);
    stats.files++;
    stats.bytes += size;
    if (i % 50 === 49) {
      symlinkSync(`f${pad(i, 6)}${text ? '.src' : '.bin'}`, join(dir, `${rel}.lnk`));
      stats.symlinks++;
    }
    if (i % 500 === 499) {
      linkSync(join(dir, rel), join(dir, `${rel}.hl`));
      stats.hardlinks++;
    }
  }
  return stats;
}

/** Returns a function that takes `n` bytes of the text corpus from a random offset (wrapping). */
function corpusSlicer(corpus: Buffer, rng: Prng): (n: number) => Buffer {
  return (n) => {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const start = rng.int(0, corpus.length - 1);
      at += corpus.copy(out, at, start, Math.min(corpus.length, start + (n - at)));
    }
    return out;
  };
}

function writeStreamed(
  path: string,
  size: number,
  random: RandomBytes | undefined,
  text: ((n: number) => Buffer) | undefined,
): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = 16 << 20;
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk, size - done);
      const buf = random ? random.take(n) : text!(n);
      for (let off = 0; off < n; ) off += writeSync(fd, buf, off, n - off);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Zero-padded decimal. */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
