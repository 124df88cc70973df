/**
 * The bytes of one download between the socket and the store: a few fixed 1 MiB pieces that the
 * socket reads into ({@link PieceQueue.target}; reads that landed elsewhere are copied in), full
 * pieces wait for the store, and a piece the store has written and hashed is filled again. No
 * allocation per read, no copy of a byte the socket read in place, and the socket pauses when the
 * store falls behind (bounded memory: `pieces` MiB a download). The pieces are shared memory, which
 * the store's digest worker hashes where it lies.
 */
import { sharedBuffer } from '../store/worker-digester.js';
import { READ_BUFFER } from './http1.js';

/** Fixed pieces, filled in order and handed out full. */
export class PieceQueue {
  readonly #size: number;
  readonly #free: Buffer[] = [];
  readonly #ready: Buffer[] = [];
  #current: Buffer | undefined;
  #fill = 0;
  #paused = false;
  /** Called when a paused socket may read again. */
  onRoom: (() => void) | undefined;
  /** Called when a piece is ready. */
  onReady: (() => void) | undefined;

  constructor(options: { pieces?: number; size?: number } = {}) {
    this.#size = options.size ?? 1 << 20;
    for (let i = 0; i < (options.pieces ?? 4); i++) this.#free.push(sharedBuffer(this.#size));
  }

  /**
   * Where the next socket read may land: the free end of the piece being filled (a new one when
   * none is), or nothing when every piece waits for the store. A chunk then given to `add` that
   * lies just there is counted, not copied.
   */
  target(): Buffer | undefined {
    if (this.#current === undefined) {
      const next = this.#free.pop();
      if (next === undefined) return undefined;
      this.#current = next;
      this.#fill = 0;
    }
    return this.#current.subarray(this.#fill);
  }

  /**
   * Copies a chunk in. Returns false when the room left is less than one more socket read: the
   * socket should pause (the caller may still add the rest of the current read).
   */
  add(chunk: Buffer): boolean {
    let at = 0;
    const current = this.#current;
    if (
      current !== undefined &&
      chunk.buffer === current.buffer &&
      chunk.byteOffset === current.byteOffset + this.#fill &&
      chunk.length <= this.#size - this.#fill
    ) {
      // The socket read into the piece itself.
      at = chunk.length;
      this.#filled(chunk.length);
    }
    while (at < chunk.length) {
      if (this.#current === undefined) {
        // Only when a caller added more than it was told there was room for.
        this.#current = this.#free.pop() ?? sharedBuffer(this.#size);
        this.#fill = 0;
      }
      const n = chunk.copy(this.#current, this.#fill, at);
      at += n;
      this.#filled(n);
    }
    if (this.#room() >= READ_BUFFER) return true;
    this.#paused = true;
    return false;
  }

  /** Counts `n` more bytes in the current piece; a full one is handed out. */
  #filled(n: number): void {
    this.#fill += n;
    if (this.#fill < this.#size) return;
    this.#ready.push(this.#current!);
    this.#current = undefined;
    this.onReady?.();
  }

  /** The next full piece, if one is ready. */
  take(): Buffer | undefined {
    return this.#ready.shift();
  }

  /** The partly filled piece (at the end of the bytes), taken out of the queue. */
  rest(): Buffer | undefined {
    const current = this.#current;
    if (current === undefined || this.#fill === 0) return undefined;
    const out = current.subarray(0, this.#fill);
    this.#current = undefined;
    this.#fill = 0;
    return out;
  }

  /** Gives back a piece (or a view of one) the store is done with. */
  recycle(piece: Buffer): void {
    const whole = piece.length === this.#size ? piece : Buffer.from(piece.buffer, piece.byteOffset, this.#size);
    this.#free.push(whole);
    if (this.#paused && this.#room() >= READ_BUFFER) {
      this.#paused = false;
      this.onRoom?.();
    }
  }

  #room(): number {
    return this.#free.length * this.#size + (this.#current === undefined ? 0 : this.#size - this.#fill);
  }
}
