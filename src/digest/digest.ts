/**
 * Digests in the OCI form `sha256:<64 lowercase hex>`: the one identity for blobs, layers
 * (diffIDs), configs and manifests. The SRI form (`sha256-<base64>`) appears only inside this module.
 */
import { createHash, type PlatformHash } from '#platform';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** An OCI digest, `algorithm:encoded`, validated by {@link parseDigest}. */
export type Digest = string & { readonly __brand: 'Digest' };

const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ENCODED: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** True when `value` is a digest layerkit can verify (sha256 or sha512, lowercase hex). */
export function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'string' || !GRAMMAR.test(value)) return false;
  const i = value.indexOf(':');
  const rule = ENCODED[value.slice(0, i)];
  return rule?.test(value.slice(i + 1)) === true;
}

/**
 * Validates a digest string. Throws `ERR_INVALID_DIGEST` naming the bad value; uppercase hex is
 * invalid, not equivalent (image-spec).
 */
export function parseDigest(value: string): Digest {
  if (isDigest(value)) return value;
  throw new LayerkitError(
    ErrorCodes.ERR_INVALID_DIGEST,
    `invalid digest ${JSON.stringify(value)}: expected sha256:<64 lowercase hex>`,
    { digest: value },
  );
}

/** The algorithm part of a digest (`sha256`). */
export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The encoded (hex) part of a digest. */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** sha256 of some bytes or a string (UTF-8), as a digest. */
export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** An incremental sha256 that counts bytes too. */
export class Digester {
  readonly #hash: PlatformHash;
  #size = 0;

  constructor(algorithm: 'sha256' | 'sha512' = 'sha256') {
    this.#hash = createHash(algorithm);
    this.algorithm = algorithm;
  }

  readonly algorithm: 'sha256' | 'sha512';

  /** Feeds bytes. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  /** Bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /** The digest of everything fed; call once. */
  digest(): Digest {
    return `${this.algorithm}:${this.#hash.digest('hex')}` as Digest;
  }
}

/** Converts an OCI digest to a Subresource Integrity string (`sha256-<base64>`), as npm and cacache use. */
export function digestToSri(digest: Digest): string {
  return `${digestAlgorithm(digest)}-${Buffer.from(digestHex(digest), 'hex').toString('base64')}`;
}

const SRI_HASH = /^(sha256|sha512)-([A-Za-z0-9+/]+={0,2})(?:\?[\x21-\x7e]*)?$/;
const SRI_BYTES: Record<string, number> = { sha256: 32, sha512: 64 };

/**
 * Converts an SRI string to an OCI digest, taking its first sha256 hash, else its first sha512
 * (SRI strings are whitespace-separated hashes, each `algorithm-base64[?options]`; others are skipped).
 */
export function sriToDigest(sri: string): Digest {
  const hashes = sri
    .trim()
    .split(/\s+/)
    .map((token) => SRI_HASH.exec(token))
    .filter((m) => m !== null)
    .map(([, algorithm, base64]) => ({ algorithm: algorithm!, bytes: Buffer.from(base64!, 'base64') }))
    .filter((h) => h.bytes.length === SRI_BYTES[h.algorithm]);
  const hash = hashes.find((h) => h.algorithm === 'sha256') ?? hashes.find((h) => h.algorithm === 'sha512');
  if (hash) return parseDigest(`${hash.algorithm}:${hash.bytes.toString('hex')}`);
  throw new LayerkitError(ErrorCodes.ERR_INVALID_DIGEST, `invalid SRI ${JSON.stringify(sri)}`, { sri });
}

/**
 * The ChainID of a stack of diffIDs (image-spec config.md): ChainID(L0) = DiffID(L0),
 * ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(n)).
 */
export function chainId(diffIds: readonly Digest[]): Digest | undefined {
  let chain: Digest | undefined;
  for (const diffId of diffIds) chain = chain === undefined ? diffId : sha256(`${chain} ${diffId}`);
  return chain;
}
