/**
 * Preloaded into a benchmark's child process (`node --require bench/rss-report.cjs …`): when the
 * process exits, writes its peak resident set size in KiB to the file `LAYERKIT_BENCH_RSS_FILE`
 * names. Loads nothing but `node:fs`, so the process measured is the program's own.
 *
 * The peak is Linux's VmHWM (/proc/self/status), the high-water mark of this program's memory.
 * Not `process.resourceUsage().maxRSS`: Linux carries that over exec from the forked copy of the
 * parent, so a child of a 250 MiB test runner reported 250 MiB however little it touched.
 * maxRSS stays the answer where /proc is missing.
 */
const file = process.env.LAYERKIT_BENCH_RSS_FILE;
if (file) {
  process.once('exit', () => {
    const fs = require('node:fs');
    let kib = process.resourceUsage().maxRSS;
    try {
      const hwm = /^VmHWM:\s*(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (hwm) kib = Number(hwm[1]);
    } catch {
      // no /proc: keep maxRSS
    }
    fs.writeFileSync(file, `${kib}\n`);
  });
}
