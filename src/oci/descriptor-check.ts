/**
 * Descriptors are checked where they enter (index.json entries, an index's manifests, a
 * manifest's config and layers): a descriptor needs a media type, a valid digest and a size
 * (a non-negative integer). A bad one is `ERR_INVALID_MANIFEST` naming the file and the field,
 * never a crash further on ("Cannot read properties of undefined").
 */
import { isDigest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor } from './types.js';

/** Options for {@link checkDescriptor}. */
export interface CheckDescriptorOptions {
  /** What holds it, for the message (`archive.tar: index.json`). */
  where: string;
  /** Where in it (`manifests[0]`, `layers[2]`, `config`). */
  field: string;
  /** Accept a missing media type (image-spec index entries written by some tools omit it). */
  mediaTypeOptional?: boolean;
}

/** Checks a descriptor's shape; returns it typed. */
export function checkDescriptor(
  value: unknown,
  { where, field, mediaTypeOptional }: CheckDescriptorOptions,
): Descriptor {
  const bad = (part: string, why: string): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, `${where}: ${part} ${why}`, {
      path: where,
      field: part,
    });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(field, 'is not a descriptor object');
  const d = value as Partial<Record<keyof Descriptor, unknown>>;
  if (d.mediaType === undefined ? !mediaTypeOptional : typeof d.mediaType !== 'string' || d.mediaType === '')
    throw bad(`${field}.mediaType`, d.mediaType === undefined ? 'is missing' : 'must be a non-empty string');
  if (typeof d.digest !== 'string')
    throw bad(`${field}.digest`, d.digest === undefined ? 'is missing' : 'must be a string');
  if (!isDigest(d.digest)) throw bad(`${field}.digest`, `${JSON.stringify(d.digest)} is not a valid digest`);
  if (d.size === undefined) throw bad(`${field}.size`, 'is missing');
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw bad(`${field}.size`, `${JSON.stringify(d.size)} must be a non-negative integer`);
  return value as Descriptor;
}
