/**
 * Byte streams between commands: an {@link InputStream} that commands read (pull, with
 * push-back so a reader can take just one line), writers that commands write to, and a bounded
 * in-memory {@link createPipe} for pipelines. A writer whose reader has gone away throws
 * {@link BrokenPipeError}, which ends the writing command with status 141 as SIGPIPE would.
 */

/** Thrown by a pipe writer once the reading command has finished. */
export class BrokenPipeError extends Error {
  override readonly name = 'BrokenPipeError';
  constructor() {
    super('broken pipe');
  }
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** UTF-8 text of bytes (invalid sequences become U+FFFD). */
export function toText(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

/** Joins byte chunks. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  return Buffer.concat(chunks);
}

/** Where a command's output goes. */
export interface Writer {
  write(data: string | Uint8Array): Promise<void>;
}

/** A writer that drops everything (`/dev/null`). */
export const nullWriter: Writer = { write: async () => {} };

/** A writer that collects bytes in memory. */
export class BufferWriter implements Writer {
  private readonly chunks: Uint8Array[] = [];
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = toBytes(data);
    if (bytes.length > 0) this.chunks.push(bytes);
  }
  /** Everything written so far. */
  bytes(): Uint8Array {
    return concatBytes(this.chunks);
  }
  /** Everything written so far, as UTF-8 text. */
  text(): string {
    return toText(this.bytes());
  }
}

/** A writer that hands each chunk to a callback. */
export function callbackWriter(callback: ((chunk: Uint8Array) => void) | undefined): Writer {
  if (callback === undefined) return nullWriter;
  return {
    write: async (data) => {
      const bytes = toBytes(data);
      if (bytes.length > 0) callback(bytes);
    },
  };
}

/** A readable byte stream with push-back. */
export class InputStream {
  private readonly pull: () => Promise<Uint8Array | null>;
  private readonly onClose: (() => void) | undefined;
  private readonly pushed: Uint8Array[] = [];
  private ended = false;

  constructor(pull: () => Promise<Uint8Array | null>, onClose?: () => void) {
    this.pull = pull;
    this.onClose = onClose;
  }

  /** A stream over fixed bytes. */
  static of(data: string | Uint8Array): InputStream {
    let bytes: Uint8Array | null = toBytes(data);
    return new InputStream(async () => {
      const b = bytes;
      bytes = null;
      return b !== null && b.length > 0 ? b : null;
    });
  }

  /** An empty stream (`/dev/null`). */
  static empty(): InputStream {
    return new InputStream(async () => null);
  }

  /** The next chunk, or null at end of input. */
  async read(): Promise<Uint8Array | null> {
    const p = this.pushed.pop();
    if (p !== undefined) return p;
    if (this.ended) return null;
    const chunk = await this.pull();
    if (chunk === null) this.ended = true;
    return chunk;
  }

  /** Puts bytes back to be read first. */
  unread(chunk: Uint8Array): void {
    if (chunk.length > 0) this.pushed.push(chunk);
  }

  /** Everything up to end of input. */
  async readAll(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (let c = await this.read(); c !== null; c = await this.read()) chunks.push(c);
    return concatBytes(chunks);
  }

  /** Everything up to end of input, as text. */
  async readAllText(): Promise<string> {
    return toText(await this.readAll());
  }

  /** One line with its newline (the last line may lack it), or null at end of input. */
  async readLine(): Promise<Uint8Array | null> {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const c = await this.read();
      if (c === null) return chunks.length === 0 ? null : concatBytes(chunks);
      const nl = c.indexOf(10);
      if (nl < 0) {
        chunks.push(c);
        continue;
      }
      chunks.push(c.subarray(0, nl + 1));
      this.unread(c.subarray(nl + 1));
      return concatBytes(chunks);
    }
  }

  /** Tells the writer side that nobody will read any more. */
  close(): void {
    this.onClose?.();
  }
}

/** Bytes a pipe buffers before its writer waits, like a kernel pipe. */
export const PIPE_CAPACITY = 65536;

/**
 * A bounded pipe: the writer waits while `PIPE_CAPACITY` bytes are unread; after the reader
 * closes, writes throw {@link BrokenPipeError}.
 */
export function createPipe(): { writer: Writer & { end(): void }; reader: InputStream } {
  const queue: Uint8Array[] = [];
  let buffered = 0;
  let writerDone = false;
  let readerClosed = false;
  let wakeReader: (() => void) | undefined;
  let wakeWriter: (() => void) | undefined;
  const notifyReader = (): void => {
    const w = wakeReader;
    wakeReader = undefined;
    w?.();
  };
  const notifyWriter = (): void => {
    const w = wakeWriter;
    wakeWriter = undefined;
    w?.();
  };
  const writer = {
    async write(data: string | Uint8Array): Promise<void> {
      if (readerClosed) throw new BrokenPipeError();
      const bytes = toBytes(data);
      if (bytes.length === 0) return;
      queue.push(bytes);
      buffered += bytes.length;
      notifyReader();
      while (buffered > PIPE_CAPACITY && !readerClosed) {
        await new Promise<void>((resolve) => (wakeWriter = resolve));
      }
      if (readerClosed) throw new BrokenPipeError();
    },
    end(): void {
      writerDone = true;
      notifyReader();
    },
  };
  const reader = new InputStream(
    async () => {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          buffered -= chunk.length;
          notifyWriter();
          return chunk;
        }
        if (writerDone) return null;
        await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    },
    () => {
      readerClosed = true;
      queue.length = 0;
      buffered = 0;
      notifyWriter();
    },
  );
  return { writer, reader };
}
