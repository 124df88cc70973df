/** `layerkit system df`: docker's disk usage summary of the store. */
import { diskUsage, type DiskUsageSummary } from '../../report/disk-usage.js';
import { formatAgo, formatSize } from '../../report/format.js';
import type { Command } from '../command.js';
import { println, table, UsageError } from '../output.js';

function reclaimable(row: DiskUsageSummary<unknown>): string {
  // docker: "SIZE (PERCENT%)", the percentage truncated to an integer; no percentage for an empty row.
  return row.size > 0
    ? `${formatSize(row.reclaimable)} (${Math.floor((row.reclaimable * 100) / row.size)}%)`
    : formatSize(row.reclaimable);
}

function splitName(name: string): [string, string] {
  const at = name.indexOf('@');
  const base = at < 0 ? name : name.slice(0, at);
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return [base.slice(0, colon), base.slice(colon + 1)];
  return [base, '<none>'];
}

/** `layerkit system df`: its summary, usage, options and examples are the help text below. */
export const systemCommand: Command = {
  name: 'system',
  summary: 'Show disk usage of images, containers and the build cache (system df)',
  usage: 'df [-v] [--json]',
  description:
    "Like 'docker system df': TYPE, TOTAL, ACTIVE (images some container uses; running containers), SIZE and RECLAIMABLE (what removing the inactive ones and then 'layerkit gc' would free). Sizes count each blob and kept layer copy once, in decimal units as docker prints them. The build cache holds step results and RUN --mount=type=cache folders; a step result whose layer an image also uses is shared and frees nothing. -v lists every image, container and cache entry.",
  examples: ['layerkit system df', 'layerkit system df -v', 'layerkit system df --json | jq .buildCache.reclaimable'],
  options: {
    verbose: { type: 'boolean', short: 'v', description: 'list every image, container and cache entry' },
    json: { type: 'boolean', description: 'print the report as one JSON object (bytes as numbers)' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [sub], options) {
    if (sub !== 'df')
      throw new UsageError(`unknown system command ${JSON.stringify(sub)}; use 'df'`, "run 'layerkit system --help'");
    const store = await ctx.store();
    const usage = await diskUsage({ store, signal: ctx.signal });
    if (options.json) {
      println(ctx.output, JSON.stringify(usage));
      return;
    }
    const rows = [['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']];
    for (const [type, row] of [
      ['Images', usage.images],
      ['Containers', usage.containers],
      ['Build Cache', usage.buildCache],
    ] as const) {
      rows.push([type, String(row.total), String(row.active), formatSize(row.size), reclaimable(row)]);
    }
    if (!options.verbose) {
      for (const line of table(rows)) println(ctx.output, line);
      return;
    }
    const now = Date.now();
    println(ctx.output, 'Images space usage:');
    println(ctx.output);
    const images = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
    for (const i of usage.images.items) {
      for (const name of i.names.length > 0 ? i.names : [undefined]) {
        const [repo, tag] = name === undefined ? ['<none>', '<none>'] : splitName(name);
        images.push([
          repo,
          tag,
          i.id?.slice(7, 19) ?? '?',
          formatAgo(i.created, now),
          formatSize(i.size),
          formatSize(i.sharedSize),
          formatSize(i.uniqueSize),
          String(i.containers),
        ]);
      }
    }
    for (const line of table(images)) println(ctx.output, line);
    println(ctx.output);
    println(ctx.output, 'Containers space usage:');
    println(ctx.output);
    const containers = [['NAME', 'IMAGE', 'SIZE', 'CREATED', 'STATUS']];
    for (const c of usage.containers.items)
      containers.push([c.name, c.imageRef, formatSize(c.size), formatAgo(c.created, now), c.status]);
    for (const line of table(containers)) println(ctx.output, line);
    println(ctx.output);
    println(ctx.output, `Build cache usage: ${formatSize(usage.buildCache.size)}`);
    println(ctx.output);
    const cache = [['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'SHARED']];
    for (const e of usage.buildCache.items)
      cache.push([
        e.id.replace(/^sha256:/, '').slice(0, 12),
        e.type,
        formatSize(e.size),
        formatAgo(e.created, now),
        formatAgo(e.lastUsed, now),
        e.shared ? 'true' : 'false',
      ]);
    for (const line of table(cache)) println(ctx.output, line);
  },
};
