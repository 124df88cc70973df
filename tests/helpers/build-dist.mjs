// Run by tests/helpers/dist.ts under flock(1): builds the repository's dist/ with tsup unless the
// stamp says dist/ was built from exactly the current inputs (their bytes, hashed) and has not been
// rebuilt since (dist/index.js's mtime). Prints nothing; exits non-zero when the build fails.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [root, stampPath] = process.argv.slice(2);
if (!root || !stampPath) throw new Error('usage: build-dist.mjs ROOT STAMP');
/** What tsup reads: the sources, its config and the browser build it runs, the manifests. */
const INPUTS = ['src', 'tsup.config.ts', 'scripts/browser-build.ts', 'package.json', 'tsconfig.json'];

const hash = createHash('sha256');
for (const input of INPUTS) {
  const full = join(root, input);
  const files = statSync(full).isDirectory()
    ? readdirSync(full, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name))
        .sort()
    : [full];
  for (const f of files) hash.update(`${f.slice(root.length)}\0`).update(readFileSync(f));
}
const inputs = hash.digest('hex');
const built = () => {
  const index = join(root, 'dist', 'index.js');
  return existsSync(index) ? `${inputs} ${statSync(index).mtimeMs}` : undefined;
};
const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : undefined;
if (stamp === undefined || stamp !== built()) {
  execFileSync(join(root, 'node_modules', '.bin', 'tsup'), [], { cwd: root, stdio: 'pipe' });
  writeFileSync(stampPath, built() ?? '');
}
