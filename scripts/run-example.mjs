// `npm run example -- NAME`: builds the package when dist/ is missing or older than src/, then runs examples/NAME/run.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const name = process.argv[2];
const examples = readdirSync('examples').filter((d) => existsSync(join('examples', d, 'run.mjs')));
if (!name || !examples.includes(name)) {
  console.error(`usage: npm run example -- NAME\nexamples: ${examples.join(', ')}`);
  process.exit(2);
}
const newest = (dir) =>
  Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, String(f))).mtimeMs));
if (!existsSync('dist/index.js') || newest('src') > statSync('dist/index.js').mtimeMs)
  execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
const r = spawnSync(process.execPath, [join('examples', name, 'run.mjs')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
