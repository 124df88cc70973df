/** Store maintenance: gc and verify. */
import { ErrorCodes, formatSize, gcStore, LayerkitError, pruneBuildCache, verifyStore } from '../../index.js';
import { parseGoDuration, parseRamInBytes } from '../../dockerfile/go-parse.js';
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
    const policy = cachePolicy(options['until'], options['keep-storage']);
    if (policy && options['prune-cache'] !== true) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        '--until and --keep-storage choose what --prune-cache removes; add --prune-cache',
        {},
      );
    }
    const store = await ctx.store();
    const dryRun = options['dry-run'] === true;
    // A policy prunes part of the cache first, so gc can collect the layers it let go; without
    // one, gc drops the whole cache itself.
    const pruned = policy ? pruneBuildCache({ store, ...policy, dryRun, signal: ctx.signal }) : undefined;
    const bar = progressBar(ctx.output, 'sweeping', 'items');
    const pruneAll = options['prune-cache'] === true && !policy;
    // A dry run removed no records: gc must still count their layers as let go.
    const gone = new Set(dryRun && pruned ? pruned.removed.map((r) => r.key.slice('sha256:'.length)) : []);
    const ignoreRoot =
      gone.size > 0 ? (kind: string, name: string) => kind === 'build-cache' && gone.has(name) : undefined;
    const report = await gcStore({
      store,
      dryRun,
      pruneCache: pruneAll,
      ignoreRoot,
      signal: ctx.signal,
      onProgress: (d, t) => bar.update(d, t),
    }).finally(() => bar.done());
    if (pruned) report.removedCacheRecords = pruned.removed.length;
    if (options.json) {
      println(
        ctx.output,
        JSON.stringify({
          ...report,
          ...(pruned ? { keptCacheRecords: pruned.keptRecords, keptCacheBytes: pruned.keptBytes } : {}),
        }),
      );
      return;
    }
    const verb = dryRun ? 'would remove' : 'removed';
    if (pruned && policy)
      println(
        ctx.output,
        `build cache: ${verb} ${pruned.removed.length} record${pruned.removed.length === 1 ? '' : 's'}, kept ${pruned.keptRecords} (${formatSize(pruned.keptBytes)} of layers)`,
      );
    else if (report.removedCacheRecords > 0)
      println(
        ctx.output,
        `${verb} ${report.removedCacheRecords} build cache record${report.removedCacheRecords === 1 ? '' : 's'}`,
      );
    println(
      ctx.output,
      `${verb} ${report.removedBlobs.length} blob${report.removedBlobs.length === 1 ? '' : 's'}, ${report.removedLayerStates.length} layer index${report.removedLayerStates.length === 1 ? '' : 'es'} and ${report.removedTempFiles} temp file${report.removedTempFiles === 1 ? '' : 's'}: ${formatSize(report.freedBytes)}`,
    );
  },
};

/** The prune policy the flags give, or undefined when neither is given. Bad values are ERR_USAGE naming the flag. */
function cachePolicy(until: unknown, keep: unknown): { olderThanMs?: number; keepBytes?: number } | undefined {
  if (until === undefined && keep === undefined) return undefined;
  const policy: { olderThanMs?: number; keepBytes?: number } = {};
  if (typeof until === 'string') {
    try {
      policy.olderThanMs = Number(parseGoDuration(until) / 1_000_000n);
    } catch (err) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `--until ${JSON.stringify(until)}: ${(err as Error).message}; give a duration such as 24h, 90m or 1h30m`,
        { flag: 'until' },
      );
    }
    if (policy.olderThanMs < 0)
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `--until ${JSON.stringify(until)}: the duration must not be negative`,
        { flag: 'until' },
      );
  }
  if (typeof keep === 'string') {
    try {
      policy.keepBytes = parseRamInBytes(keep);
    } catch (err) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `--keep-storage ${JSON.stringify(keep)}: ${(err as Error).message}; give a size such as 512mb or 2gb`,
        { flag: 'keep-storage' },
      );
    }
  }
  return policy;
}

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
