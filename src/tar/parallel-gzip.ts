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
import { crc32, deflateRawBlock } from '#platform';

/** Options for {@link parallelGzip}. */
export interface ParallelGzipOptions {
  /** gzip level 0–9 (default 6). */
  level?: number | undefined;
  /** Bytes of input per block (default 256 KiB). Part of the output format: keep it fixed. */
  blockSize?: number | undefined;
  /** Blocks being deflated at once (default 4). */
  inFlight?: number | undefined;
}

const WINDOW = 32 * 1024;

/**
 * gzips `source` with blocks deflated in parallel (see the module doc): an async iterable in, an
 * async iterable out, so it runs the same in Node and in a page. At most `inFlight` blocks are
 * being deflated while the source is read; a consumer that stops reading stops it.
 */
export async function* parallelGzip(
  source: AsyncIterable<Uint8Array>,
  options: ParallelGzipOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const level = options.level ?? 6;
  const blockSize = Math.max(WINDOW, options.blockSize ?? 256 * 1024);
  const inFlight = Math.max(1, options.inFlight ?? 4);
  let block = Buffer.allocUnsafe(blockSize);
  let fill = 0;
  let dictionary: Buffer | undefined;
  let crc = 0;
  let total = 0;
  const pending: Array<Promise<Uint8Array>> = [];

  /** Starts deflating the current block (the last one is final) and begins a new block. */
  const dispatch = (final: boolean): void => {
    const data = block.subarray(0, fill);
    crc = crc32(data, crc);
    total += data.length;
    const job = deflateRawBlock(data, { level, dictionary, final });
    job.catch(() => undefined); // seen when it reaches the head of the queue (or dropped on return)
    pending.push(job);
    dictionary = data.length >= WINDOW ? data.subarray(data.length - WINDOW) : undefined;
    block = Buffer.allocUnsafe(blockSize);
    fill = 0;
  };

  // No name, mtime 0, XFL as zlib sets it (4: fastest, 2: best), OS 3 (Unix).
  yield Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, level === 1 ? 4 : level === 9 ? 2 : 0, 3]);
  for await (const chunk of source) {
    let at = 0;
    let full = false;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, blockSize - fill);
      block.set(chunk.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === blockSize) {
        dispatch(false);
        full = true;
      }
    }
    // Blocks finished, in order, until at most inFlight - 1 are still being deflated.
    if (full) while (pending.length >= inFlight) yield toBuffer(await pending.shift()!);
  }
  dispatch(true);
  while (pending.length > 0) yield toBuffer(await pending.shift()!);
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
