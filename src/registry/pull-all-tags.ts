/**
 * `docker pull --all-tags REPO`: every tag of a repository, listed (tags.ts), then pulled one
 * after another into the store, each under its own name (`REPO:TAG`). Blobs that several tags
 * share are downloaded once (the store has them by the next pull). Each tag's pull is whole or
 * nothing, as a single pull is; a failure stops there, names the tag, and keeps the tags pulled
 * before it, as docker does.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import { pullImage, type PullImageOptions, type PullResult } from './pull.js';
import { listTags } from './tags.js';

/** Options for {@link pullAllTags}. */
export interface PullAllTagsOptions extends Omit<PullImageOptions, 'tag' | 'tags'> {
  /** The repository, without a tag or digest (`127.0.0.1:5000/app`, `alpine`). */
  ref: string;
  /** Called after each tag is pulled. */
  onTag?: ((result: PullResult) => void) | undefined;
}

/** What {@link pullAllTags} did. */
export interface PullAllTagsResult {
  /** The repository's tags, sorted: what was pulled, in order. */
  tags: string[];
  /** One pull per tag. */
  pulls: PullResult[];
  /** Blob bytes moved over the network, all tags together. */
  bytesDownloaded: number;
}

/**
 * Pulls every tag of a repository.
 * @example const { tags } = await pullAllTags({ store, ref: '127.0.0.1:5000/app' });
 * @throws `ERR_USAGE` (a tag or digest in `ref`), `ERR_NOT_FOUND` (no such repository, or no
 *   tags), and what {@link pullImage} throws, with the tag named.
 */
export async function pullAllTags(options: PullAllTagsOptions): Promise<PullAllTagsResult> {
  const { onTag, ...rest } = options;
  const parsed = parseReference(options.ref);
  if (parsed.tag !== undefined || parsed.digest !== undefined)
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `${options.ref}: --all-tags pulls every tag of a repository; name the repository without a tag or digest`,
      { ref: options.ref },
    );
  const tags = await listTags(rest);
  if (tags.length === 0)
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${options.ref}: the repository has no tags`, {
      ref: options.ref,
    });
  const pulls: PullResult[] = [];
  for (const tag of tags) {
    const result = await pullImage({ ...rest, ref: `${options.ref}:${tag}` });
    pulls.push(result);
    onTag?.(result);
  }
  return { tags, pulls, bytesDownloaded: pulls.reduce((n, p) => n + p.bytesDownloaded, 0) };
}
