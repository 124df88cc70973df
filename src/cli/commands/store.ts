/** Store maintenance: gc and verify. */
import { ErrorCodes, LayerkitError } from '../../errors.js';
import { formatSize } from '../../report/format.js';
import { gcStore } from '../../maintenance/gc-store.js';
import { verifyStore } from '../../maintenance/verify-store.js';
import type { Command } from '../command.js';
import { ExitCodes, println, progressBar, style } from '../output.js';

/** `layerkit gc`: its summary, usage, options and examples are the help text below. */
export const gcCommand: Command = {
  name: 'gc',
  summary: 'Remove blobs and layer data nothing references (tags, containers, build cache)',
  usage: '[--dry-run] [--prune-cache [--until DURATION] [--keep-storage SIZE]] [--json]',
  description:
    '--prune-cache alone drops the whole build cache. With --until, only records no build has used for that long go; with --keep-storage, the least recently used go until the layers of the rest fit in SIZE (as `docker builder prune --filter until=24h --keep-storage 5GB`). Layers the cache let go are then removed unless an image or container uses them.',
  examples: [
    'layerkit rmi app:old && layerkit gc',
    'layerkit gc --dry-run',
    'layerkit gc --prune-cache   # also drop the build cache',
    'layerkit gc --prune-cache --until 168h --keep-storage 2GB',
  ],
  options: {
    'dry-run': { type: 'boolean', description: 'report what would be removed, remove nothing' },
    'prune-cache': {
      type: 'boolean',
      description: 'also remove the build cache (its layers go unless an image uses them)',
    },
    until: {
      type: 'string',
      description: 'with --prune-cache: only records unused for this long (Go duration: 36h, 90m, 1h30m)',
    },
    'keep-storage': {
      type: 'string',
      description:
        'with --prune-cache: keep the most recently used records up to this many bytes of layers (512mb, 2gb)',
    },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const until = options['until'] as string | undefined;
    const keepStorage = options['keep-storage'] as string | undefined;
    const policy = until !== undefined || keepStorage !== undefined ? { until, keepStorage } : undefined;
    if (policy && options['prune-cache'] !== true) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        '--until and --keep-storage choose what --prune-cache removes; add --prune-cache',
        {},
      );
    }
    const store = await ctx.store();
    const dryRun = options['dry-run'] === true;
    const bar = progressBar(ctx.output, 'sweeping', 'items');
    const report = await gcStore({
      store,
      dryRun,
      pruneCache: options['prune-cache'] === true ? (policy ?? true) : undefined,
      signal: ctx.signal,
      onProgress: (d, t) => bar.update(d, t),
    }).finally(() => bar.done());
    if (options.json) {
      println(ctx.output, JSON.stringify(report));
      return;
    }
    const verb = dryRun ? 'would remove' : 'removed';
    if (report.keptCacheRecords !== undefined)
      println(
        ctx.output,
        `build cache: ${verb} ${report.removedCacheRecords} record${report.removedCacheRecords === 1 ? '' : 's'}, kept ${report.keptCacheRecords} (${formatSize(report.keptCacheBytes ?? 0)} of layers)`,
      );
    else if (report.removedCacheRecords > 0)
      println(
        ctx.output,
        `${verb} ${report.removedCacheRecords} build cache record${report.removedCacheRecords === 1 ? '' : 's'}`,
      );
    // What goes, by name, as docker's prune lists it (a dry run says the same with 'would delete').
    const each = dryRun ? 'would delete' : 'deleted';
    for (const digest of report.removedBlobs) println(ctx.output, `${each}: ${digest}`);
    for (const diffId of report.removedLayerStates) println(ctx.output, `${each}: layer index ${diffId}`);
    println(
      ctx.output,
      `${verb} ${report.removedBlobs.length} blob${report.removedBlobs.length === 1 ? '' : 's'}, ${report.removedLayerStates.length} layer index${report.removedLayerStates.length === 1 ? '' : 'es'} and ${report.removedTempFiles} temp file${report.removedTempFiles === 1 ? '' : 's'}: ${formatSize(report.freedBytes)}`,
    );
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
    const report = await verifyStore({ store, signal: ctx.signal, onProgress: (d, t) => bar.update(d, t) }).finally(
      () => bar.done(),
    );
    if (options.json) println(ctx.output, JSON.stringify(report));
    else {
      for (const p of report.problems) println(ctx.output, `${style(ctx.output, 'red', p.code)} ${p.message}`);
      println(
        ctx.output,
        report.problems.length === 0
          ? `ok: ${report.checkedBlobs} blobs verified`
          : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${report.checkedBlobs} blobs`,
      );
    }
    return report.problems.length === 0 ? ExitCodes.ok : ExitCodes.problems;
  },
};
