/** fast-check generators: small random layer stacks and random fs operation lists. */
import { fc } from '@fast-check/vitest';
import type { LayerSpec } from './tree.js';

const NAMES = ['a', 'b', 'c'] as const;

/** A relative path of depth 1..3 over a tiny name pool (so operations collide often). */
export const relPath = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
/** The same, absolute. */
export const absPath = relPath.map((p) => `/${p}`);

const mode = fc.constantFrom(0o755, 0o644, 0o600, 0o700, 0o4755, 0o1777, 0);
const data = fc.string({ unit: fc.constantFrom('x', 'y', '\n', 'é'), maxLength: 6 });

/**
 * Symlink targets: a sibling or a path below the link's directory; unless `relativeOnly` (used
 * on a real mount, where `..` or `/` would leave it), also `..` forms and absolute paths.
 */
export function linkTarget(options: { relativeOnly: boolean }): fc.Arbitrary<string> {
  const forms = [fc.constantFrom(...NAMES), relPath];
  if (!options.relativeOnly)
    forms.push(
      relPath.map((p) => `../${p}`),
      absPath,
      fc.constant('/'),
      fc.constant('..'),
    );
  return fc.oneof(...forms);
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** One random layer; items whose parent the same layer makes a non-directory are dropped. */
export function layerSpec(options: { relativeLinks: boolean; explicitParents: boolean }): fc.Arbitrary<LayerSpec> {
  const entry = fc.record({
    path: relPath,
    type: fc.constantFrom('file', 'directory', 'directory', 'symlink'),
    mode,
    uid: fc.constantFrom(0, 1000),
    gid: fc.constantFrom(0, 50),
    data,
    linkTarget: linkTarget({ relativeOnly: options.relativeLinks }),
  });
  return fc
    .record({
      entries: fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 6 }),
      whiteouts: fc.uniqueArray(relPath, { maxLength: 2 }),
      opaqueDirs: fc.uniqueArray(relPath, { maxLength: 1 }),
    })
    .map(({ entries, whiteouts, opaqueDirs }) => {
      const types = new Map(entries.map((e) => [e.path, e.type]));
      const okParents = (p: string): boolean =>
        ancestors(p).every((a) => (types.get(a) ?? 'directory') === 'directory');
      const kept = entries.filter((e) => okParents(e.path));
      const keptTypes = new Map(kept.map((e) => [e.path, e.type]));
      const spec: LayerSpec = {
        entries: kept.map((e) => {
          const out: LayerSpec['entries'][number] = {
            path: e.path,
            type: e.type,
            mode: e.type === 'symlink' ? 0o777 : e.mode,
            uid: e.uid,
            gid: e.gid,
          };
          if (e.type === 'file') out.data = e.data;
          if (e.type === 'symlink') out.linkTarget = e.linkTarget;
          return out;
        }),
        whiteouts: whiteouts.filter(
          (w) =>
            okParents(w) &&
            ancestors(w).every((a) => !whiteouts.includes(a)) &&
            ancestors(w).every((a) => keptTypes.get(a) !== undefined || !options.explicitParents),
        ),
        opaqueDirs: opaqueDirs.filter(
          (d) =>
            okParents(d) &&
            (keptTypes.get(d) ?? 'directory') === 'directory' &&
            (!options.explicitParents || keptTypes.get(d) === 'directory'),
        ),
      };
      if (options.explicitParents) {
        for (const e of [...spec.entries]) {
          for (const a of ancestors(e.path)) {
            if (!keptTypes.has(a)) {
              keptTypes.set(a, 'directory');
              spec.entries.push({ path: a, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
            }
          }
        }
        spec.whiteouts = spec.whiteouts!.filter((w) => ancestors(w).every((a) => keptTypes.has(a)));
      }
      return spec;
    });
}

/** One fs operation of the property tests. */
export type Op =
  | { op: 'writeFile' | 'appendFile'; path: string; data: string }
  | { op: 'truncate'; path: string; length: number }
  | { op: 'unlink' | 'rmdir' | 'rm' | 'mkdir' | 'mkdirp' | 'readFile' | 'readdir' | 'stat' | 'lstat'; path: string }
  | { op: 'rename' | 'link' | 'copyFile'; from: string; to: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chown' | 'lchown'; path: string; uid: number; gid: number };

/** A random operation list. */
export function ops(options: { relativeLinks: boolean; maxLength: number }): fc.Arbitrary<Op[]> {
  const p = absPath;
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constantFrom('writeFile', 'appendFile'), path: p, data }) as fc.Arbitrary<Op>,
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('truncate'), path: p, length: fc.nat(4) }) as fc.Arbitrary<Op>,
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constantFrom('unlink', 'rmdir', 'rm', 'mkdir', 'mkdirp', 'readFile', 'readdir', 'stat', 'lstat'),
        path: p,
      }) as fc.Arbitrary<Op>,
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constantFrom('rename', 'rename', 'link', 'copyFile'),
        from: p,
        to: p,
      }) as fc.Arbitrary<Op>,
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('symlink'),
        target: linkTarget({ relativeOnly: options.relativeLinks }),
        path: p,
      }) as fc.Arbitrary<Op>,
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('chmod'), path: p, mode }) as fc.Arbitrary<Op> },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constantFrom('chown', 'lchown'),
        path: p,
        uid: fc.constantFrom(0, 7),
        gid: fc.constantFrom(0, 8),
      }) as fc.Arbitrary<Op>,
    },
  );
  return fc.array(op, { maxLength: options.maxLength });
}

/** A random stack of 1..3 layers. */
export function stack(options: { relativeLinks: boolean; explicitParents: boolean }): fc.Arbitrary<LayerSpec[]> {
  return fc.array(layerSpec(options), { minLength: 1, maxLength: 3 });
}

/** The outcome of one operation: a value, or an error code. */
export type Outcome = { ok: unknown } | { code: string };

/** Runs `f`, turning a thrown error into its code. */
export function outcome(f: () => unknown): Outcome {
  try {
    const v = f();
    return { ok: v === undefined ? null : v };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined) throw err;
    return { code };
  }
}
