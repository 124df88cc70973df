/**
 * Content digests of COPY/ADD inputs, BuildKit-style: per entry a fingerprint of type,
 * permission bits (symlinks as 0777), owner, size, link target and the sha256 of the bytes —
 * never mtime — and for a selection the digest of the sorted (path, fingerprint) list. The
 * fingerprints are kept, so a cache miss can name the file that changed and how.
 */
import { createHash } from '#platform';
import { sha256, type Digest } from '../digest/digest.js';
import type { SourceEntry, SourceTree } from './sources.js';

/** One input's fingerprint: `type mode uid:gid size [-> link] [sha256]`. */
export type Fingerprint = string;

/** Caches file hashes for one build (the same file copied twice is read once). */
export class FingerprintCache {
  readonly #hashes = new Map<string, string>();

  /** The fingerprint of an entry of `tree`. */
  fingerprint(tree: SourceTree, entry: SourceEntry): Fingerprint {
    const mode = entry.type === 'symlink' ? 0o777 : entry.mode & 0o7777;
    let fp = `${entry.type} ${mode.toString(8)} ${entry.uid}:${entry.gid}`;
    if (entry.type === 'file') {
      const key = `${tree.label}\0${entry.path}`;
      let hash = this.#hashes.get(key);
      if (hash === undefined) {
        hash = tree.hash ? tree.hash(entry.path) : createHash('sha256').update(tree.read(entry.path)).digest('hex');
        this.#hashes.set(key, hash);
      }
      fp += ` ${entry.size} ${hash}`;
    } else if (entry.type === 'symlink') {
      fp += ` -> ${entry.linkTarget ?? ''}`;
    } else if (entry.type === 'char' || entry.type === 'block') {
      fp += ` ${entry.devmajor ?? 0},${entry.devminor ?? 0}`;
    }
    return fp;
  }
}

/** A set of inputs: path (as the step sees it) → fingerprint. */
export type InputSet = Record<string, Fingerprint>;

/** The digest of an input set (order-independent). */
export function digestInputs(inputs: InputSet): Digest {
  const keys = Object.keys(inputs).sort();
  return sha256(keys.map((k) => `${k}\0${inputs[k]}`).join('\n'));
}

/** How two fingerprints of one path differ, in words (`content`, `mode 644 → 755`, ...). */
export function describeFingerprintChange(before: Fingerprint, after: Fingerprint): string {
  const a = before.split(' ');
  const b = after.split(' ');
  if (a[0] !== b[0]) return `type ${a[0]} → ${b[0]}`;
  const parts: string[] = [];
  if (a[1] !== b[1]) parts.push(`mode ${a[1]} → ${b[1]}`);
  if (a[2] !== b[2]) parts.push(`owner ${a[2]} → ${b[2]}`);
  if (a[0] === 'file') {
    if (a[4] !== b[4]) parts.push(a[3] !== b[3] ? `content (${a[3]} → ${b[3]} bytes)` : 'content (same size)');
  } else if (a.slice(3).join(' ') !== b.slice(3).join(' ')) {
    parts.push(
      a[0] === 'symlink'
        ? `target ${a.slice(4).join(' ')} → ${b.slice(4).join(' ')}`
        : `${a.slice(3).join(' ')} → ${b.slice(3).join(' ')}`,
    );
  }
  return parts.join(', ');
}
