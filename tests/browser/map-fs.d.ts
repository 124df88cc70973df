/** Types of map-fs.js (plain JavaScript, so the page loads it as is). */
import type { ContextFs } from '../../src/builder/context.js';

export declare function createMapFs(
  dir: string,
  files: Record<string, string>,
  mtimeMs: number,
): ContextFs & { writeFile(rel: string, text: string, mtimeMs: number): void };
