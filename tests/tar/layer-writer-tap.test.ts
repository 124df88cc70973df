/** writeLayer's `onTarChunk` tap: it sees exactly the uncompressed tar, and throwing fails the layer. */
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { sha256 } from '../../src/digest/digest.js';
import { writeLayer, type LayerEntryInput } from '../../src/tar/layer-writer.js';

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
const entries = (): LayerEntryInput[] => [
  { header: { path: 'd', type: 'directory', ...base, mode: 0o755 } },
  { header: { path: 'd/a', type: 'file', ...base }, data: Buffer.alloc(100_000, 1) },
  { header: { path: 'd/b', type: 'file', ...base }, data: Buffer.from('b') },
];

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('writeLayer onTarChunk', () => {
  it.each(['gzip', 'none'] as const)('sees the uncompressed tar in order (%s)', async (compression) => {
    const seen: Buffer[] = [];
    const { stream, result } = writeLayer({
      entries: entries(),
      compression,
      onTarChunk: (c) => seen.push(Buffer.from(c)),
    });
    const blob = await drain(stream);
    const r = await result;
    const tar = Buffer.concat(seen);
    expect(sha256(tar)).toBe(r.diffId);
    expect(tar.length).toBe(r.uncompressedSize);
    expect(compression === 'gzip' ? gunzipSync(blob).equals(tar) : blob.equals(tar)).toBe(true);
  });

  it('a throwing tap fails the stream and the result with its error', async () => {
    const boom = new Error('index full');
    const { stream, result } = writeLayer({
      entries: entries(),
      compression: 'gzip',
      onTarChunk: () => {
        throw boom;
      },
    });
    await expect(drain(stream)).rejects.toBe(boom);
    await expect(result).rejects.toBe(boom);
  });
});
