/**
 * Image references (`[registry/]name[:tag][@digest]`), parsed and normalised the way the docker
 * CLI and containerd do (distribution/reference), so that `alpine`, `alpine:latest` and
 * `docker.io/library/alpine:latest` name the same image.
 */
import { isDigest, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** A parsed image reference. */
export interface Reference {
  /** Registry host, `docker.io` when none is given. */
  domain: string;
  /** Repository path, with `library/` for single-component Docker Hub names. */
  path: string;
  /** The tag, when one was given. */
  tag?: string;
  /** The digest, when one was given. */
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DOMAIN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*(?::[0-9]+)?$|^\[[0-9A-Fa-f:]+\](?::[0-9]+)?$/;

/** True when `value` is a valid tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`). */
export function isValidTag(value: string): boolean {
  return TAG.test(value);
}

/**
 * Parses an image reference. Throws `ERR_INVALID_REFERENCE` with the reason.
 * @example parseReference('alpine') // { domain: 'docker.io', path: 'library/alpine' }
 */
export function parseReference(input: string): Reference {
  const fail = (why: string): never => {
    throw new LayerkitError(ErrorCodes.ERR_INVALID_REFERENCE, `invalid reference ${JSON.stringify(input)}: ${why}`, {
      reference: input,
    });
  };
  if (input.length === 0) fail('it is empty');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) fail(`${JSON.stringify(d)} is not a sha256 digest`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) fail(`${JSON.stringify(tag)} is not a valid tag`);
  }
  if (rest.length === 0) fail('the name is empty');
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first === 'localhost' || first.includes('.') || first.includes(':') || first !== first.toLowerCase()) {
      domain = first === 'index.docker.io' ? 'docker.io' : first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(first)) fail(`${JSON.stringify(first)} is not a valid registry host`);
    }
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component))
      fail(`${JSON.stringify(component)} is not a valid name component (lowercase letters, digits, separators)`);
  }
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The fully qualified form: `docker.io/library/alpine:latest` (`:latest` added when neither tag nor digest is given). */
export function normalizeReference(input: string): string {
  const ref = parseReference(input);
  let out = `${ref.domain}/${ref.path}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  else if (ref.digest === undefined) out += ':latest';
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/**
 * The short form the docker CLI shows (`alpine:latest`, `localhost/app:1`), with `:latest`
 * added when neither tag nor digest is given. This is what layerkit writes into `index.json`.
 */
export function familiarReference(input: string): string {
  const ref = parseReference(input);
  let name = ref.domain === 'docker.io' ? ref.path.replace(/^library\//, '') : `${ref.domain}/${ref.path}`;
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  else if (ref.digest === undefined) name += ':latest';
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}
