/**
 * `createReadStream` / `createWriteStream` for the union view: Node streams over its file
 * handles, reading a range in `highWaterMark` chunks (one positioned read each) and writing at
 * a position. Opening happens in `construct`, so a bad path is an `'error'` event, as with fs.
 */
import { Readable, Writable } from 'node:stream';
import type { UnionFileHandle } from './file-handle.js';

/** Options of {@link createUnionReadStream} (the `fs.createReadStream` ones that apply). */
export interface UnionReadStreamOptions {
  flags?: string;
  encoding?: BufferEncoding;
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive (default: the end). */
  end?: number;
  highWaterMark?: number;
  signal?: AbortSignal;
}

/** Options of {@link createUnionWriteStream}. */
export interface UnionWriteStreamOptions {
  flags?: string;
  encoding?: BufferEncoding;
  mode?: number;
  /** Position of the first write (default: 0, or the end with flag `'a'`). */
  start?: number;
  signal?: AbortSignal;
}

/** A readable stream of a file's bytes; `open` is called once, when the stream is constructed. */
export function createUnionReadStream(
  open: () => Promise<UnionFileHandle>,
  options: UnionReadStreamOptions = {},
): Readable {
  let handle: UnionFileHandle | undefined;
  let position = options.start ?? 0;
  const end = options.end ?? Infinity;
  const chunk = options.highWaterMark ?? 64 * 1024;
  const init: ConstructorParameters<typeof Readable>[0] = {
    highWaterMark: chunk,
    construct(callback) {
      open().then(
        (h) => {
          handle = h;
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    read() {
      const want = Math.min(chunk, end - position + 1);
      if (want <= 0) {
        this.push(null);
        return;
      }
      try {
        const { bytesRead, buffer } = handle!.readSync(Buffer.alloc(want), 0, want, position);
        position += bytesRead;
        this.push(bytesRead === 0 ? null : Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead));
      } catch (err) {
        this.destroy(err as Error);
      }
    },
    destroy(err, callback) {
      void handle?.close();
      callback(err);
    },
  };
  if (options.encoding !== undefined) init.encoding = options.encoding;
  if (options.signal !== undefined) init.signal = options.signal;
  return new Readable(init);
}

/** A writable stream into a file; `open` is called once, when the stream is constructed. */
export function createUnionWriteStream(
  open: () => Promise<UnionFileHandle>,
  options: UnionWriteStreamOptions = {},
): Writable {
  let handle: UnionFileHandle | undefined;
  let position = options.start;
  const init: ConstructorParameters<typeof Writable>[0] = {
    decodeStrings: true,
    defaultEncoding: options.encoding ?? 'utf8',
    construct(callback) {
      open().then(
        (h) => {
          handle = h;
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    write(data: Buffer, _encoding, callback) {
      try {
        const at = options.flags?.startsWith('a') === true ? null : (position ?? null);
        handle!.writeSync(data, 0, data.length, at);
        if (position !== undefined) position += data.length;
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      handle!.close().then(() => callback(), callback);
    },
    destroy(err, callback) {
      void handle?.close();
      callback(err);
    },
  };
  if (options.signal !== undefined) init.signal = options.signal;
  return new Writable(init);
}
