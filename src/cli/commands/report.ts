/** Reports on images: history and explain. */
import { writeFile } from 'node:fs/promises';
import { analyzeImage } from '../../report/analyze.js';
import { formatHistoryJson, formatHistoryTable } from '../../report/history-table.js';
import { formatPercent, formatSize } from '../../report/format.js';
import { readImageHistory } from '../../report/history.js';
import { renderExplainHtml } from '../../report/render-html.js';
import { renderExplainText } from '../../report/render-text.js';
import { stringOption, type Command } from '../command.js';
import { println, UsageError } from '../output.js';

/** `layerkit history REF`: the `docker history` table (or JSON lines) with the last build's cache results. */
export const historyCommand: Command = {
  name: 'history',
  summary: "Show an image's history: each step, its layer's size, and whether the last build took it from the cache",
  usage: '[--no-trunc] [--json] REF',
  description:
    "Like 'docker history', newest first. SIZE is the layer's uncompressed file data (0B for steps that made no layer). CACHE (shown when the store recorded the build of this image) is 'hit' for a step whose layer came from the cache, 'miss' for one that was built, '-' for config-only steps and 'base' for entries that came with the base image.",
  examples: [
    'layerkit history app:1',
    'layerkit history --no-trunc app:1',
    'layerkit history --json app:1 | jq -r \'select(.cache == "miss") | .createdBy\'',
  ],
  options: {
    'no-trunc': { type: 'boolean', description: 'do not cut the image ID and CREATED BY' },
    json: { type: 'boolean', description: 'one JSON object per line, newest first' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const store = await ctx.store();
    const { image, rows } = await readImageHistory({ store, image: ref!, signal: ctx.signal });
    const lines = options.json
      ? formatHistoryJson(rows)
      : formatHistoryTable(rows, { imageId: image.manifest.config.digest, noTrunc: options['no-trunc'] === true });
    for (const line of lines) println(ctx.output, line);
  },
};

/** `layerkit explain REF`: the explain report as text, JSON, or a self-contained HTML page (`--html FILE`). */
export const explainCommand: Command = {
  name: 'explain',
  summary:
    "Explain an image: its layers to scale, each layer's file changes, wasted space, the last build's cache misses and stages",
  usage: '[--html FILE] [--json] [--files N] REF',
  description:
    'Wasted space counts only the file copies no path of the final image reads (dive also counts the copy that must stay, and ignores opaque directories). Efficiency = bytes visible in the final tree / bytes stored in the layers. --html writes one self-contained page (no network access) to look at in a browser.',
  examples: [
    'layerkit explain app:1',
    'layerkit explain app:1 --html report.html',
    'layerkit explain app:1 --json | jq .waste.efficiency',
    'layerkit explain --files all app:1',
  ],
  options: {
    html: {
      type: 'string',
      value: 'FILE',
      description: "write the report as an HTML page to FILE ('-' for standard output)",
    },
    json: { type: 'boolean', description: 'print the analysis as JSON' },
    files: {
      type: 'string',
      value: 'N',
      description: "files listed per kind and layer in the text report (default 10, or 'all')",
    },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const filesText = stringOption(options, 'files');
    let maxFiles: number | undefined;
    if (filesText !== undefined) {
      maxFiles = filesText === 'all' ? Number.POSITIVE_INFINITY : Number(filesText);
      if (!Number.isInteger(maxFiles) && maxFiles !== Number.POSITIVE_INFINITY)
        throw new UsageError(`--files takes a number or 'all', not ${JSON.stringify(filesText)}`);
      if (maxFiles < 0) throw new UsageError(`--files takes a number or 'all', not ${JSON.stringify(filesText)}`);
    }
    const html = stringOption(options, 'html');
    if (html !== undefined && options.json) throw new UsageError('explain: give --html FILE or --json, not both');
    const store = await ctx.store();
    const analysis = await analyzeImage({ store, image: ref!, signal: ctx.signal });
    if (html === '-') {
      ctx.output.out.write(renderExplainHtml(analysis));
    } else if (html !== undefined) {
      await writeFile(html, renderExplainHtml(analysis));
      println(
        ctx.output,
        `wrote ${html}: ${analysis.layers.length} layer${analysis.layers.length === 1 ? '' : 's'}, ${formatSize(analysis.waste.reclaimableBytes, ' ')} reclaimable, efficiency ${formatPercent(analysis.waste.efficiency)}`,
      );
    } else if (options.json) {
      println(ctx.output, JSON.stringify(analysis));
    } else {
      ctx.output.out.write(renderExplainText(analysis, { color: ctx.output.color, maxFiles }));
    }
  },
};
