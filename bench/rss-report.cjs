/**
 * Preloaded into a benchmark's child process (`node --require bench/rss-report.cjs …`): when the
 * process exits, writes its peak resident set size in KiB (`process.resourceUsage().maxRSS`) to
 * the file `LAYERKIT_BENCH_RSS_FILE` names. Loads nothing but `node:fs`, so the process measured
 * is the program's own.
 */
const file = process.env.LAYERKIT_BENCH_RSS_FILE;
if (file) {
  process.once('exit', () => {
    require('node:fs').writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
  });
}
