/** Where the BuildKit corpus lives (imported by scripts/import-buildkit-fixtures.sh, not committed). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the BuildKit corpus is: fixtures/buildkit (imported locally with the script; not
 * committed, as fetched material may not be), else ../shared/fixtures/buildkit beside the project
 * (where the steering repo can keep data files), absolute.
 */
const LOCAL = fileURLToPath(new URL('../../fixtures/buildkit/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/fixtures/buildkit/', import.meta.url));
export const CORPUS_DIR = existsSync(`${LOCAL}parser`) ? LOCAL : SHARED;

/** True when the corpus has been imported. */
export const hasCorpus = existsSync(`${CORPUS_DIR}parser`) && existsSync(`${CORPUS_DIR}shell/envVarTest`);

/** The skip message when it has not. */
export const NO_CORPUS =
  'BuildKit corpus not present: run scripts/import-buildkit-fixtures.sh <moby/buildkit git dir> (see fixtures/buildkit/README.md), or provide it in ../shared/fixtures/buildkit';

/** The case names under a corpus folder (empty when absent). */
export function corpusCases(folder: string): string[] {
  const dir = `${CORPUS_DIR}${folder}`;
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A corpus file as UTF-8 text. */
export function corpusFile(path: string): string {
  return readFileSync(`${CORPUS_DIR}${path}`, 'utf8');
}
