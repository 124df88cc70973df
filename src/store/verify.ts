/**
 * `verify`: re-hash every blob and check that everything `index.json` reaches is present with the
 * size its descriptor states. Reports every problem; never stops at the first, never changes the store.
 */
import type { Digest } from '../digest/digest.js';
import { LayerkitError, throwIfAborted } from '../errors.js';
import type { Store } from './store.js';
import { walkGraph } from './walk.js';

/** One problem `verify` found. */
export interface VerifyProblem {
  /** `EINTEGRITY`, `EBADSIZE`, `ERR_NOT_FOUND`, `ERR_INVALID_MANIFEST`... */
  code: string;
  digest?: Digest;
  /** The damaged state file (`ERR_STORE_CORRUPT`). */
  path?: string;
  /** What referenced the blob (a digest, or `index.json`). */
  referencedBy?: string;
  message: string;
}

/** What `verify` checked and found. */
export interface VerifyReport {
  checkedBlobs: number;
  problems: VerifyProblem[];
}

/** Options for {@link verifyBlobs}. */
export interface VerifyOptions {
  store: Store;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Re-hashes every blob and checks the graph reachable from `index.json`. */
export async function verifyBlobs({ store, signal, onProgress }: VerifyOptions): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const all = store.blobs.list();
  let done = 0;
  for (const digest of all) {
    throwIfAborted(signal);
    const problem = await store.blobs.check(digest);
    if (problem) problems.push({ code: problem.code, digest, message: problem.message });
    onProgress?.(++done, all.length);
  }
  let index;
  try {
    index = store.readIndex();
  } catch (err) {
    problems.push({ code: (err as LayerkitError).code ?? 'ERR_STORE_CORRUPT', message: (err as Error).message });
    return { checkedBlobs: all.length, problems };
  }
  const corrupt = new Set(problems.map((p) => p.digest));
  await walkGraph({
    blobs: store.blobs,
    roots: index.manifests.map((descriptor) => ({ descriptor, parent: 'index.json' })),
    visit: ({ descriptor, parent }) => {
      const stat = store.blobs.stat(descriptor.digest);
      if (stat === undefined) {
        problems.push({
          code: 'ERR_NOT_FOUND',
          digest: descriptor.digest,
          referencedBy: parent,
          message: `blob ${descriptor.digest} (${descriptor.mediaType}) referenced by ${parent} is missing`,
        });
        return false;
      }
      if (stat.size !== descriptor.size) {
        problems.push({
          code: 'EBADSIZE',
          digest: descriptor.digest,
          referencedBy: parent,
          message: `blob ${descriptor.digest} is ${stat.size} bytes but ${parent} says ${descriptor.size}`,
        });
        return false;
      }
      return !corrupt.has(descriptor.digest);
    },
    onError: (descriptor, err) => {
      problems.push({
        code: err instanceof LayerkitError ? err.code : 'ERR_INVALID_MANIFEST',
        digest: descriptor.digest,
        message: (err as Error).message,
      });
    },
  });
  return { checkedBlobs: all.length, problems };
}
