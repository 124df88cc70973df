/**
 * Turns the lessons of `examples/` into playground presets, when the page is built. Nothing is
 * copied by hand, so a lesson and its preset cannot drift:
 * - a lesson that builds a Dockerfile (an `app/` folder holding one): its files as they are, the
 *   title and "What you will see" from the README, the file the lesson edits (from its run.mjs)
 *   as the task, and the secrets it passes;
 * - a lesson that builds one from its run.mjs (`const DOCKERFILE = \`…\``): that Dockerfile and
 *   the files its run.mjs writes (`writeFileSync(join(dir, …), '…')`);
 * - a lesson about what a page cannot run (containers, runc, a store kept on disk): the part it
 *   can, from the lesson's `page/` folder and the lesson's own files beside its run.mjs.
 * Those two take their task from the README's "In the playground" section, which says honestly
 * what stays in the Node lesson.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

const PLAYGROUND_SECTION = '\n## In the playground\n';

/** The paragraphs of a README after its title: "Run it" lines left out, list items one per paragraph. */
function readmeParagraphs(readme: string): string[] {
  const paragraphs: string[] = [];
  const end = readme.indexOf(PLAYGROUND_SECTION);
  for (const block of (end < 0 ? readme : readme.slice(0, end)).split(/\n\s*\n/).slice(1)) {
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
    const lesson = join(examplesDir, name);
    if (!existsSync(join(lesson, 'run.mjs'))) continue;
    const readme = readFileSync(join(lesson, 'README.md'), 'utf8');
    const title = /^# (.+)$/m.exec(readme)?.[1] ?? name;
    const script = readFileSync(join(lesson, 'run.mjs'), 'utf8');
    const inPage = readme.indexOf(PLAYGROUND_SECTION);
    let files: PlaygroundFile[];
    if (existsSync(join(lesson, 'app'))) files = filesOf(join(lesson, 'app'));
    else if (existsSync(join(lesson, 'page'))) files = [...filesOf(join(lesson, 'page')), ...besideRun(lesson)];
    else files = scriptFiles(script);
    const dockerfiles = files.map((f) => f.path).filter((p) => /^Dockerfile(\.|$)/.test(p));
    if (dockerfiles.length === 0) continue;
    const edited = [...script.matchAll(/(?:appendFileSync|writeFileSync)\(\s*join\(app, '([^']+)'\)/g)].map(
      (m) => m[1]!,
    );
    const secrets: Record<string, string> = {};
    for (const m of script.matchAll(/'([\w.-]+)': \{ value: '([^']*)' \}/g)) secrets[m[1]!] ??= m[2]!;
    const dockerfile = dockerfiles[0]!;
    const verb = (path: string) => (files.some((f) => f.path === path) ? `edit ${path}` : `add a ${path}`);
    const task =
      inPage >= 0
        ? readme
            .slice(inPage + PLAYGROUND_SECTION.length)
            .trim()
            .replace(/\s*\n\s*/g, ' ')
        : edited.length > 0
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

/** A lesson's own files beside its run.mjs (e.g. a script it runs in a container), for its page/ Dockerfile. */
function besideRun(lesson: string): PlaygroundFile[] {
  return filesOf(lesson).filter((f) => !f.path.includes('/') && f.path !== 'README.md' && f.path !== 'run.mjs');
}

/** The Dockerfile a run.mjs builds (`const DOCKERFILE = \`…\``) and the files it writes into `dir`. */
function scriptFiles(script: string): PlaygroundFile[] {
  const dockerfile = /const DOCKERFILE = `((?:[^`$\\]|\$(?!\{))*)`/.exec(script)?.[1];
  if (dockerfile === undefined) return [];
  const files: PlaygroundFile[] = [{ path: 'Dockerfile', text: dockerfile, mode: 0o644 }];
  for (const m of script.matchAll(/writeFileSync\(join\(dir, ((?:'[^']+'(?:, )?)+)\), '([^']*)'\)/g)) {
    const path = [...m[1]!.matchAll(/'([^']+)'/g)].map((p) => p[1]).join('/');
    const text = m[2]!.replace(/\\n/g, '\n');
    if (!files.some((f) => f.path === path)) files.push({ path, text, mode: 0o644 });
  }
  return files;
}
