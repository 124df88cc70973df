/**
 * The text report of a fixed analysis, against a golden file (regenerate with
 * UPDATE_GOLDEN=1 after checking the difference is intended), plus the options that change it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderExplainText } from '../../src/index.js';
import { fixedAnalysis } from './fixed-analysis.js';

const GOLDEN = fileURLToPath(new URL('./fixtures/explain.golden.txt', import.meta.url));

describe('renderExplainText', () => {
  it('matches the golden report', () => {
    const text = renderExplainText(fixedAnalysis());
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('the analysis behind it has the hand-computed numbers', () => {
    const a = fixedAnalysis();
    // Stored: 1200 + (3000 + 800 + 25000) + (400 + 90) + (3000 + 800 + 25000) = 59290.
    // Final: motd 90 (layer 2), index.html 400 (layer 2), a.html and <b>.html from layer 3 (3800),
    // tmp/build.log 25000 again (layer 3 repeats layer 1 above the whiteout) = 29290.
    expect(a.waste).toMatchObject({ storedBytes: 59_290, finalBytes: 29_290, reclaimableBytes: 30_000 });
    expect(a.layers.map((l) => l.wastedBytes)).toEqual([1200, 28_800, 0, 0]);
    expect(a.layers[3]!.duplicateOf).toBe(1);
    expect(a.layers.map((l) => l.cache)).toEqual(['hit', 'hit', 'miss', 'miss']);
    expect(a.build!.graphSource).toBe('inferred');
  });

  it('--files limits the lists and counts the rest', () => {
    const text = renderExplainText(fixedAnalysis(), { maxFiles: 1 });
    expect(text).toContain('… and 5 more added');
    expect(text).toContain('… and 3 more deleted');
    expect(renderExplainText(fixedAnalysis(), { maxFiles: Number.POSITIVE_INFINITY })).not.toContain('more added');
  });

  it('colours only when asked', () => {
    expect(renderExplainText(fixedAnalysis())).not.toContain('\u001b[');
    expect(renderExplainText(fixedAnalysis(), { color: true })).toContain('\u001b[1mImage fixed:1\u001b[22m');
  });
});
