/**
 * gzip on every core: the input is cut into fixed-size blocks, each deflated as its own job on
 * libuv's threadpool with the previous block's last 32 KiB as its dictionary (pigz's scheme), and
 * the pieces are joined behind one gzip header, followed by the CRC-32 and size of the whole.
 * zlib's own `createGzip` runs one stream on one thread, which makes it the slowest stage of
 * writing a layer; this keeps both cores of a small machine busy.
 *
 * Deterministic: blocks are cut at fixed offsets of the input, so the same bytes and level give
 * the same output whatever the input's chunking or the jobs' timing. Every gzip reader reads it:
 * each piece but the last ends with a sync flush (byte-aligned, not final), the last one is final.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32, deflateRawBlock } from '#platform';

/** Options for {@link ParallelGzip}. */
export interface ParallelGzipOptions {
  /** gzip level 0–9 (default 6). */
  level?: number | undefined;
  /** Bytes of input per block (default 256 KiB). Part of the output format: keep it fixed. */
  blockSize?: number | undefined;
  /** Blocks being deflated at once (default 4). */
  inFlight?: number | undefined;
}

const WINDOW = 32 * 1024;

/** A gzip Transform that deflates blocks in parallel (see the module doc). */
export class ParallelGzip extends Transform {
  readonly #level: number;
  readonly #blockSize: number;
  readonly #inFlight: number;
  #block: Buffer;
  #fill = 0;
  #dictionary: Buffer | undefined;
  #crc = 0;
  #total = 0;
  #headerSent = false;
  readonly #pending: Array<Promise<Uint8Array>> = [];

  constructor(options: ParallelGzipOptions = {}) {
    super();
    this.#level = options.level ?? 6;
    this.#blockSize = Math.max(WINDOW, options.blockSize ?? 256 * 1024);
    this.#inFlight = Math.max(1, options.inFlight ?? 4);
    this.#block = Buffer.allocUnsafe(this.#blockSize);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    let full = false;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, this.#blockSize - this.#fill);
      chunk.copy(this.#block, this.#fill, at, at + n);
      this.#fill += n;
      at += n;
      if (this.#fill === this.#blockSize) {
        this.#dispatch(false);
        full = true;
      }
    }
    if (!full || this.#pending.length < this.#inFlight) {
      done();
      return;
    }
    this.#drain(this.#inFlight - 1).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.#dispatch(true);
    this.#drain(0).then(() => {
      const trailer = Buffer.allocUnsafe(8);
      trailer.writeUInt32LE(this.#crc >>> 0, 0);
      trailer.writeUInt32LE(this.#total % 2 ** 32, 4);
      this.push(trailer);
      done();
    }, done);
  }

  /** Starts deflating the current block (the last one is final) and begins a new block. */
  #dispatch(final: boolean): void {
    const data = this.#block.subarray(0, this.#fill);
    this.#crc = crc32(data, this.#crc);
    this.#total += data.length;
    const job = deflateRawBlock(data, { level: this.#level, dictionary: this.#dictionary, final });
    job.catch(() => undefined); // seen when it reaches the head of the queue (or dropped on destroy)
    this.#pending.push(job);
    this.#dictionary = data.length >= WINDOW ? data.subarray(data.length - WINDOW) : undefined;
    this.#block = Buffer.allocUnsafe(this.#blockSize);
    this.#fill = 0;
  }

  /** Pushes finished blocks, in order, until at most `keep` are still being deflated. */
  async #drain(keep: number): Promise<void> {
    while (this.#pending.length > keep) {
      const out = await this.#pending[0]!;
      this.#pending.shift();
      if (!this.#headerSent) {
        this.#headerSent = true;
        // No name, mtime 0, XFL as zlib sets it (4: fastest, 2: best), OS 3 (Unix).
        this.push(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, this.#level === 1 ? 4 : this.#level === 9 ? 2 : 0, 3]));
      }
      this.push(out);
    }
  }
}
