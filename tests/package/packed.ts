/**
 * Builds the package into a staging folder, packs it as npm would publish it, and installs the
 * tarball into scratch projects the way a user does — offline, from the npm cache that `npm ci`
 * of this repository filled (CI runs `npm ci` first).
 *
 * A caret range cannot be resolved offline without registry metadata, which `npm ci` does not
 * cache, so each scratch project gets a lock file: the tarball itself plus this repository's own
 * locked versions of the package's dependencies (every non-dev entry of package-lock.json). npm ci
 * then takes each tarball from the cache by its integrity, as it would from the registry.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtDist } from '../helpers/dist.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The package manifest of this repository. */
export const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
  license: string;
};

/** One file in the tarball, as `npm pack --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
}

/** What `npm pack` made. */
export interface Packed {
  /** The staging folder that was packed (package.json, README.md, LICENSE, low-level/, dist/). */
  stage: string;
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  /** Bytes of every file, unpacked. */
  unpackedSize: number;
  files: PackedFile[];
}

/**
 * Packs the package into `dir` from a staging folder holding a copy of the repository's dist/
 * (built from the current sources first when it is not: tests/helpers/dist.ts, shared with the
 * examples' test). Lifecycle scripts are not run: the build is done already.
 */
export function packPackage(dir: string): Packed {
  const stage = join(dir, 'stage');
  mkdirSync(stage, { recursive: true });
  mkdirSync(join(stage, 'low-level'));
  for (const f of ['package.json', 'README.md', 'LICENSE', 'low-level/package.json'])
    copyFileSync(join(ROOT, f), join(stage, f));
  cpSync(builtDist(), join(stage, 'dist'), { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: stage,
    encoding: 'utf8',
  });
  const [info] = JSON.parse(out) as { filename: string; size: number; unpackedSize: number; files: PackedFile[] }[];
  if (!info) throw new Error(`npm pack printed no result: ${out}`);
  return {
    stage,
    tarball: join(dir, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files,
  };
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * A scratch project at `dir` with the tarball as its dependency (and, when `typesNode`, this
 * repository's @types/node as a dev dependency), installed with `npm ci --offline`.
 */
export function installConsumer(dir: string, tarball: string, options: { typesNode: boolean }): void {
  mkdirSync(dir, { recursive: true });
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const dependencies = { [MANIFEST.name]: `file:${tarball}` };
  const devDependencies: Record<string, string> = {};
  const packages: Record<string, LockEntry> = {};
  const wantedDev = new Set<string>();
  if (options.typesNode) {
    const typesNode = lock.packages['node_modules/@types/node'];
    if (!typesNode?.version) throw new Error('package-lock.json has no @types/node');
    devDependencies['@types/node'] = typesNode.version;
    wantedDev.add('node_modules/@types/node');
    for (const dep of Object.keys((typesNode.dependencies as Record<string, string> | undefined) ?? {}))
      wantedDev.add(`node_modules/${dep}`);
  }
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim().replace(/\/$/, '');
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || (entry.dev && !wantedDev.has(key))) continue;
    // This repository's lock leaves out registry URLs; npm ci needs one (or metadata) to find a
    // tarball, and then takes it from the cache by integrity.
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const resolved = entry.resolved ?? `${registry}/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    packages[key] = { ...entry, resolved };
  }
  packages[`node_modules/${MANIFEST.name}`] = {
    version: MANIFEST.version,
    resolved: `file:${tarball}`,
    license: MANIFEST.license,
    dependencies: MANIFEST.dependencies,
    ...(MANIFEST.peerDependencies ? { peerDependencies: MANIFEST.peerDependencies } : {}),
    bin: MANIFEST.bin,
    engines: MANIFEST.engines,
  };
  const project = { name: 'consumer', version: '1.0.0', private: true, dependencies, devDependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
  writeFileSync(
    join(dir, 'package-lock.json'),
    `${JSON.stringify({ ...project, lockfileVersion: 3, requires: true, packages: { '': project, ...packages } }, null, 2)}\n`,
  );
  execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    stdio: 'pipe',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

/** A copy of an installed project without @types/node. */
export function withoutTypesNode(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  rmSync(join(to, 'node_modules/@types/node'), { recursive: true, force: true });
}
