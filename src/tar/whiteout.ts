/**
 * OCI whiteout names (image-spec layer.md): `<dir>/.wh.<name>` deletes `<dir>/<name>` from lower
 * layers, `<dir>/.wh..wh..opq` makes `<dir>` opaque. Other `.wh..wh.*` names are AUFS metadata
 * that moby skips. The tar reader keeps these names as-is; this module says what they mean.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { quoteName } from './name-encoding.js';
import { baseName, joinPath, parentPath } from './path.js';

/** The prefix of every whiteout name. */
export const WHITEOUT_PREFIX = '.wh.';
/** The basename that marks its directory opaque. */
export const OPAQUE_MARKER = '.wh..wh..opq';
/** The prefix of AUFS metadata names (`.wh..wh.plnk`, `.wh..wh.aufs`), which are not whiteouts. */
export const AUFS_META_PREFIX = '.wh..wh.';

/** What a whiteout-shaped path means. */
export type WhiteoutKind =
  | { kind: 'whiteout' /** The path it deletes from lower layers. */; target: string }
  | { kind: 'opaque' /** The directory it makes opaque (`''` is the root). */; dir: string }
  | { kind: 'aufs-meta' };

/**
 * Classifies a normalised entry path: a whiteout (with the path it deletes), an opaque marker
 * (with its directory), AUFS metadata (any `.wh..wh.*` name other than the opaque marker, and
 * anything below a `.wh..wh.*` directory such as `.wh..wh.plnk/`), or `undefined` for an
 * ordinary entry.
 *
 * @throws `ERR_LAYER_FORMAT` for `.wh.` with nothing after it, `.wh..` and `.wh...` (they would
 *   delete the directory itself or its parent; moby refuses all three).
 */
export function classifyWhiteout(path: string): WhiteoutKind | undefined {
  if (!path.includes(WHITEOUT_PREFIX)) return undefined;
  const base = baseName(path);
  const dir = parentPath(path);
  if (dir !== '' && isUnderAufsMeta(dir)) return { kind: 'aufs-meta' };
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'aufs-meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw new LayerkitError(
      ErrorCodes.ERR_LAYER_FORMAT,
      `whiteout ${quoteName(path)} has an invalid name: '${WHITEOUT_PREFIX}' must be followed by the name of an entry, not ${name === '' ? 'nothing' : `'${name}'`}; the layer is broken or malicious`,
      { path },
    );
  }
  return { kind: 'whiteout', target: joinPath(dir, name) };
}

function isUnderAufsMeta(dir: string): boolean {
  let start = 0;
  while (start <= dir.length) {
    if (dir.startsWith(AUFS_META_PREFIX, start)) return true;
    const next = dir.indexOf('/', start);
    if (next < 0) return false;
    start = next + 1;
  }
  return false;
}

/**
 * The whiteout entry path that deletes `target` (`'a/b'` → `'a/.wh.b'`).
 *
 * @throws `ERR_UNSAFE_PATH` for the root (`''`), which cannot be whited out (make the root opaque
 *   with {@link opaqueMarkerFor} instead); `ERR_LAYER_FORMAT` when the target's own name starts
 *   with `.wh.` (such names are reserved and its whiteout would be ambiguous).
 */
export function whiteoutPathFor(target: string): string {
  if (target === '') {
    throw new LayerkitError(
      ErrorCodes.ERR_UNSAFE_PATH,
      `cannot write a whiteout for the layer root; use an opaque marker ('${OPAQUE_MARKER}') to hide everything below it`,
      { path: target },
    );
  }
  const base = baseName(target);
  if (base.startsWith(WHITEOUT_PREFIX)) {
    throw new LayerkitError(
      ErrorCodes.ERR_LAYER_FORMAT,
      `cannot write a whiteout for ${quoteName(target)}: names starting with '${WHITEOUT_PREFIX}' are reserved for whiteouts`,
      { path: target },
    );
  }
  return joinPath(parentPath(target), WHITEOUT_PREFIX + base);
}

/** The opaque-marker entry path for directory `dir` (`'a'` → `'a/.wh..wh..opq'`). */
export function opaqueMarkerFor(dir: string): string {
  return joinPath(dir, OPAQUE_MARKER);
}
