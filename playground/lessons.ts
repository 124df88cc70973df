/**
 * Turns the lessons of `examples/` that build a Dockerfile (those with an `app/` folder holding
 * one) into playground presets, when the page is built: the files as they are, the title and
 * "What you will see" from the README, the file the lesson edits (from its run.mjs) as the task,
 * and the secrets it passes. Nothing is copied by hand, so a lesson and its preset cannot drift.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PlaygroundFile } from './src/files-fs.js';
import type { Preset } from './src/presets.js';

/** Every file below `dir`, relative, sorted, with its mode. */
function filesOf(dir: string, under = dir): PlaygroundFile[] {
  const out: PlaygroundFile[] = [];
  for (const name of readdirSync(under).sort()) {
    const path = join(under, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesOf(dir, path));
    else
      out.push({ path: relative(dir, path), text: readFileSync(path, 'utf8'), mode: st.mode & 0o111 ? 0o755 : 0o644 });
  }
  return out;
}

/** The paragraphs of a README after its title: "Run it" lines left out, list items one per paragraph. */
function readmeParagraphs(readme: string): string[] {
  const paragraphs: string[] = [];
  for (const block of readme.split(/\n\s*\n/).slice(1)) {
    if (block.startsWith('Run it')) continue;
    const items = block.split(/\n(?=\d+\. |- )/);
    for (const item of items) paragraphs.push(item.replace(/\s*\n\s*/g, ' ').trim());
  }
  return paragraphs.filter(Boolean);
}

/** The presets of the lessons in `examplesDir`, in lesson order. */
export function lessonPresets(examplesDir: string): Preset[] {
  const presets: Array<Preset & { order: number }> = [];
  for (const name of readdirSync(examplesDir).sort()) {
    const app = join(examplesDir, name, 'app');
    let files: PlaygroundFile[];
    try {
      files = filesOf(app);
    } catch {
      continue; // a lesson without an app folder does not build a Dockerfile
    }
    const dockerfiles = files.map((f) => f.path).filter((p) => /^Dockerfile(\.|$)/.test(p));
    if (dockerfiles.length === 0) continue;
    const readme = readFileSync(join(examplesDir, name, 'README.md'), 'utf8');
    const title = /^# (.+)$/m.exec(readme)?.[1] ?? name;
    const script = readFileSync(join(examplesDir, name, 'run.mjs'), 'utf8');
    const edited = [...script.matchAll(/(?:appendFileSync|writeFileSync)\(\s*join\(app, '([^']+)'\)/g)].map(
      (m) => m[1]!,
    );
    const secrets: Record<string, string> = {};
    for (const m of script.matchAll(/'([\w.-]+)': \{ value: '([^']*)' \}/g)) secrets[m[1]!] ??= m[2]!;
    const dockerfile = dockerfiles[0]!;
    const verb = (path: string) => (files.some((f) => f.path === path) ? `edit ${path}` : `add a ${path}`);
    const task =
      edited.length > 0
        ? `Build, then ${[...new Set(edited)].map(verb).join(' or ')} and press Rebuild: which steps miss, and why?`
        : `Build, then change a line of ${dockerfile} (or the target) and press Rebuild: which steps miss, and why?`;
    presets.push({
      id: name,
      title,
      order: Number(/Lesson (\d+)/.exec(title)?.[1] ?? 99),
      about: readmeParagraphs(readme),
      task: dockerfiles.length > 1 ? `${task} Then build ${dockerfiles.slice(1).join(', ')} and compare.` : task,
      files,
      dockerfile,
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
    });
  }
  return presets.sort((a, b) => a.order - b.order).map(({ order: _, ...p }) => p);
}
