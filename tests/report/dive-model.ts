/**
 * A model of how dive (wagoodman/dive d6c69194, `filetree/efficiency.go`) measures waste, from
 * /work/shared/reference/peers-and-security.md §6, so tests can show where its numbers go wrong:
 * - per layer, the *leaf* nodes of that layer's own tree (files, links, empty directories and
 *   whiteouts, a whiteout keyed by the path it deletes; opaque markers skipped);
 * - a whiteout's size: what it deleted in the stack below (whiteouts applied, opaque ignored):
 *   the sum of sizes below a directory, 0 for a file;
 * - efficiency = Σ_path min(size) / Σ_path Σ sizes;
 * - wasted (released, dive#684) = Σ over paths seen ≥ 2 times of Σ sizes;
 * - wasted (the fix of PR#685) = Σ over those paths of (Σ sizes − min).
 */
import type { LayerReader } from '../../src/low-level.js';

export interface DiveNumbers {
  efficiency: number;
  wastedReleased: number;
  wastedFixed: number;
}

function parentsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

export function diveModel(layers: readonly LayerReader[]): DiveNumbers {
  const stats = new Map<string, { total: number; min: number; count: number }>();
  /** The stack below the current layer: path → size (files) or -1 (directories). */
  const stack = new Map<string, number>();
  for (const layer of layers) {
    const nodes = new Map<string, { size: number }>();
    for (const e of layer.entries()) if (e.path !== '') nodes.set(e.path, { size: e.type === 'file' ? e.size : 0 });
    for (const w of layer.whiteouts()) {
      const below = stack.get(w);
      let size = 0;
      if (below === -1) for (const [p, s] of stack) if (p.startsWith(`${w}/`) && s > 0) size += s;
      nodes.set(w, { size });
    }
    const hasChild = new Set<string>();
    for (const p of nodes.keys()) for (const a of parentsOf(p)) hasChild.add(a);
    for (const [p, n] of nodes) {
      if (hasChild.has(p)) continue;
      const s = stats.get(p) ?? { total: 0, min: Number.POSITIVE_INFINITY, count: 0 };
      s.total += n.size;
      s.min = Math.min(s.min, n.size);
      s.count++;
      stats.set(p, s);
    }
    // Apply the layer to the stack: whiteouts (no opaque directories), then entries.
    for (const w of layer.whiteouts())
      for (const p of [...stack.keys()]) if (p === w || p.startsWith(`${w}/`)) stack.delete(p);
    for (const e of layer.entries()) {
      if (e.path === '') continue;
      for (const a of parentsOf(e.path)) if (!stack.has(a)) stack.set(a, -1);
      stack.set(e.path, e.type === 'directory' ? -1 : e.type === 'file' ? e.size : 0);
    }
  }
  let sumMin = 0;
  let sumTotal = 0;
  let released = 0;
  let fixed = 0;
  for (const s of stats.values()) {
    sumMin += s.min;
    sumTotal += s.total;
    if (s.count >= 2) {
      released += s.total;
      fixed += s.total - s.min;
    }
  }
  return { efficiency: sumTotal === 0 ? 1 : sumMin / sumTotal, wastedReleased: released, wastedFixed: fixed };
}
