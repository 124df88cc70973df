/** Where the BuildKit corpus lives (imported by scripts/import-buildkit-fixtures.sh, not committed). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** fixtures/buildkit, absolute. */
export const CORPUS_DIR = fileURLToPath(new URL('../../fixtures/buildkit/', import.meta.url));

/** True when the corpus has been imported. */
export const hasCorpus = existsSync(`${CORPUS_DIR}parser`) && existsSync(`${CORPUS_DIR}shell/envVarTest`);

/** The skip message when it has not. */
export const NO_CORPUS =
  'BuildKit corpus not imported: run scripts/import-buildkit-fixtures.sh <moby/buildkit git dir> (see fixtures/buildkit/README.md)';

/** The case names under a corpus folder (empty when absent). */
export function corpusCases(folder: string): string[] {
  const dir = `${CORPUS_DIR}${folder}`;
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A corpus file as UTF-8 text. */
export function corpusFile(path: string): string {
  return readFileSync(`${CORPUS_DIR}${path}`, 'utf8');
}
