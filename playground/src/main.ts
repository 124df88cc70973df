/**
 * The playground page: presets, a file tree, an editor, Build and Rebuild. Builds run in a Web
 * Worker (worker.ts); the page draws their progress the way BuildKit prints it, then shows the
 * explain report of the image (the page `layerkit explain --html` writes) in a frame.
 */
import type { BuildEvent, ContainerConfig, StepRecord } from '../../src/index.js';
import type { FolderFile } from './cache-folder.js';
import type { PlaygroundFile } from './files-fs.js';
import { DEFAULT_PRESET, type Preset } from './presets.js';
import { CACHE_FOLDER, type Machine, type PageMessage, type WorkerMessage } from './protocol.js';

/** The lessons of examples/, put in by the build (lessons.ts). */
declare const LESSON_PRESETS: Preset[];
const PRESETS: Preset[] = [DEFAULT_PRESET, ...LESSON_PRESETS];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: Array<Node | string>
) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// ---- state: the files, the one being edited, the preset's extras -------------------------------
let files: PlaygroundFile[] = [];
let current = '';
let secrets: Record<string, string> = {};

function openPreset(preset: Preset): void {
  files = preset.files.map((f) => ({ ...f, mtimeMs: Date.now() }));
  secrets = { ...(preset.secrets ?? {}) };
  $('lesson-title').textContent = preset.title;
  $('lesson-about').replaceChildren(...preset.about.map((p) => el('p', {}, ...inlineCode(p))));
  $('lesson-task').replaceChildren(...inlineCode(preset.task));
  $<HTMLInputElement>('target').value = '';
  current = preset.dockerfile;
  renderDockerfiles(preset.dockerfile);
  renderTree();
  showFile(current);
}

/** Text with `code` spans (as the lessons' READMEs write them) as nodes: code in <code>, the rest as text. */
function inlineCode(text: string): Array<Node | string> {
  return text.split('`').map((part, i) => (i % 2 === 1 ? el('code', { textContent: part }) : part.replace(/\*/g, '')));
}

// ---- file tree ------------------------------------------------------------------------------------
function renderTree(): void {
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  $('tree').replaceChildren(
    ...files.map((f) => {
      const item = el(
        'li',
        { className: f.path === current ? 'selected' : '' },
        el('button', { type: 'button', textContent: f.path }),
      );
      item.dataset['path'] = f.path;
      item.addEventListener('click', () => showFile(f.path));
      return item;
    }),
  );
}

function renderDockerfiles(selected = $<HTMLSelectElement>('dockerfile').value): void {
  const names = files
    .map((f) => f.path)
    .filter((p) => /(^|\/)Dockerfile[^/]*$/.test(p) && !p.endsWith('.dockerignore'));
  $('dockerfile').replaceChildren(
    ...names.map((n) => el('option', { value: n, textContent: n, selected: n === selected })),
  );
  syncBase();
}

function showFile(path: string): void {
  current = path;
  const file = files.find((f) => f.path === path);
  $<HTMLTextAreaElement>('editor').value = file?.text ?? '';
  $<HTMLTextAreaElement>('editor').disabled = file === undefined;
  $('editing').textContent = file ? path : 'no file';
  renderTree();
  renderGutter();
}

function renderGutter(): void {
  const lines = $<HTMLTextAreaElement>('editor').value.split('\n').length;
  $('gutter').textContent = Array.from({ length: lines }, (_, i) => String(i + 1)).join('\n');
}

$('editor').addEventListener('input', () => {
  const file = files.find((f) => f.path === current);
  if (file === undefined) return;
  file.text = $<HTMLTextAreaElement>('editor').value;
  file.mtimeMs = Date.now();
  renderGutter();
  if (file.path === $<HTMLSelectElement>('dockerfile').value) syncBase();
});
$('editor').addEventListener('scroll', () => {
  $('gutter').scrollTop = $('editor').scrollTop;
});

$('add-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('new-path');
  const path = input.value.trim().replace(/^\/+/, '');
  if (path === '' || path.split('/').some((s) => s === '' || s === '.' || s === '..')) return;
  if (!files.some((f) => f.path === path)) files.push({ path, text: '', mode: 0o644, mtimeMs: Date.now() });
  input.value = '';
  renderDockerfiles();
  showFile(path);
});
$('delete-file').addEventListener('click', () => {
  files = files.filter((f) => f.path !== current);
  renderDockerfiles();
  showFile(files[0]?.path ?? '');
});

// ---- base image: the first FROM of the Dockerfile ------------------------------------------------
const FROM = /^(\s*FROM\s+)(\S+)/im;
function syncBase(): void {
  const text = files.find((f) => f.path === $<HTMLSelectElement>('dockerfile').value)?.text ?? '';
  const base = FROM.exec(text)?.[2] ?? '';
  $<HTMLSelectElement>('base').value = ['busybox', 'hello', 'scratch'].includes(base) ? base : '';
}
$('base').addEventListener('change', () => {
  const file = files.find((f) => f.path === $<HTMLSelectElement>('dockerfile').value);
  const base = $<HTMLSelectElement>('base').value;
  if (file === undefined || base === '') return;
  file.text = FROM.test(file.text) ? file.text.replace(FROM, `$1${base}`) : `FROM ${base}\n${file.text}`;
  file.mtimeMs = Date.now();
  showFile(file.path);
});
$('dockerfile').addEventListener('change', () => {
  syncBase();
  showFile($<HTMLSelectElement>('dockerfile').value);
});

// ---- building -----------------------------------------------------------------------------------
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
let running = 0;
let startedAt = 0;

const MACHINE_NAMES: Record<Machine, string> = { a: 'machine A', b: 'machine B' };
let building: Machine = 'a';

/**
 * Builds the editor's files on a machine: `fresh` starts from an empty store; `exportCache` writes
 * the build's records to the shared cache folder, `importCache` reads it after a local miss.
 */
function build(fresh: boolean, machine: Machine = 'a', cache: { exportCache?: boolean; importCache?: boolean } = {}) {
  running = nextId++;
  building = machine;
  startedAt = performance.now();
  setBusy(true);
  $('progress').replaceChildren();
  $('progress-head').textContent = `[+] Building on ${MACHINE_NAMES[machine]}…`;
  $('result').hidden = true;
  if (fresh) worker.postMessage({ type: 'reset', machine } satisfies PageMessage);
  const message: PageMessage = {
    type: 'build',
    id: running,
    machine,
    ...cache,
    request: {
      files,
      dockerfile: $<HTMLSelectElement>('dockerfile').value,
      target: $<HTMLInputElement>('target').value.trim() || undefined,
      secrets,
    },
  };
  worker.postMessage(message);
}
$('build').addEventListener('click', () => build(true));
$('rebuild').addEventListener('click', () => build(false));
$('download').addEventListener('click', () => worker.postMessage({ type: 'save' } satisfies PageMessage));
// Two machines, one cache folder: A exports (after building on its own store, cache and all), B
// starts empty and reuses only what the folder holds; B's rebuild keeps its store.
$('export-a').addEventListener('click', () => build(false, 'a', { exportCache: true }));
$('build-b').addEventListener('click', () => build(true, 'b', { importCache: true }));
$('rebuild-b').addEventListener('click', () => build(false, 'b', { importCache: true }));

function setBusy(busy: boolean): void {
  for (const id of ['build', 'rebuild', 'download', 'export-a', 'build-b', 'rebuild-b'])
    $<HTMLButtonElement>(id).disabled = busy;
  document.body.dataset['state'] = busy ? 'building' : 'idle';
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
/** Steps BuildKit numbers ([stage N/M]) have a row; a stage's FROM gets one when it starts. */
function stepRow(stage: string, label: string, instruction: string): HTMLLIElement {
  const row = el(
    'li',
    { className: 'step running' },
    el('span', { className: 'status' }),
    el('span', { className: 'label', textContent: `[${label}] ` }),
    el('span', { className: 'instruction', textContent: instruction.split('\n')[0]! }),
    el('span', { className: 'time' }),
  );
  row.dataset['stage'] = stage;
  $('progress').append(row);
  return row;
}

const rows = new Map<string, HTMLLIElement>();
function onEvent(event: BuildEvent): void {
  if (event.type === 'build') rows.clear();
  else if (event.type === 'stage' && event.status === 'started' && event.from) {
    const { from } = event;
    const label =
      from.step !== undefined ? `${event.stage} ${from.step}/${event.total ?? '?'}` : `context ${from.context}`;
    const row = stepRow(event.stage, label, from.name);
    row.className = 'step from';
    row.querySelector('.status')!.textContent = 'DONE';
  } else if (event.type === 'stage' && event.status === 'skipped') {
    const row = stepRow(event.stage, event.stage, 'stage skipped: the target does not need it');
    row.className = 'step skipped';
    row.querySelector('.status')!.textContent = 'SKIPPED';
  } else if (event.type === 'step-start' && !isMeta(event.instruction)) {
    rows.set(`${event.stage}\0${event.index}`, stepRow(event.stage, event.stage, event.instruction));
  } else if (event.type === 'step' && !event.metadata && event.status !== 'skipped') finishStep(event);
  else if (event.type === 'log') {
    const row = [...rows.values()].at(-1);
    if (row) appendLog(row, event.data);
  } else if (event.type === 'cache-export') {
    $('progress').append(
      el('li', {
        className: 'exported',
        textContent: `exported cache to ${event.ref}: ${event.records} record${event.records === 1 ? '' : 's'}, ${event.bytesUploaded} bytes written`,
      }),
    );
  } else if (event.type === 'warning') {
    $('progress').append(
      el('li', { className: 'warning', textContent: `warning: ${event.warning.message} (line ${event.warning.line})` }),
    );
  }
}

const isMeta = (instruction: string) => !/^(ADD|COPY|RUN|WORKDIR)\b/i.test(instruction);

function finishStep(s: StepRecord): void {
  const row = rows.get(`${s.stage}\0${s.index}`) ?? stepRow(s.stage, s.stage, s.instruction);
  row.querySelector('.label')!.textContent = `[${s.stage}${s.step !== undefined ? ` ${s.step}/${s.total}` : ''}] `;
  row.className = `step ${s.status}`;
  row.dataset['status'] = s.status;
  row.querySelector('.status')!.textContent =
    s.status === 'cached' ? 'CACHED' : s.status === 'skipped' ? 'SKIPPED' : 'DONE';
  row.querySelector('.time')!.textContent = s.status === 'built' ? seconds(s.durationMs) : '';
  const from = hitSource(s);
  if (from !== '') row.querySelector('.status')!.after(el('span', { className: 'source', textContent: `${from} ` }));
  if (s.status === 'built') {
    const reasons = (s.explanation ?? []).flatMap((r) =>
      r.kind === 'files' && r.files.length > 0
        ? r.files.map((f) => `${f.path} ${f.change}${f.detail ? `: ${f.detail}` : ''}`)
        : [r.message],
    );
    if (reasons.length === 0 && s.reason) reasons.push(s.reason);
    row.append(el('ul', { className: 'reasons' }, ...reasons.map((r) => el('li', { textContent: `miss: ${r}` }))));
  }
}

/** Where a hit came from, when not from the machine's own store. */
function hitSource(s: StepRecord): string {
  const source = s.status === 'cached' ? s.cacheSource : undefined;
  if (source?.kind === 'folder') return `from cache folder ${source.path}`;
  if (source?.kind === 'registry') return `from registry ${source.ref}`;
  return '';
}

/** The image's config as a container starts from it, the fields docker inspect shows under Config. */
function renderConfig(id: string, config: ContainerConfig): void {
  $('image-id').textContent = id.slice('sha256:'.length, 'sha256:'.length + 12);
  const json = (v: unknown) => (v === undefined || v === null ? '' : JSON.stringify(v));
  const rows: Array<[string, string]> = [
    ['Entrypoint', json(config.Entrypoint)],
    ['Cmd', json(config.Cmd)],
    ['Env', (config.Env ?? []).join('\n')],
    ['WorkingDir', config.WorkingDir ?? ''],
    ['User', config.User ?? ''],
    ['ExposedPorts', Object.keys(config.ExposedPorts ?? {}).join(' ')],
    ['Volumes', Object.keys(config.Volumes ?? {}).join(' ')],
    [
      'Labels',
      Object.entries(config.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    ],
    ['StopSignal', config.StopSignal ?? ''],
  ];
  $('config').replaceChildren(
    ...rows.map(([name, value]) => {
      const row = el('tr', {}, el('th', { textContent: name }), el('td', { textContent: value || '(not set)' }));
      row.dataset['field'] = name;
      if (!value) row.className = 'unset';
      return row;
    }),
  );
  // What `docker run IMAGE` runs: the entrypoint, then the command as its arguments.
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  const shown = argv.map((a) => (/^[\w./=:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  const where = [
    config.WorkingDir ? `in ${config.WorkingDir}` : '',
    `as ${config.User ? `user ${config.User}` : 'root'}`,
  ];
  $('run-line').textContent =
    argv.length > 0
      ? `docker run IMAGE runs: ${shown} (${where.filter(Boolean).join(', ')})`
      : 'docker run IMAGE has nothing to run: the image sets no Entrypoint and no Cmd';
}

/** The shared cache folder's files, as the machines panel lists them. */
function renderFolder(list: FolderFile[]): void {
  const blobs = list.filter((f) => f.path.startsWith('blobs/'));
  const bytes = list.reduce((n, f) => n + f.size, 0);
  $('folder').textContent =
    list.length === 0
      ? `The cache folder ${CACHE_FOLDER} is empty.`
      : `The cache folder ${CACHE_FOLDER}: ${list.length - blobs.length} files (${list
          .filter((f) => !f.path.startsWith('blobs/'))
          .map((f) => f.path)
          .join(', ')}) and ${blobs.length} blobs, ${bytes} bytes.`;
  document.body.dataset['folderFiles'] = String(list.length);
}

function appendLog(row: HTMLLIElement, text: string): void {
  let log = row.querySelector('pre');
  if (!log) row.append((log = el('pre', { className: 'log' })));
  log.textContent += text;
}

worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
  const m = e.data;
  if (m.type === 'ready') {
    if (document.body.dataset['ready'] === undefined && m.machine === 'a') {
      // The first time: since the page began to load (the page-ready figure of bench/).
      const ms = Math.round(performance.now());
      $('status').textContent = `ready: layerkit loaded and the store open in ${ms} ms`;
      document.body.dataset['ready'] = String(ms);
      setBusy(false);
    }
    return;
  }
  if (m.type === 'archive') {
    const a = el('a', { href: URL.createObjectURL(m.blob), download: 'playground.oci.tar' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    return;
  }
  if (m.id !== running && m.id !== 0) return;
  if (m.type === 'event') onEvent(m.event);
  else if (m.type === 'done') {
    const all = m.steps.filter((s) => !s.metadata && s.status !== 'skipped');
    const cached = all.filter((s) => s.status === 'cached').length;
    $('progress-head').textContent =
      `[+] Building ${seconds(m.durationMs)} (${all.length}/${all.length}) FINISHED on ${MACHINE_NAMES[m.machine]}: ${cached} cached, ${all.length - cached} built`;
    renderConfig(m.image.id, m.image.config);
    renderFolder(m.folder);
    $<HTMLIFrameElement>('report').srcdoc = m.html;
    $('result').hidden = false;
    setBusy(false);
    $<HTMLButtonElement>('download').hidden = false;
    document.body.dataset['built'] = String(m.id);
  } else {
    $('progress-head').textContent =
      `[+] Building ${seconds(performance.now() - startedAt)} ERROR on ${MACHINE_NAMES[building]}`;
    $('progress').append(el('li', { className: 'error', textContent: `error[${m.error.code}]: ${m.error.message}` }));
    if (m.id === 0) $('status').textContent = `layerkit failed to start: ${m.error.message}`;
    setBusy(m.id === 0);
    document.body.dataset['built'] = String(m.id);
  }
});

// ---- presets ------------------------------------------------------------------------------------
$('preset').replaceChildren(...PRESETS.map((p) => el('option', { value: p.id, textContent: p.title })));
$('preset').addEventListener('change', () =>
  openPreset(PRESETS.find((p) => p.id === $<HTMLSelectElement>('preset').value)!),
);
openPreset(PRESETS[0]!);
setBusy(true);
