/**
 * Listing a repository's tags (`GET /v2/<name>/tags/list`), page by page as the distribution spec
 * describes: `n` per page, the next page from the `Link: <…>; rel="next"` header (only on the
 * registry's own origin), and, for registries that page without a Link, `last=` the final tag of
 * a full page until a page adds nothing new. distribution 2.8 ignores `n` and returns the tags
 * unsorted (reference §2.6), so the result is sorted here, lexically, as the spec orders them.
 */
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { header, openRegistry, statusError, type RegistryClient, type RegistryOptions } from './client.js';
import { apiHost, parseRegistryReference } from './reference.js';

/** Tags per page (ECR refuses more than 1000; ggcr uses 1000 too). */
export const TAGS_PAGE_SIZE = 1000;

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_PAGES = 10_000;
const PAGE_LIMIT = 8 << 20;

/** Options for {@link listTags}. */
export interface ListTagsOptions extends RegistryOptions {
  /** The repository (`127.0.0.1:5000/app`, `alpine`); a tag or digest in it is ignored. */
  ref: string;
  /** Tags asked for per page (default {@link TAGS_PAGE_SIZE}). */
  pageSize?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Every tag of a repository, sorted.
 * @example const tags = await listTags({ ref: '127.0.0.1:5000/app' });
 * @throws `ERR_NOT_FOUND` (no such repository), `ERR_REGISTRY` (a bad answer: not JSON, an invalid
 *   tag, a next page on another host), `ERR_REGISTRY_AUTH`, `ERR_REGISTRY_TLS`, `ERR_ABORTED`.
 */
export async function listTags(options: ListTagsOptions): Promise<string[]> {
  const ref = parseRegistryReference(options.ref);
  const client = await openRegistry({ ...options, registry: ref.registry, host: apiHost(ref.registry) });
  try {
    return await listWith(client, ref.repository, options);
  } finally {
    await client.close();
  }
}

async function listWith(client: RegistryClient, repository: string, options: ListTagsOptions): Promise<string[]> {
  const n = options.pageSize ?? TAGS_PAGE_SIZE;
  const what = `the tags of ${client.registry}/${repository}`;
  const first = `/v2/${repository}/tags/list?n=${n}`;
  const origin = await client.origin(options.signal);
  const seen = new Set<string>();
  let url: URL | undefined = new URL(first, origin);
  for (let page = 0; url !== undefined; page++) {
    throwIfAborted(options.signal);
    if (page >= MAX_PAGES) throw bad(client, `${what}: more than ${MAX_PAGES} pages`);
    const res = await client.send({
      method: 'GET',
      url: url.toString(),
      headers: { accept: 'application/json' },
      scopes: [`repository:${repository}:pull`],
      what,
      signal: options.signal,
    });
    if (res.status === 404) {
      await res.body.dump().catch(() => undefined);
      throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${what}: ${client.registry} has no repository ${repository}`, {
        registry: client.registry,
        ref: `${client.registry}/${repository}`,
      });
    }
    if (res.status !== 200) throw await statusError(client, res, what, { ref: `${client.registry}/${repository}` });
    const tags = parsePage(client, what, await readText(res.body, what));
    const before = seen.size;
    for (const tag of tags) seen.add(tag);
    const link = nextLink(header(res, 'link'), url);
    if (link !== undefined) {
      if (link.origin !== origin.origin)
        throw bad(client, `${what}: the next page is on another host (${link.origin}); not following it`);
      url = link;
    } else if (tags.length >= n && seen.size > before) {
      // A full page and no Link: ask for what follows the last tag (a registry that ignores
      // `last` answers the same tags again, which ends the loop).
      url = new URL(`/v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(tags[tags.length - 1]!)}`, origin);
    } else {
      url = undefined;
    }
  }
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function parsePage(client: RegistryClient, what: string, text: string): string[] {
  let body: { tags?: unknown };
  try {
    body = JSON.parse(text) as { tags?: unknown };
  } catch {
    throw bad(client, `${what}: the answer is not JSON`);
  }
  // distribution answers `"tags": null` for a repository whose tags were all deleted.
  if (body.tags === null || body.tags === undefined) return [];
  if (!Array.isArray(body.tags)) throw bad(client, `${what}: "tags" is not a list`);
  for (const tag of body.tags)
    if (typeof tag !== 'string' || !TAG.test(tag))
      throw bad(client, `${what}: the registry listed an invalid tag ${JSON.stringify(tag).slice(0, 140)}`);
  return body.tags as string[];
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(value: string | undefined, base: URL): URL | undefined {
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2]!)?.[1];
    if (rel?.split(/\s+/).includes('next')) {
      try {
        return new URL(m[1]!, base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

async function readText(body: AsyncIterable<Buffer>, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > PAGE_LIMIT)
      throw new LayerkitError(ErrorCodes.ERR_LIMIT_EXCEEDED, `${what}: a page is larger than ${PAGE_LIMIT} bytes`, {
        limit: PAGE_LIMIT,
      });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function bad(client: RegistryClient, message: string): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_REGISTRY, message, { registry: client.registry });
}
