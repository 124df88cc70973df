/**
 * The inline SVG drawings of the HTML explain report: the layer stack to scale, the efficiency
 * gauge and the stage graph. Pure string builders; every text goes through {@link escapeHtml}.
 */
import { ellipsis, formatPercent, formatSize, oneLine } from './format.js';
import type { BuildAnalysis, CacheStatus, LayerAnalysis, StageNode } from './types.js';

/** Escapes text for HTML and SVG (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The fill colour (a CSS variable) of a layer by where it came from in the last build. */
export function cacheColor(cache: CacheStatus | undefined): string {
  return cache === 'hit'
    ? 'var(--hit)'
    : cache === 'miss'
      ? 'var(--miss)'
      : cache === 'base'
        ? 'var(--base)'
        : 'var(--none)';
}

const ROW = 34;
const GAP = 8;
const BAR_X = 64;
const BAR_W = 520;

/**
 * The layer stack, top layer first, one bar per layer whose length is proportional to the
 * layer's bytes of file data (the largest layer spans the full width); the part of each bar that
 * no final path reads is hatched red, at its true proportion. Each bar links to its layer's files.
 */
export function stackSvg(layers: readonly LayerAnalysis[]): string {
  const largest = Math.max(1, ...layers.map((l) => l.size));
  const top = 8;
  const axisY = top + layers.length * (ROW + GAP) + 4;
  const height = axisY + 34;
  const parts: string[] = [];
  parts.push(
    `<svg class="stack" viewBox="0 0 1000 ${height}" width="100%" role="img" aria-label="Layer stack, bars to scale" xmlns="http://www.w3.org/2000/svg">`,
    // Wasted bytes: red stripes over the layer's own colour, so its origin still shows.
    `<defs>${(['hit', 'miss', 'base', 'none'] as const).map((k) => `<pattern id="hatch-${k}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="var(--${k})"/><rect width="4" height="8" fill="var(--waste)"/></pattern>`).join('')}</defs>`,
  );
  [...layers].reverse().forEach((l, row) => {
    const y = top + row * (ROW + GAP);
    const w = l.size === 0 ? 0 : Math.max(3, (l.size / largest) * BAR_W);
    const wasted = l.size === 0 ? 0 : (Math.min(l.wastedBytes, l.size) / l.size) * w;
    const label = oneLine(l.createdBy) || '(no history entry)';
    const tip = `#${l.index} ${label}\n${formatSize(l.size, ' ')} of file data, ${formatSize(l.compressedSize, ' ')} stored${l.wastedBytes > 0 ? `, ${formatSize(l.wastedBytes, ' ')} not visible in the final tree` : ''}${l.cache ? `\ncache: ${l.cache}` : ''}`;
    parts.push(`<a href="#layer-${l.index}" class="bar" data-layer="${l.index}"><title>${escapeHtml(tip)}</title>`);
    parts.push(`<rect class="track" x="2" y="${y - 3}" width="996" height="${ROW + 6}" rx="8"/>`);
    parts.push(
      `<text x="14" y="${y + ROW / 2 + 5}" font-size="14" font-weight="700" fill="var(--muted)" class="mono">#${l.index}</text>`,
    );
    parts.push(`<rect x="${BAR_X}" y="${y}" width="${BAR_W}" height="${ROW}" rx="6" fill="var(--soft)"/>`);
    if (w > 0) {
      parts.push(
        `<rect class="kept" x="${BAR_X}" y="${y}" width="${(w - wasted).toFixed(2)}" height="${ROW}" rx="6" fill="${cacheColor(l.cache)}"/>`,
      );
      if (wasted > 0)
        parts.push(
          `<rect class="wasted" x="${(BAR_X + w - wasted).toFixed(2)}" y="${y}" width="${wasted.toFixed(2)}" height="${ROW}" rx="${wasted > 12 ? 6 : 0}" fill="url(#hatch-${l.cache === 'hit' || l.cache === 'miss' || l.cache === 'base' ? l.cache : 'none'})"/>`,
        );
    } else {
      parts.push(`<circle cx="${BAR_X + 6}" cy="${y + ROW / 2}" r="4" fill="${cacheColor(l.cache)}"/>`);
    }
    parts.push(
      `<text x="${BAR_X + BAR_W + 14}" y="${y + ROW / 2 - 2}" font-size="13" font-weight="650" fill="var(--ink)">${escapeHtml(formatSize(l.size, ' '))}${l.duplicateOf !== undefined ? ` <tspan fill="var(--mod)" font-weight="500">same as #${l.duplicateOf}</tspan>` : ''}</text>`,
    );
    parts.push(
      `<text x="${BAR_X + BAR_W + 14}" y="${y + ROW / 2 + 13}" font-size="11.5" fill="var(--muted)" class="mono">${escapeHtml(ellipsis(label, 56))}</text>`,
    );
    parts.push('</a>');
  });
  // The scale: 0, a quarter, half, three quarters and the largest layer.
  parts.push(
    `<line x1="${BAR_X}" y1="${axisY}" x2="${BAR_X + BAR_W}" y2="${axisY}" stroke="var(--line)" stroke-width="1.5"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const x = BAR_X + (BAR_W * i) / 4;
    parts.push(`<line x1="${x}" y1="${axisY}" x2="${x}" y2="${axisY + 6}" stroke="var(--muted)"/>`);
    parts.push(
      `<text x="${x}" y="${axisY + 22}" font-size="11" fill="var(--muted)" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${escapeHtml(formatSize(Math.round((largest * i) / 4), ' '))}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** A ring gauge of the efficiency (green when high, amber, red when low). */
export function gaugeSvg(efficiency: number): string {
  const r = 34;
  const c = 2 * Math.PI * r;
  const color = efficiency >= 0.9 ? 'var(--ok)' : efficiency >= 0.6 ? 'var(--miss)' : 'var(--waste)';
  return [
    '<svg class="gauge" width="88" height="88" viewBox="0 0 88 88" role="img" aria-label="efficiency" xmlns="http://www.w3.org/2000/svg">',
    `<circle cx="44" cy="44" r="${r}" fill="none" stroke="var(--soft)" stroke-width="10"/>`,
    `<circle cx="44" cy="44" r="${r}" fill="none" stroke="${color}" stroke-width="10" stroke-linecap="round" stroke-dasharray="${(c * efficiency).toFixed(2)} ${c.toFixed(2)}" transform="rotate(-90 44 44)"/>`,
    `<text x="44" y="49" text-anchor="middle" font-size="15" font-weight="700" fill="var(--ink)">${escapeHtml(formatPercent(efficiency))}</text>`,
    '</svg>',
  ].join('');
}

const NODE_W = 210;
const NODE_H = 74;
const COL = 290;
const ROW_H = 104;
/** Room above the first row for edges that arch over a column. */
const ARCH = 44;

/**
 * The stage graph: stages in columns by depth (a stage sits right of every stage it depends
 * on), FROM edges solid, `COPY --from` edges dashed, skipped stages dashed and faded, the target
 * outlined in the accent colour.
 */
export function stageGraphSvg(build: BuildAnalysis): string {
  const byId = new Map(build.stages.map((s) => [s.stage, s]));
  const depth = new Map<string, number>();
  const depthOf = (s: StageNode, seen: Set<string>): number => {
    const known = depth.get(s.stage);
    if (known !== undefined) return known;
    let d = 0;
    for (const e of build.edges) {
      if (e.to !== s.stage || seen.has(e.from)) continue;
      const from = byId.get(e.from);
      if (from) d = Math.max(d, depthOf(from, new Set([...seen, s.stage])) + 1);
    }
    depth.set(s.stage, d);
    return d;
  };
  const columns = new Map<number, StageNode[]>();
  for (const s of build.stages) {
    const d = depthOf(s, new Set());
    columns.set(d, [...(columns.get(d) ?? []), s]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  const arches = build.edges.some((e) => {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    return from !== undefined && to !== undefined && depthOf(to, new Set()) - depthOf(from, new Set()) > 1;
  });
  const top = arches ? 16 + ARCH + 12 : 16;
  for (const [d, list] of columns) {
    list.forEach((s, i) => {
      pos.set(s.stage, { x: 16 + d * COL, y: top + i * ROW_H });
    });
  }
  const width = 32 + Math.max(0, ...columns.keys()) * COL + NODE_W;
  const height = top + 16 + Math.max(1, ...[...columns.values()].map((l) => l.length)) * ROW_H - (ROW_H - NODE_H);
  const parts: string[] = [
    `<svg class="stages" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Stage graph" xmlns="http://www.w3.org/2000/svg">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="var(--muted)"/></marker>',
    '<marker id="arrow-copy" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="var(--hit)"/></marker></defs>',
  ];
  for (const e of build.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    let d: string;
    if (b.x - a.x > COL) {
      // Skipping a column: arch over the nodes between, top to top.
      const x1 = a.x + NODE_W - (e.kind === 'copy' ? 24 : 48);
      const x2 = b.x + (e.kind === 'copy' ? 48 : 24);
      const lift = Math.min(a.y, b.y) - ARCH - (e.kind === 'copy' ? 8 : 0);
      d = `M${x1},${a.y} C${x1},${lift} ${x2},${lift} ${x2},${b.y - 2}`;
    } else {
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2 + (e.kind === 'copy' ? 10 : -6);
      const x2 = b.x - 2;
      const y2 = b.y + NODE_H / 2 + (e.kind === 'copy' ? 10 : -6);
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
    }
    const dash = e.kind === 'copy' ? ' stroke-dasharray="6 5"' : '';
    const color = e.kind === 'copy' ? 'var(--hit)' : 'var(--muted)';
    parts.push(
      `<path class="edge ${e.kind}" d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash} marker-end="url(#${e.kind === 'copy' ? 'arrow-copy' : 'arrow'})"><title>${escapeHtml(`${e.to} ${e.kind === 'copy' ? 'copies from' : 'starts FROM'} ${e.from}`)}</title></path>`,
    );
  }
  for (const s of build.stages) {
    const p = pos.get(s.stage)!;
    const skipped = s.status === 'skipped';
    const stroke = s.target ? 'var(--accent)' : 'var(--line)';
    const base = s.base === undefined ? 'FROM ?' : 'stage' in s.base ? `FROM ${s.base.stage}` : `FROM ${s.base.image}`;
    const c = s.counts;
    const status = skipped
      ? `skipped · ${c.skipped} step${c.skipped === 1 ? '' : 's'} not run`
      : `${c.cached} cached · ${c.built} built · ${c.config} config`;
    parts.push(
      `<g class="stage ${s.status}${s.target ? ' target' : ''}" data-stage="${escapeHtml(s.stage)}"${skipped ? ' opacity=".6"' : ''}><title>${escapeHtml(`${s.stage}${s.target ? ' (target)' : ''}: ${s.status}; ${base}${s.copyFrom.length > 0 ? `; COPY --from ${s.copyFrom.join(', ')}` : ''}`)}</title>`,
    );
    parts.push(
      `<rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="10" fill="var(--panel)" stroke="${stroke}" stroke-width="${s.target ? 3 : 1.5}"${skipped ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(
      `<rect x="${p.x}" y="${p.y}" width="6" height="${NODE_H}" rx="3" fill="${skipped ? 'var(--config)' : s.counts.built > 0 ? 'var(--miss)' : 'var(--hit)'}"/>`,
    );
    parts.push(
      `<text x="${p.x + 16}" y="${p.y + 22}" font-size="14" font-weight="700" fill="var(--ink)">${escapeHtml(ellipsis(s.stage, 20))}${s.target ? ' <tspan font-size="11" fill="var(--accent)" font-weight="700">TARGET</tspan>' : ''}</text>`,
    );
    parts.push(
      `<text x="${p.x + 16}" y="${p.y + 42}" font-size="11.5" fill="var(--muted)" class="mono">${escapeHtml(ellipsis(base, 28))}</text>`,
    );
    parts.push(
      `<text x="${p.x + 16}" y="${p.y + 60}" font-size="11.5" fill="var(--muted)">${escapeHtml(status)}</text>`,
    );
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}
