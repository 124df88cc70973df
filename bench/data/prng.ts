/**
 * Deterministic pseudo-random data for the benchmarks: the same seed gives the same numbers and
 * bytes on every machine and Node version (mulberry32 for choices, AES-128-CTR for bulk bytes,
 * a word-salad corpus for compressible "text").
 */
import { createCipheriv, createHash } from 'node:crypto';

/** A seeded generator of uniform numbers (mulberry32). */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** An endless deterministic byte source (AES-128-CTR over zeros, keyed by the seed). */
export class RandomBytes {
  readonly #cipher;
  #zeros = Buffer.alloc(0);

  constructor(seed: string) {
    const key = createHash('sha256').update(`layerkit-bench:${seed}`).digest();
    this.#cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  /** The next `n` bytes of the stream. */
  take(n: number): Buffer {
    if (this.#zeros.length < n) this.#zeros = Buffer.alloc(Math.max(n, 1 << 16));
    return this.#cipher.update(this.#zeros.subarray(0, n));
  }
}

const SYLLABLES = [
  'ka',
  'lo',
  're',
  'mi',
  'tu',
  'an',
  'en',
  'or',
  'is',
  'ul',
  'st',
  'th',
  'ex',
  'po',
  'ne',
  'da',
  'vi',
  'co',
  'fu',
  'ng',
];
const PUNCT = [' ', ' ', ' ', ' ', ' ', ' ', ', ', '. ', '\n', '(', ') ', ' = ', ';\n', '{\n  ', '}\n'];

/**
 * A block of compressible text-like bytes (a vocabulary of 2,000 made-up words with source-code
 * punctuation): gzip -1 shrinks it to roughly a third, much as it does real source files.
 */
export function textCorpus(seed: number, bytes: number): Buffer {
  const rng = new Prng(seed);
  const words: string[] = [];
  for (let i = 0; i < 2000; i++) {
    let w = '';
    const n = rng.int(1, 4);
    for (let k = 0; k < n; k++) w += rng.pick(SYLLABLES);
    words.push(w);
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  while (at < bytes) {
    // Zipf-like: frequent words are much more frequent.
    const word = words[Math.floor(words.length * rng.next() ** 3)]!;
    at += out.write(word + rng.pick(PUNCT), at, 'latin1');
  }
  return out;
}
