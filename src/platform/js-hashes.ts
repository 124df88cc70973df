/**
 * md5, sha1 and sha512 in plain JavaScript, synchronous and incremental, for the browser platform:
 * the shell's `md5sum`/`sha1sum` and the rare sha512 digest. sha256, on every hot path, runs in
 * WebAssembly (hash-wasm); these three are small and seldom used, so they stay out of the bundle's
 * WebAssembly (about 12 KB gzipped less). Checked against Node's crypto in tests/platform.
 */
import type { PlatformHash } from './types.js';

/** One compression function over a block, updating `state` in place. */
type Compress = (state: Int32Array, block: DataView) => void;

class BlockHash implements PlatformHash {
  readonly #block: Uint8Array;
  readonly #view: DataView;
  #fill = 0;
  #length = 0;

  constructor(
    readonly state: Int32Array,
    readonly blockSize: 64 | 128,
    readonly compress: Compress,
    readonly littleEndian: boolean,
    readonly outWords: number,
  ) {
    this.#block = new Uint8Array(blockSize);
    this.#view = new DataView(this.#block.buffer);
  }

  update(data: Uint8Array | string): PlatformHash {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.#length += bytes.length;
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(bytes.length - at, this.blockSize - this.#fill);
      this.#block.set(bytes.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === this.blockSize) {
        this.compress(this.state, this.#view);
        this.#fill = 0;
      }
    }
    return this;
  }

  digest(_encoding: 'hex'): string {
    const lengthBytes = this.blockSize === 128 ? 16 : 8;
    const bits = this.#length * 8;
    this.update(new Uint8Array([0x80]));
    if (this.#fill > this.blockSize - lengthBytes) this.update(new Uint8Array(this.blockSize - this.#fill));
    this.#block.fill(0, this.#fill);
    const hi = Math.floor(bits / 2 ** 32);
    const lo = bits >>> 0;
    if (this.littleEndian) {
      this.#view.setUint32(this.blockSize - 8, lo, true);
      this.#view.setUint32(this.blockSize - 4, hi, true);
    } else {
      this.#view.setUint32(this.blockSize - 8, hi);
      this.#view.setUint32(this.blockSize - 4, lo);
    }
    this.compress(this.state, this.#view);
    let hex = '';
    for (let i = 0; i < this.outWords; i++) {
      const w = this.state[i]!;
      const v = this.littleEndian ? ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24) : w;
      hex += (v >>> 0).toString(16).padStart(8, '0');
    }
    return hex;
  }
}

const MD5_K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

function md5Compress(s: Int32Array, view: DataView): void {
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  for (let i = 0; i < 64; i++) {
    const round = i >> 4;
    let f: number;
    let g: number;
    if (round === 0) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (round === 1) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (round === 2) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const t = d;
    d = c;
    c = b;
    const x = (a + f + MD5_K[i]! + view.getInt32(g * 4, true)) | 0;
    const r = MD5_S[(round << 2) | (i & 3)]!;
    b = (b + ((x << r) | (x >>> (32 - r)))) | 0;
    a = t;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
}

const SHA1_W = new Int32Array(80);

function sha1Compress(s: Int32Array, view: DataView): void {
  const w = SHA1_W;
  for (let i = 0; i < 16; i++) w[i] = view.getInt32(i * 4);
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let [a, b, c, d, e] = [s[0]!, s[1]!, s[2]!, s[3]!, s[4]!];
  for (let i = 0; i < 80; i++) {
    const f =
      i < 20
        ? ((b & c) | (~b & d)) + 0x5a827999
        : i < 40
          ? (b ^ c ^ d) + 0x6ed9eba1
          : i < 60
            ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc
            : (b ^ c ^ d) + 0xca62c1d6;
    const t = (((a << 5) | (a >>> 27)) + f + e + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
}

// sha512 on 32-bit halves: word i is (hi, lo) at [2i, 2i + 1]. Its constants are computed as the
// standard defines them (fractional bits of square and cube roots of the first primes), not typed in.
const PRIMES = (() => {
  const out: bigint[] = [];
  for (let n = 2; out.length < 80; n++) if (out.every((p) => BigInt(n) % p !== 0n)) out.push(BigInt(n));
  return out;
})();

/** floor(x^(1/k)) for a bigint x, by Newton's method. */
function iroot(x: bigint, k: bigint): bigint {
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / Number(k)));
  for (;;) {
    const next = ((k - 1n) * r + x / r ** (k - 1n)) / k;
    if (next >= r) return r;
    r = next;
  }
}

/** The first 64 fractional bits of the k-th root of each prime, as (hi, lo) pairs. */
function rootBits(primes: bigint[], k: bigint): Int32Array {
  const out = new Int32Array(primes.length * 2);
  primes.forEach((p, i) => {
    const bits = iroot(p << (64n * k), k) & ((1n << 64n) - 1n);
    out[i * 2] = Number(bits >> 32n) | 0;
    out[i * 2 + 1] = Number(bits & 0xffffffffn) | 0;
  });
  return out;
}

let sha512K: Int32Array | undefined;
const SHA512_W = new Int32Array(160);

function sha512Compress(s: Int32Array, view: DataView): void {
  sha512K ??= rootBits(PRIMES, 3n);
  const K = sha512K;
  const w = SHA512_W;
  for (let i = 0; i < 32; i++) w[i] = view.getInt32(i * 4);
  for (let i = 16; i < 80; i++) {
    // σ0 = rotr1 ^ rotr8 ^ shr7 of w[i-15]; σ1 = rotr19 ^ rotr61 ^ shr6 of w[i-2].
    let h = w[(i - 15) * 2]!;
    let l = w[(i - 15) * 2 + 1]!;
    const s0h = ((h >>> 1) | (l << 31)) ^ ((h >>> 8) | (l << 24)) ^ (h >>> 7);
    const s0l = ((l >>> 1) | (h << 31)) ^ ((l >>> 8) | (h << 24)) ^ ((l >>> 7) | (h << 25));
    h = w[(i - 2) * 2]!;
    l = w[(i - 2) * 2 + 1]!;
    const s1h = ((h >>> 19) | (l << 13)) ^ ((l >>> 29) | (h << 3)) ^ (h >>> 6);
    const s1l = ((l >>> 19) | (h << 13)) ^ ((h >>> 29) | (l << 3)) ^ ((l >>> 6) | (h << 26));
    const lo = (s0l >>> 0) + (s1l >>> 0) + (w[(i - 7) * 2 + 1]! >>> 0) + (w[(i - 16) * 2 + 1]! >>> 0);
    w[i * 2] = s0h + s1h + w[(i - 7) * 2]! + w[(i - 16) * 2]! + Math.floor(lo / 2 ** 32);
    w[i * 2 + 1] = lo;
  }
  const v = s.slice();
  for (let i = 0; i < 80; i++) {
    const [ah, al, bh, bl, ch, cl, dh, dl, eh, el, fh, fl, gh, gl, hh, hl] = v as unknown as number[];
    // Σ1(e) = rotr14 ^ rotr18 ^ rotr41; ch = (e & f) ^ (~e & g).
    const S1h = ((eh! >>> 14) | (el! << 18)) ^ ((eh! >>> 18) | (el! << 14)) ^ ((el! >>> 9) | (eh! << 23));
    const S1l = ((el! >>> 14) | (eh! << 18)) ^ ((el! >>> 18) | (eh! << 14)) ^ ((eh! >>> 9) | (el! << 23));
    const chh = (eh! & fh!) ^ (~eh! & gh!);
    const chl = (el! & fl!) ^ (~el! & gl!);
    const t1l = (hl! >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K[i * 2 + 1]! >>> 0) + (w[i * 2 + 1]! >>> 0);
    const t1h = hh! + S1h + chh + K[i * 2]! + w[i * 2]! + Math.floor(t1l / 2 ** 32);
    // Σ0(a) = rotr28 ^ rotr34 ^ rotr39; maj = (a & b) ^ (a & c) ^ (b & c).
    const S0h = ((ah! >>> 28) | (al! << 4)) ^ ((al! >>> 2) | (ah! << 30)) ^ ((al! >>> 7) | (ah! << 25));
    const S0l = ((al! >>> 28) | (ah! << 4)) ^ ((ah! >>> 2) | (al! << 30)) ^ ((ah! >>> 7) | (al! << 25));
    const majh = (ah! & bh!) ^ (ah! & ch!) ^ (bh! & ch!);
    const majl = (al! & bl!) ^ (al! & cl!) ^ (bl! & cl!);
    const t2l = (S0l >>> 0) + (majl >>> 0);
    const t2h = S0h + majh + Math.floor(t2l / 2 ** 32);
    const el2 = (dl! >>> 0) + (t1l >>> 0);
    const al2 = (t1l >>> 0) + (t2l >>> 0);
    v.set([t1h + t2h + Math.floor(al2 / 2 ** 32), al2, ah!, al!, bh!, bl!, ch!, cl!]);
    v.set([dh! + t1h + Math.floor(el2 / 2 ** 32), el2, eh!, el!, fh!, fl!, gh!, gl!], 8);
  }
  for (let i = 0; i < 16; i += 2) {
    const lo = (s[i + 1]! >>> 0) + (v[i + 1]! >>> 0);
    s[i] = s[i]! + v[i]! + Math.floor(lo / 2 ** 32);
    s[i + 1] = lo;
  }
}

/** A new md5, sha1 or sha512. */
export function createJsHash(algorithm: 'md5' | 'sha1' | 'sha512'): PlatformHash {
  if (algorithm === 'md5')
    return new BlockHash(
      Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476),
      64,
      md5Compress,
      true,
      4,
    );
  if (algorithm === 'sha1')
    return new BlockHash(
      Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0),
      64,
      sha1Compress,
      false,
      5,
    );
  return new BlockHash(rootBits(PRIMES.slice(0, 8), 2n), 128, sha512Compress, false, 16);
}
