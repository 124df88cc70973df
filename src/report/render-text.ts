/**
 * `layerkit explain` as text: the image in a few lines, the layer stack as bars drawn to scale,
 * what each layer changed, the wasted space, the last build's cache hits and misses with their
 * reasons, and its stage graph. Deterministic for a given analysis (no clock, no terminal size).
 */
import { formatWarning } from '../builder/events.js';
import { formatDuration, formatPercent, formatSize, oneLine, shortDigest } from './format.js';
import { reasonLines } from './reason-lines.js';
import type { FileChange, ImageAnalysis, LayerAnalysis, WastedPath } from './types.js';

/** Options for {@link renderExplainText}. */
export interface RenderExplainTextOptions {
  /** Files listed per kind (added, modified, deleted) and layer; the rest are counted (default 10; `Infinity` for all). */
  maxFiles?: number | undefined;
  /** Paths listed in the waste table (default 20). */
  maxWaste?: number | undefined;
  /** ANSI colours (default false). */
  color?: boolean | undefined;
}

const BAR = 32;
const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
} as const;

/** The explain report as text, ending in a newline. */
export function renderExplainText(analysis: ImageAnalysis, options: RenderExplainTextOptions = {}): string {
  const maxFiles = options.maxFiles ?? 10;
  const maxWaste = options.maxWaste ?? 20;
  const paint = (style: keyof typeof STYLES, text: string): string =>
    options.color ? `\u001b[${STYLES[style][0]}m${text}\u001b[${STYLES[style][1]}m` : text;
  const out: string[] = [];
  const { image, waste, layers, final } = analysis;
  const layerBytes = layers.reduce((n, l) => n + l.size, 0);

  out.push(paint('bold', `Image ${image.names.length > 0 ? image.names.join(', ') : shortDigest(image.digest)}`));
  out.push(`  digest   ${image.digest}`);
  out.push(`  id       ${image.id}`);
  out.push(`  platform ${image.platform}${image.created ? `, created ${image.created}` : ''}`);
  out.push(
    `  final    ${final.files} file${final.files === 1 ? '' : 's'} (${formatSize(final.bytes, ' ')}) in ${final.entries} entries`,
  );
  out.push(
    `  layers   ${layers.length}, ${formatSize(layerBytes, ' ')} of file data, ${formatSize(analysis.compressedSize, ' ')} as stored`,
  );
  out.push(
    `  waste    ${formatSize(waste.reclaimableBytes, ' ')} reclaimable, efficiency ${formatPercent(waste.efficiency)}`,
  );

  // The stack, top layer first, as it sits on disk.
  out.push('', paint('bold', 'Layers') + paint('dim', ' (top first; bars to scale; ░ = bytes no final path reads)'));
  const largest = Math.max(1, ...layers.map((l) => l.size));
  const sizeWidth = Math.max(0, ...layers.map((l) => formatSize(l.size, ' ').length));
  const withCache = layers.some((l) => l.cache !== undefined);
  for (const l of [...layers].reverse()) {
    const width = l.size === 0 ? 0 : Math.max(1, Math.round((l.size / largest) * BAR));
    const wasted = l.size === 0 ? 0 : Math.min(width, Math.round((l.wastedBytes / l.size) * width));
    const bar = `${'█'.repeat(width - wasted)}${paint('red', '░'.repeat(wasted))}${' '.repeat(BAR - width)}`;
    const cache = withCache ? `${(l.cache ?? '').padEnd(5)} ` : '';
    const dup = l.duplicateOf !== undefined ? paint('yellow', ` (same layer as #${l.duplicateOf})`) : '';
    out.push(
      `  ${`#${l.index}`.padStart(4)} ${bar} ${formatSize(l.size, ' ').padStart(sizeWidth)}  ${cache}${oneLine(l.createdBy) || paint('dim', '(no history entry)')}${dup}`,
    );
  }

  out.push('', paint('bold', 'Changes per layer') + paint('dim', ' (+ added, ~ modified, - deleted)'));
  for (const l of layers) out.push(...layerChanges(l, maxFiles, paint));

  out.push(
    '',
    paint('bold', 'Wasted space') +
      `: ${formatSize(waste.reclaimableBytes, ' ')} reclaimable of ${formatSize(waste.storedBytes, ' ')} stored; efficiency ${formatPercent(waste.efficiency)} (${formatSize(waste.finalBytes, ' ')} in the final tree)`,
  );
  if (waste.paths.length === 0) {
    out.push('  every stored file copy is visible in the final tree');
  } else {
    const rows = waste.paths
      .slice(0, maxWaste)
      .map((p) => [formatSize(p.reclaimableBytes, ' '), String(p.copies.length), p.path, fates(p)]);
    out.push(
      ...table([['RECLAIMABLE', 'COPIES', 'PATH', 'WHAT HAPPENED TO EACH COPY'], ...rows]).map((line) => `  ${line}`),
    );
    if (waste.paths.length > maxWaste) out.push(paint('dim', `  … and ${waste.paths.length - maxWaste} more paths`));
  }

  const build = analysis.build;
  out.push('');
  if (!build) {
    out.push(
      paint('bold', 'Last build') +
        ': the store has no record of a build of this image (it was imported, committed or built before records were kept)',
    );
  } else {
    const s = build.summary;
    out.push(
      paint('bold', 'Last build') +
        `: ${build.dockerfile} in ${build.context}, target ${build.target}, finished ${build.finished} in ${formatDuration(build.durationMs)}`,
    );
    out.push(
      `  ${s.cached} cached, ${s.missed} missed, ${s.config} config-only${s.skipped > 0 ? `, ${s.skipped} skipped (${s.stagesSkipped} stage${s.stagesSkipped === 1 ? '' : 's'})` : ''}`,
    );
    for (const st of build.steps) {
      const status =
        st.status === 'cached'
          ? paint('blue', 'CACHED ')
          : st.status === 'skipped'
            ? paint('dim', 'SKIPPED')
            : st.metadata
              ? 'CONFIG '
              : paint('yellow', 'MISS   ');
      const layer = st.layer !== undefined ? paint('dim', `  → layer #${st.layer}`) : '';
      const source = st.cacheSource ? paint('dim', `  (${st.cacheSource})`) : '';
      out.push(`  ${status}  ${st.prefix} ${oneLine(st.instruction)}${layer}${source}`);
      for (const r of st.reasons)
        for (const { text, file } of reasonLines(r)) out.push(`           ${file ? text : oneLine(text)}`);
    }
    for (const warning of build.warnings) out.push(paint('yellow', `  warning: ${formatWarning(warning)}`));

    out.push(
      '',
      paint('bold', 'Stages') +
        paint(
          'dim',
          build.graphSource === 'record'
            ? ' (bases as the build resolved them)'
            : build.graphSource === 'dockerfile'
              ? ' (bases from the Dockerfile)'
              : ' (the Dockerfile changed or is gone: bases inferred from the image where possible)',
        ),
    );
    const rows = build.stages.map((st) => {
      const base =
        st.base === undefined ? 'FROM ?' : 'stage' in st.base ? `FROM ${st.base.stage}` : `FROM ${st.base.image}`;
      const copies = st.copyFrom.length > 0 ? `, COPY --from ${st.copyFrom.join(' ')}` : '';
      const c = st.counts;
      const counts =
        st.status === 'skipped'
          ? `${c.skipped} step${c.skipped === 1 ? '' : 's'} not run`
          : `${c.cached} cached, ${c.built} built, ${c.config} config`;
      return [st.stage + (st.target ? ' *' : ''), st.status, base + copies, counts];
    });
    out.push(...table(rows).map((line) => `  ${line}`));
    out.push(paint('dim', '  * the target stage'));
  }
  return `${out.join('\n')}\n`;
}

function layerChanges(
  l: LayerAnalysis,
  maxFiles: number,
  paint: (style: keyof typeof STYLES, text: string) => string,
): string[] {
  const out: string[] = [];
  const head = `  #${l.index} ${oneLine(l.createdBy) || '(no history entry)'}`;
  out.push(
    `${head}  ${paint('green', `+${l.added.length}`)} ${paint('yellow', `~${l.modified.length}`)} ${paint('red', `-${l.deleted.length}`)}${l.wastedBytes > 0 ? paint('red', `  ${formatSize(l.wastedBytes, ' ')} wasted`) : ''}`,
  );
  const list = (mark: string, style: keyof typeof STYLES, changes: FileChange[], kind: string): void => {
    for (const f of changes.slice(0, maxFiles)) out.push(`      ${paint(style, mark)} ${describe(f)}`);
    if (changes.length > maxFiles) out.push(paint('dim', `      … and ${changes.length - maxFiles} more ${kind}`));
  };
  list('+', 'green', l.added, 'added');
  list('~', 'yellow', l.modified, 'modified');
  list('-', 'red', l.deleted, 'deleted');
  return out;
}

function describe(f: FileChange): string {
  const parts: string[] = [];
  if (f.type === 'file')
    parts.push(
      f.sizeBefore !== undefined && f.sizeBefore !== f.size
        ? `${formatSize(f.sizeBefore, ' ')} → ${formatSize(f.size, ' ')}`
        : formatSize(f.size, ' '),
    );
  else if (f.type !== 'directory') parts.push(f.type);
  if (f.linkTarget !== undefined) parts.push(`→ ${f.linkTarget}`);
  if (f.differs !== undefined) parts.push(f.differs.length === 0 ? 'identical copy' : f.differs.join(', '));
  if (f.cause !== undefined)
    parts.push(
      f.cause === 'whiteout'
        ? f.by === f.path
          ? 'whiteout'
          : `whiteout of ${f.by}`
        : f.cause === 'opaque'
          ? `opaque ${f.by}`
          : `${f.by} replaced`,
    );
  const name = f.type === 'directory' ? `${f.path}/` : f.path;
  return parts.length > 0 ? `${name}  ${parts.join('; ')}` : name;
}

function fates(p: WastedPath): string {
  return p.copies
    .map((c) => {
      const what = c.fate === 'final' ? 'kept' : `${c.fate} by #${c.by ?? '?'}`;
      return `#${c.layer} ${formatSize(c.size, ' ')} ${what}`;
    })
    .join('; ');
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Array.from(cell).length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - Array.from(cell).length)))
      .join('  ')
      .trimEnd(),
  );
}
