/**
 * A blob on a registry as a {@link RangeSource}: each read is one `GET` with `Range: bytes=a-b`
 * through the registry client (auth, retries, TLS as for any request), the `206` reply's
 * `Content-Range` checked. A registry that ignores `Range` and answers `200` is read to the
 * wanted bytes and cut there.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { RangeSource } from '../layer/estargz-layer.js';
import type { Descriptor } from '../oci/types.js';
import { header, statusError, type RegistryClient } from './client.js';
import type { RegistryReference } from './reference.js';

/** Options for {@link registryRangeSource}. */
export interface RegistryRangeSourceOptions {
  client: RegistryClient;
  ref: RegistryReference;
  /** The blob (its size bounds every read). */
  descriptor: Descriptor;
  /** Sees the bytes of every reply body (a lazy mount counts what it fetched). */
  onBytes?: ((n: number) => void) | undefined;
}

/** Reads ranges of one blob from its registry. */
export function registryRangeSource(options: RegistryRangeSourceOptions): RangeSource {
  const { client, ref, descriptor, onBytes } = options;
  const what = `blob ${descriptor.digest}`;
  const data = { ref: ref.full, blob: descriptor.digest };
  return {
    size: descriptor.size,
    async read(start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
      if (!(start >= 0 && end <= descriptor.size && start <= end)) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `${what} of ${ref.full}: bytes ${start}-${end} are outside its ${descriptor.size} bytes`,
          data,
        );
      }
      if (end === start) return Buffer.alloc(0);
      const res = await client.send({
        method: 'GET',
        url: `/v2/${ref.repository}/blobs/${descriptor.digest}`,
        headers: { range: `bytes=${start}-${end - 1}` },
        scopes: [`repository:${ref.repository}:pull`],
        what: `${what} of ${ref.full}`,
        signal,
      });
      if (res.status !== 206 && res.status !== 200)
        throw await statusError(client, res, `${what} of ${ref.full}`, data);
      let skip = 0;
      if (res.status === 206) {
        const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
        if (!range || Number(range[1]) !== start || Number(range[2]) !== end - 1) {
          await res.body.dump();
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY,
            `${what} of ${ref.full}: ${client.registry} answered bytes ${start}-${end - 1} with range ${header(res, 'content-range') ?? '(none)'}`,
            { ...data, registry: client.registry },
          );
        }
      } else skip = start;
      const want = end - start;
      const parts: Buffer[] = [];
      let seen = 0;
      let got = 0;
      for await (const chunk of res.body) {
        onBytes?.(chunk.length);
        const from = Math.max(0, skip - seen);
        seen += chunk.length;
        if (from >= chunk.length) continue;
        const piece = chunk.subarray(from, from + want - got);
        parts.push(Buffer.from(piece));
        got += piece.length;
        if (got >= want) break;
      }
      if (got >= want) res.body.destroy();
      if (got !== want) {
        throw new LayerkitError(
          ErrorCodes.ERR_REGISTRY,
          `${what} of ${ref.full}: ${client.registry} sent ${got} of the ${want} bytes asked for`,
          { ...data, registry: client.registry },
        );
      }
      return Buffer.concat(parts, want);
    },
  };
}
