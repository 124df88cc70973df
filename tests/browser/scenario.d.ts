/** Types of scenario.js (plain JavaScript, so the page loads it as is). */
import type { Store } from '../../src/index.js';

export declare const DOCKERFILE: string;
export declare const FILES: Record<string, string>;

/** What both sides of the test must agree on, per build. */
export interface ScenarioSummary {
  digest: string;
  config: string;
  diffIds: string[];
  layers: Array<{ digest: string; mediaType: string }>;
  steps: Array<{ stage: string; instruction: string; status: string; reason: string | null }>;
}

export declare function runScenario(
  lk: unknown,
): Promise<{ store: Store; results: ScenarioSummary[]; timings: number[] }>;
