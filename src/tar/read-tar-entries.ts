/**
 * Whole-entry reading for small archives and tests: {@link readTarEntries} buffers each entry's
 * data. Large layers should drive `TarParser` directly and stream data where it goes.
 */
import { throwIfAborted } from '../errors.js';
import { TarParser, type TarParserOptions } from './reader.js';
import type { TarEntryHeader } from './types.js';

/** One entry from {@link readTarEntries}, with its data buffered. */
export interface TarEntry {
  header: TarEntryHeader;
  /** Byte offset of the entry's data in the uncompressed stream. */
  dataOffset: number;
  /** The entry's data (empty for non-files); a private copy. */
  data: Buffer;
}

/** Options for {@link readTarEntries}. */
export interface ReadTarEntriesOptions extends TarParserOptions {
  signal?: AbortSignal;
}

/**
 * Reads a whole (uncompressed) tar stream as entries with their data buffered in memory. A
 * convenience for small archives and tests: every file's data is copied into its own Buffer, so
 * large layers should use {@link TarParser} directly and stream data where it goes.
 */
export async function* readTarEntries(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadTarEntriesOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const { signal, ...limits } = options;
  throwIfAborted(signal);
  const ready: TarEntry[] = [];
  let current: TarEntry | undefined;
  let fill = 0;
  const parser = new TarParser(
    {
      onEntry(header, dataOffset) {
        current = { header, dataOffset, data: header.size > 0 ? Buffer.allocUnsafe(header.size) : Buffer.alloc(0) };
        fill = 0;
      },
      onData(chunk) {
        chunk.copy((current as TarEntry).data, fill);
        fill += chunk.length;
      },
      onEntryEnd() {
        ready.push(current as TarEntry);
        current = undefined;
      },
    },
    limits,
  );
  for await (const chunk of source) {
    throwIfAborted(signal);
    parser.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (ready.length > 0) yield* ready.splice(0);
  }
  parser.end();
  if (ready.length > 0) yield* ready.splice(0);
}
