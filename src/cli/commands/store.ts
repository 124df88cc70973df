/** Store maintenance: gc and verify. */
import { gcStore, verifyStore } from '../../index.js';
import type { Command } from '../command.js';
import { ExitCodes, formatBytes, println, progressBar, style } from '../output.js';

/** `layerkit gc`: its summary, usage, options and examples are the help text below. */
export const gcCommand: Command = {
  name: 'gc',
  summary: 'Remove blobs and layer data nothing references (tags, containers, build cache)',
  usage: '[--dry-run] [--prune-cache] [--json]',
  examples: ['layerkit rmi app:old && layerkit gc', 'layerkit gc --dry-run', 'layerkit gc --prune-cache   # also drop the build cache'],
  options: {
    'dry-run': { type: 'boolean', description: 'report what would be removed, remove nothing' },
    'prune-cache': { type: 'boolean', description: 'also remove the build cache (its layers go unless an image uses them)' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const store = await ctx.store();
    const bar = progressBar(ctx.output, 'sweeping', 'items');
    const report = await gcStore({ store, dryRun: options['dry-run'] === true, pruneCache: options['prune-cache'] === true, signal: ctx.signal, onProgress: (d, t) => bar.update(d, t) }).finally(() => bar.done());
    if (options.json) {
      println(ctx.output, JSON.stringify(report));
      return;
    }
    const verb = options['dry-run'] ? 'would remove' : 'removed';
    if (report.removedCacheRecords > 0) println(ctx.output, `${verb} ${report.removedCacheRecords} build cache record${report.removedCacheRecords === 1 ? '' : 's'}`);
    println(ctx.output, `${verb} ${report.removedBlobs.length} blob${report.removedBlobs.length === 1 ? '' : 's'}, ${report.removedLayerStates.length} layer index${report.removedLayerStates.length === 1 ? '' : 'es'} and ${report.removedTempFiles} temp file${report.removedTempFiles === 1 ? '' : 's'}: ${formatBytes(report.freedBytes)}`);
  },
};

/** `layerkit verify`: its summary, usage, options and examples are the help text below. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Re-hash every blob and layer copy; check everything the tags reach',
  usage: '[--json]',
  description: 'Exits 3 when problems are found (each is printed); changes nothing.',
  examples: ['layerkit verify', 'layerkit verify --json'],
  options: { json: { type: 'boolean', description: 'print the report as JSON' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const store = await ctx.store();
    const bar = progressBar(ctx.output, 'verifying', 'items');
    const report = await verifyStore({ store, signal: ctx.signal, onProgress: (d, t) => bar.update(d, t) }).finally(() => bar.done());
    if (options.json) println(ctx.output, JSON.stringify(report));
    else {
      for (const p of report.problems) println(ctx.output, `${style(ctx.output, 'red', p.code)} ${p.message}`);
      println(ctx.output, report.problems.length === 0 ? `ok: ${report.checkedBlobs} blobs verified` : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${report.checkedBlobs} blobs`);
    }
    return report.problems.length === 0 ? ExitCodes.ok : ExitCodes.problems;
  },
};
