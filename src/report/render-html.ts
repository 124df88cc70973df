/**
 * `layerkit explain --html`: the analysis as one self-contained page (inline CSS, JS and SVG; a
 * Content-Security-Policy that forbids loading anything), meant to be looked at: summary cards
 * with an efficiency gauge, the layer stack drawn to scale, each layer's added, modified and
 * deleted files, the wasted-space table, the last build's cache hits and misses with their
 * reasons, and the stage graph.
 */
import { formatWarning } from '../builder/events.js';
import { formatDuration, formatPercent, formatSize, oneLine, shortDigest } from './format.js';
import { reasonLines } from './reason-lines.js';
import { REPORT_CSS, REPORT_JS } from './html-assets.js';
import { cacheColor, escapeHtml as h, gaugeSvg, stackSvg, stageGraphSvg } from './html-svg.js';
import type { BuildAnalysis, FileChange, ImageAnalysis, LayerAnalysis, WasteAnalysis } from './types.js';

/** Options for {@link renderExplainHtml}. */
export interface RenderExplainHtmlOptions {
  /** Files listed per kind and layer; the rest are counted (default 500). */
  maxFiles?: number | undefined;
  /** Rows of the waste table (default 200). */
  maxWaste?: number | undefined;
}

/** Layers start open when they list at most this many files in all. */
const OPEN_LIMIT = 300;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** The explain report as a complete HTML document. */
export function renderExplainHtml(analysis: ImageAnalysis, options: RenderExplainHtmlOptions = {}): string {
  const maxFiles = options.maxFiles ?? 500;
  const maxWaste = options.maxWaste ?? 200;
  const { image } = analysis;
  const title = image.names.length > 0 ? image.names.join(', ') : shortDigest(image.digest);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<link rel="icon" href="data:,">',
    `<title>${h(`${title} — layerkit explain`)}</title>`,
    `<style>${REPORT_CSS}</style></head><body>`,
    '<header class="top"><div class="brand">layerkit explain</div>',
    `<h1>${h(title)}</h1>`,
    `<div class="meta"><span title="manifest digest">${h(image.digest)}</span><span>id ${h(shortDigest(image.id))}</span><span>${h(image.platform)}</span>${image.created ? `<span>created ${h(image.created)}</span>` : ''}</div></header>`,
    '<main>',
    cards(analysis),
    stackSection(analysis),
    layersSection(analysis.layers, maxFiles),
    wasteSection(analysis.waste, maxWaste),
    buildSection(analysis.build),
    '</main>',
    '<footer>Made by layerkit. This page is self-contained: it loads nothing from the network.</footer>',
    `<script>${REPORT_JS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

function cards(a: ImageAnalysis): string {
  const w = a.waste;
  const b = a.build;
  const cacheCard = b
    ? (() => {
        const s = b.summary;
        const total = Math.max(1, s.cached + s.missed + s.config);
        const seg = (n: number, color: string, label: string) =>
          n > 0
            ? `<span style="width:${((n / total) * 100).toFixed(2)}%;background:${color}" title="${n} ${label}"></span>`
            : '';
        const ran = s.cached + s.missed;
        return `<div class="card" id="card-cache"><div class="label">Cache hits</div><div class="value">${s.cached}<span class="sub"> / ${ran} steps</span></div><div class="minibar">${seg(s.cached, 'var(--hit)', 'cached')}${seg(s.missed, 'var(--miss)', 'missed')}${seg(s.config, 'var(--config)', 'config-only')}</div><div class="sub">${s.missed} missed · ${s.config} config-only${s.stagesSkipped > 0 ? ` · ${s.stagesSkipped} stage${s.stagesSkipped === 1 ? '' : 's'} skipped` : ''} · ${h(formatDuration(b.durationMs))}</div></div>`;
      })()
    : '<div class="card" id="card-cache"><div class="label">Last build</div><div class="value">—</div><div class="sub">no build of this image is recorded in the store</div></div>';
  return [
    '<section class="cards" id="summary">',
    `<div class="card gauge" id="card-efficiency">${gaugeSvg(w.efficiency)}<div><div class="label">Efficiency</div><div class="big">${h(formatSize(w.finalBytes, ' '))} of ${h(formatSize(w.storedBytes, ' '))}</div><div class="sub">of the file bytes stored in the layers are visible in the final image</div></div></div>`,
    `<div class="card"><div class="label">Final tree</div><div class="value">${h(formatSize(a.final.bytes, ' '))}</div><div class="sub">${a.final.files} files · ${a.final.entries} entries</div></div>`,
    `<div class="card"><div class="label">Reclaimable</div><div class="value ${w.reclaimableBytes > 0 ? 'bad' : 'good'}">${h(formatSize(w.reclaimableBytes, ' '))}</div><div class="sub">${w.paths.length} path${w.paths.length === 1 ? '' : 's'} with hidden copies</div></div>`,
    `<div class="card"><div class="label">Layers</div><div class="value">${a.layers.length}</div><div class="sub">${h(formatSize(a.compressedSize, ' '))} as stored</div></div>`,
    cacheCard,
    '</section>',
  ].join('');
}

function stackSection(a: ImageAnalysis): string {
  const legend = [
    ['var(--hit)', 'from the cache'],
    ['var(--miss)', 'built (cache miss)'],
    ['var(--base)', 'from the base image'],
    ['var(--none)', 'no build record'],
  ].filter(([color]) => a.layers.some((l) => cacheColor(l.cache) === color));
  return [
    '<section class="panel" id="stack"><h2>Layer stack</h2>',
    '<p class="hint">Top layer first. Each bar is drawn to scale: its length is the layer’s bytes of file data (uncompressed). The hatched part is bytes that no path of the final image can read. Click a bar for its files.</p>',
    a.layers.length > 0 ? stackSvg(a.layers) : '<p class="empty">This image has no layers.</p>',
    `<div class="legend">${legend.map(([color, label]) => `<span><i style="background:${color}"></i>${label}</span>`).join('')}<span><i style="background:repeating-linear-gradient(45deg,var(--waste) 0 3px,var(--base) 3px 6px)"></i>red stripes: not visible in the final tree</span></div>`,
    '</section>',
  ].join('');
}

function layersSection(layers: readonly LayerAnalysis[], maxFiles: number): string {
  const out = [
    '<section class="panel" id="layers"><h2>Changes per layer</h2>',
    '<p class="hint">Added: the path is new. Modified: a lower layer had it (directories only when their type, mode or owner changed). Deleted: a whiteout, an opaque directory or a replaced parent removed it.</p>',
    '<div class="toolbar"><input id="file-filter" type="search" placeholder="Filter files by path…" aria-label="Filter files by path"><button id="expand-all" type="button">Expand all</button><button id="collapse-all" type="button">Collapse all</button></div>',
  ];
  // Open every layer when the lists are short enough to read at a glance.
  const listed = layers.reduce(
    (n, l) =>
      n +
      Math.min(maxFiles, l.added.length) +
      Math.min(maxFiles, l.modified.length) +
      Math.min(maxFiles, l.deleted.length),
    0,
  );
  const open = listed <= OPEN_LIMIT ? ' open' : '';
  for (const l of [...layers].reverse()) {
    out.push(`<details class="layer" id="layer-${l.index}"${open}><summary>`);
    out.push(
      `<span class="num">#${l.index}</span><span class="cmd" title="${h(l.createdBy)}">${l.cache ? `<span class="badge ${l.cache}">${l.cache.toUpperCase()}</span> ` : ''}${h(oneLine(l.createdBy) || '(no history entry)')}</span>`,
    );
    out.push(
      `<span class="counts"><span class="pill add">+${l.added.length}</span><span class="pill mod">~${l.modified.length}</span><span class="pill del">−${l.deleted.length}</span>${l.wastedBytes > 0 ? `<span class="pill waste">${h(formatSize(l.wastedBytes, ' '))} wasted</span>` : ''}<span class="pill size">${h(formatSize(l.size, ' '))}</span></span></summary>`,
    );
    if (l.duplicateOf !== undefined)
      out.push(
        `<div class="dup">The same layer (diffID) as #${l.duplicateOf}: every file it holds is stored and unpacked twice.</div>`,
      );
    out.push('<div class="changes">');
    out.push(fileColumn('added', 'Added', l.added, maxFiles));
    out.push(fileColumn('modified', 'Modified', l.modified, maxFiles));
    out.push(fileColumn('deleted', 'Deleted', l.deleted, maxFiles));
    out.push('</div></details>');
  }
  out.push('</section>');
  return out.join('');
}

function fileColumn(kind: string, title: string, files: readonly FileChange[], max: number): string {
  if (files.length === 0) return `<div class="col ${kind}"><h4>${title} (0)</h4><div class="empty">none</div></div>`;
  const items = files
    .slice(0, max)
    .map(
      (f) =>
        `<li data-path="${h(f.path)}"><span class="p" title="${h(f.path)}">${h(f.type === 'directory' ? `${f.path}/` : f.path)}</span><span class="n">${h(note(f))}</span></li>`,
    );
  if (files.length > max) items.push(`<li class="more">… and ${files.length - max} more</li>`);
  return `<div class="col ${kind}"><h4>${title} (${files.length})</h4><ul class="files">${items.join('')}</ul></div>`;
}

function note(f: FileChange): string {
  const parts: string[] = [];
  if (f.type === 'file')
    parts.push(
      f.sizeBefore !== undefined && f.sizeBefore !== f.size
        ? `${formatSize(f.sizeBefore, ' ')} → ${formatSize(f.size, ' ')}`
        : formatSize(f.size, ' '),
    );
  else if (f.type !== 'directory') parts.push(f.linkTarget !== undefined ? `${f.type} → ${f.linkTarget}` : f.type);
  if (f.differs !== undefined) parts.push(f.differs.length === 0 ? 'identical copy' : f.differs.join(', '));
  if (f.cause === 'whiteout') parts.push(f.by === f.path ? 'whiteout' : `whiteout of ${f.by}`);
  else if (f.cause === 'opaque') parts.push(`opaque ${f.by}`);
  else if (f.cause === 'replaced') parts.push(`${f.by} replaced`);
  return parts.join(' · ');
}

function wasteSection(w: WasteAnalysis, max: number): string {
  const out = [
    '<section class="panel" id="waste"><h2>Wasted space</h2>',
    `<p class="hint">${h(formatSize(w.reclaimableBytes, ' '))} of the ${h(formatSize(w.storedBytes, ' '))} the layers store can be reclaimed: only the copies no path of the final image reads are counted (unlike dive, which also counts the copy that must stay), and files hidden by opaque directories are included. Efficiency = bytes visible ÷ bytes stored = ${h(formatPercent(w.efficiency))}.</p>`,
  ];
  if (w.paths.length === 0) {
    out.push(
      '<p class="empty">Every stored file copy is visible in the final image: nothing to reclaim.</p></section>',
    );
    return out.join('');
  }
  const total = Math.max(1, w.reclaimableBytes);
  out.push(
    '<table class="waste"><thead><tr><th class="r">Reclaimable</th><th>Share</th><th>Path</th><th>Copies (bottom first)</th><th class="r">All copies</th></tr></thead><tbody>',
  );
  for (const p of w.paths.slice(0, max)) {
    const chips = p.copies
      .map(
        (c) =>
          `<span class="copy${c.fate === 'final' ? ' final' : ''}">#${c.layer} ${h(formatSize(c.size, ' '))} ${c.fate === 'final' ? 'kept' : `${c.fate} by #${c.by ?? '?'}`}</span>`,
      )
      .join('');
    out.push(
      `<tr><td class="r">${h(formatSize(p.reclaimableBytes, ' '))}</td><td><div class="share"><div class="track"><div class="fill" style="width:${((p.reclaimableBytes / total) * 100).toFixed(2)}%"></div></div><span>${h(formatPercent(p.reclaimableBytes / total))}</span></div></td><td class="path">${h(p.path)}${p.inFinal ? '' : ' <span class="where">(not in the final tree)</span>'}</td><td><div class="copies">${chips}</div></td><td class="r">${h(formatSize(p.totalBytes, ' '))}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  if (w.paths.length > max) out.push(`<p class="note">… and ${w.paths.length - max} more paths.</p>`);
  out.push('</section>');
  return out.join('');
}

function buildSection(b: BuildAnalysis | undefined): string {
  if (!b) {
    return '<section class="panel" id="cache"><h2>Last build</h2><p class="empty">The store has no record of a build of this image: it was imported, committed, or built before build records were kept.</p></section>';
  }
  const out = [
    '<section class="panel" id="cache"><h2>Last build: cache hits and misses</h2>',
    `<p class="hint"><code>${h(b.dockerfile)}</code> in <code>${h(b.context)}</code>, target <b>${h(b.target)}</b>, finished ${h(b.finished)} in ${h(formatDuration(b.durationMs))}.</p>`,
    '<table class="steps"><thead><tr><th>Result</th><th>Step</th><th>Instruction and why it missed</th><th class="r">Layer</th></tr></thead><tbody>',
  ];
  for (const s of b.steps) {
    const kind = s.status === 'cached' ? 'hit' : s.status === 'skipped' ? 'skipped' : s.metadata ? 'config' : 'miss';
    const label = { hit: 'CACHED', miss: 'MISS', config: 'CONFIG', skipped: 'SKIPPED' }[kind];
    const reasons = s.reasons.flatMap((r) =>
      reasonLines(r).map(({ text, file: f }) =>
        f ? `<code>${h(f.path)}</code> ${h(f.change)}${f.detail ? `: ${h(f.detail)}` : ''}` : h(oneLine(text)),
      ),
    );
    out.push(
      `<tr class="${kind}"><td><span class="badge ${kind}">${label}</span></td><td class="where">${h(s.prefix)} · line ${s.line}</td><td><div class="step">${h(oneLine(s.instruction))}</div>${reasons.length > 0 ? `<ul class="reasons">${reasons.map((r) => `<li>${r}</li>`).join('')}</ul>` : ''}</td><td class="r">${s.layer !== undefined ? `<a href="#layer-${s.layer}">#${s.layer}</a>` : ''}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  for (const w of b.warnings) out.push(`<p class="note">warning: ${h(formatWarning(w))}</p>`);
  out.push('</section>');
  out.push('<section class="panel" id="stages"><h2>Stage graph</h2>');
  out.push(
    `<p class="hint">Solid arrows: a stage starts FROM another. Dashed arrows: <code>COPY --from</code>. Dashed, faded boxes: stages the target does not need, skipped. ${b.graphSource === 'record' ? 'Bases as the build resolved them.' : b.graphSource === 'dockerfile' ? 'Bases read from the Dockerfile.' : 'The Dockerfile changed or is gone since the build: bases are inferred from the image where possible (FROM ? where not).'}</p>`,
  );
  out.push(`<div class="graph">${stageGraphSvg(b)}</div></section>`);
  return out.join('');
}
