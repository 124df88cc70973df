/**
 * Which build contexts are remote, as BuildKit recognises them (git repositories, HTTP(S)
 * tarballs), and their URLs as messages show them (without user and password): apart from the
 * fetching in ./remote-context.ts, so that parsing a command line loads no tar reader.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';

/** A context to fetch. */
export type RemoteContext =
  | { kind: 'git'; url: string; ref: string | undefined; subdir: string | undefined }
  | { kind: 'http'; url: string };

/** The URL without its user and password (`https://host/x`), for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * Recognises a remote context as BuildKit does: `git://`, `ssh://`, `git@host:path`, `file://`
 * and HTTP(S) URLs whose path ends in `.git` (with an optional `#REF[:SUBDIR]`) are git
 * repositories (`?ref=&subdir=` may stand for the fragment, as in BuildKit); other HTTP(S) URLs
 * are tarballs (or one file). Anything else is undefined.
 */
export function parseRemoteContext(value: string): RemoteContext | undefined {
  const hash = value.indexOf('#');
  const withQuery = hash < 0 ? value : value.slice(0, hash);
  const fragment = hash < 0 ? undefined : value.slice(hash + 1);
  const q = withQuery.indexOf('?');
  const base = q < 0 ? withQuery : withQuery.slice(0, q);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  const isGit =
    scheme === 'git' ||
    scheme === 'ssh' ||
    scheme === 'git+ssh' ||
    scheme === 'file' ||
    /^[a-z0-9_.-]+@[^:/]+:/i.test(value) ||
    ((scheme === 'http' || scheme === 'https') && /\.git\/?$/.test(base));
  if (isGit) {
    const colon = fragment?.indexOf(':') ?? -1;
    let ref = fragment === undefined ? undefined : colon < 0 ? fragment : fragment.slice(0, colon);
    let subdir = fragment === undefined || colon < 0 ? undefined : fragment.slice(colon + 1);
    // BuildKit's query form: `?ref=` (or `tag=`, `branch=`) and `subdir=`, instead of the fragment.
    if (q >= 0) {
      const params = new URLSearchParams(withQuery.slice(q + 1));
      const fromQuery = params.get('ref') ?? params.get('tag') ?? params.get('branch') ?? undefined;
      if (fragment !== undefined && (fromQuery !== undefined || params.has('subdir')))
        throw new LayerkitError(
          ErrorCodes.ERR_USAGE,
          `git context ${redactUrl(value)}: give the ref and folder either as #REF:SUBDIR or as ?ref=&subdir=, not both`,
          { url: redactUrl(value) },
        );
      ref = fromQuery ?? ref;
      subdir = params.get('subdir') ?? subdir;
    }
    return { kind: 'git', url: base, ref: ref || undefined, subdir: subdir || undefined };
  }
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url: value };
  return undefined;
}
