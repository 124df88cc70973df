/**
 * The malicious-archive corpus (fixtures/malicious) through the whole image path: each hostile
 * layer tar is wrapped into an OCI layout (alone, uncompressed; and gzipped between a benign base
 * layer and a top layer that writes through every symlink it made), imported, flattened, listed,
 * read and unpacked into `<sandbox>/l1/…/l8/target`. The sandbox holds decoy `etc/passwd` files
 * at every level (so relative `..` escapes would find something to overwrite) and an `outside/`
 * folder; host paths that absolute link targets name are watched too.
 *
 * For every case: a refused case fails at import with the code cases.json records and the store
 * is byte-for-byte unchanged; a contained case imports, and then unpacks or fails with a
 * LayerkitError whose code is recorded below; either way nothing outside the target changed and
 * the target holds exactly the flattened tree (a followed symlink would put a file elsewhere).
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  flattenImage,
  importImage,
  isLayerkitError,
  listFlat,
  openStore,
  readFlatFile,
  unpackRootfs,
  type ListedEntry,
  type Store,
} from '../../src/index.js';
import { compareTarPaths } from '../../src/tar/path.js';
import { listTree, treeFromListing } from '../helpers/peers.js';
import { tarBytes, writeLayout } from './layouts.js';
import { snapshotStore } from './store-snapshot.js';

interface MaliciousCase {
  file: string;
  description: string;
  expect: 'refused' | 'contained';
  code?: string;
  stage?: 'parse' | 'whiteout' | 'apply';
}

const DIR = fileURLToPath(new URL('../../fixtures/malicious/', import.meta.url));
const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const cases = JSON.parse(fs.readFileSync(`${DIR}cases.json`, 'utf8')) as MaliciousCase[];

/**
 * What we see for contained cases whose unpack is refused (the rest unpack completely). Each is
 * a refusal with a code, never a write outside the target.
 */
const UNPACK_REFUSALS: Record<string, string> = {
  // Linux cannot create a symlink with an empty target: refused as a broken layer.
  'symlink-empty-target.tar': 'ERR_LAYER_FORMAT',
  // Hardlinks whose target is not a regular file of the image: a missing file, a path through a
  // symlink, a symlink, AUFS metadata that is never materialised.
  'hardlink-absolute-missing.tar': 'ERR_UNSAFE_PATH',
  'hardlink-through-symlink-parent.tar': 'ERR_UNSAFE_PATH',
  'hardlink-to-symlink-chmod.tar': 'ERR_UNSAFE_PATH',
  'aufs-plnk-hardlink.tar': 'ERR_UNSAFE_PATH',
};

const LEVELS = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8'];
const DECOY = 'decoy: must never change\n';

/** Host paths the corpus's absolute link targets could reach. */
const HOST_DIRS = ['/', '/etc', '/tmp', '/tmp/out', '/tmp/victim', '/tmp/victim/etc', '/nonexistent/dir', '/dir1'];
const HOST_NAMES = ['evil', 'x', 'f', 'passwd', 'shadow', 'evil-top', 'etc', 'hidden', 'dir1', 'dir2'];

function hostSnapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of HOST_DIRS) {
    for (const n of ['', ...HOST_NAMES]) {
      const p = n === '' ? d : `${d === '/' ? '' : d}/${n}`;
      try {
        const st = fs.lstatSync(p);
        const content = st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : '';
        out[p] =
          `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.ino} ${st.isDirectory() ? '' : st.mtimeMs} ${content}`;
      } catch {
        out[p] = 'absent';
      }
    }
  }
  out['/etc listing'] = fs.readdirSync('/etc').sort().join(' ');
  return out;
}

/** Everything in the sandbox except the target subtree, with mtimes of non-directories. */
function sandboxSnapshot(sandbox: string, target: string): Record<string, string> {
  const rel = target.slice(sandbox.length);
  const out: Record<string, string> = {};
  for (const e of listTree(sandbox)) {
    if (e.path === rel || e.path.startsWith(`${rel}/`)) continue;
    const st = fs.lstatSync(join(sandbox, e.path));
    out[e.path] = JSON.stringify(e) + (e.type === 'directory' ? '' : ` ${st.mtimeMs}`);
  }
  return out;
}

function makeSandbox(root: string): { sandbox: string; target: string } {
  const sandbox = join(root, 'sandbox');
  let dir = sandbox;
  for (const level of ['', ...LEVELS]) {
    if (level) dir = join(dir, level);
    fs.mkdirSync(join(dir, 'etc'), { recursive: true });
    fs.writeFileSync(join(dir, 'etc', 'passwd'), DECOY);
    fs.writeFileSync(join(dir, 'etc', 'shadow'), DECOY, { mode: 0o400 });
  }
  fs.mkdirSync(join(sandbox, 'outside', 'sub'), { recursive: true });
  fs.writeFileSync(join(sandbox, 'outside', 'secret'), DECOY, { mode: 0o600 });
  fs.symlinkSync('../etc/passwd', join(sandbox, 'outside', 'link'));
  return { sandbox, target: join(dir, 'target') };
}

const file = (path: string, text: string, mode = 0o644) => ({
  header: { path, type: 'file' as const, mode, uid: 0, gid: 0, mtime: 0, size: Buffer.byteLength(text) },
  data: Buffer.from(text),
});
const dir = (path: string) => ({ header: { path, type: 'directory' as const, mode: 0o755, uid: 0, gid: 0, mtime: 0 } });

/** A benign lower layer with the names the corpus aims at. */
async function baseLayer(): Promise<Buffer> {
  return tarBytes([
    dir('a'),
    file('a/b', 'lower a/b\n'),
    dir('dir1'),
    file('dir1/keep', 'lower\n'),
    dir('etc'),
    file('etc/passwd', 'root:x:0:0:lower\n'),
    file('etc/shadow', 'lower shadow\n', 0o400),
    dir('lnk'),
    file('lnk/passwd', 'lower lnk/passwd\n'),
    dir('tmp'),
    dir('tmp/out'),
    dir('tmp/victim'),
    dir('usr'),
    file('usr/keep', 'lower\n'),
  ]);
}

/** A top layer writing a file below every symlink of the flattened case (implicit parents) and etc/x. */
async function followUpLayer(listed: ListedEntry[]): Promise<Buffer> {
  const paths = new Set(['etc/x']);
  for (const e of listed) if (e.type === 'symlink') paths.add(`${e.path.slice(1)}/evil-top`);
  return tarBytes([...paths].sort(compareTarPaths).map((p) => file(p, `written by a later layer at ${p}\n`)));
}

function failure(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isLayerkitError(err)) throw err;
    return err.code;
  }
}

describe('malicious archive corpus through import, flatten, ls, cat and unpack', () => {
  let tmp: string;
  let base: Buffer;
  const observed: Record<string, string> = {};

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    base = await baseLayer();
  });

  it('has at least 30 cases, refused and contained', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(cases.filter((c) => c.expect === 'refused').length).toBeGreaterThan(10);
    expect(cases.filter((c) => c.expect === 'contained').length).toBeGreaterThan(10);
  });

  /** Imports, flattens, lists, reads and unpacks one image; returns the unpack refusal code, if any. */
  async function runImage(
    store: Store,
    source: string,
    tag: string,
    root: string,
  ): Promise<{ code: string | undefined; listed: ListedEntry[] }> {
    const { sandbox, target } = makeSandbox(root);
    const hostBefore = hostSnapshot();
    const sandboxBefore = sandboxSnapshot(sandbox, target);
    const { images } = await importImage({ store, source, tags: [tag] });
    const flat = await flattenImage({ store, image: images[0]!.image });
    const listed = listFlat(flat, { recursive: true });
    // Every listed path reads as image content or fails with a code: never a host file.
    const contents = new Set(listed.filter((e) => e.sha256).map((e) => e.sha256));
    for (const e of listed) {
      try {
        const bytes = readFlatFile(flat, e.path);
        expect(contents.has(createHash('sha256').update(bytes).digest('hex')), e.path).toBe(true);
      } catch (err) {
        // A folder reads as EISDIR (fs-shaped, as `cat` of a folder), anything else as a LayerkitError.
        const coded = isLayerkitError(err) || (e.type === 'directory' && (err as { code?: string }).code === 'EISDIR');
        expect(coded, `${e.path}: ${String(err)}`).toBe(true);
      }
    }
    const code = failure(() => unpackRootfs({ flat, dir: target }));
    expect(sandboxSnapshot(sandbox, target)).toEqual(sandboxBefore);
    expect(hostSnapshot()).toEqual(hostBefore);
    const unpacked = listTree(target);
    const wanted = treeFromListing(listed);
    if (code === undefined) {
      expect(unpacked).toEqual(wanted);
    } else {
      // A refused unpack stops part way: whatever it made is part of the flattened tree.
      const byPath = new Map(wanted.map((w) => [w.path, w]));
      for (const u of unpacked) expect(byPath.get(u.path)?.type, u.path).toBe(u.type);
    }
    return { code, listed };
  }

  describe.each(cases.map((c, i) => ({ ...c, i })))('$file', (c) => {
    it(
      c.expect === 'refused'
        ? `is refused at import with ${c.code}; the store is unchanged`
        : 'is contained: nothing outside the target changes',
      async () => {
        const root = join(tmp, `case-${c.i}`);
        const layer = fs.readFileSync(`${DIR}${c.file}`);
        const store = await openStore({ root: join(root, 'store'), durable: false });
        await importImage({ store, source: HELLO });
        const before = snapshotStore(store);

        writeLayout(join(root, 'single'), [{ tag: 'single', layers: [layer] }]);
        if (c.expect === 'refused') {
          const err = await importImage({ store, source: join(root, 'single') }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isLayerkitError(err), String(err)).toBe(true);
          expect((err as { code: string }).code).toBe(c.code);
          expect((err as Error).message).toMatch(/layer sha256:[0-9a-f]{64}/);
          expect(snapshotStore(store)).toEqual(before);
          // The same layer gzipped, between others, in an oci-archive-shaped folder: same refusal.
          writeLayout(join(root, 'stacked'), [{ tag: 'stacked', layers: [base, layer], gzip: true }]);
          const again = await importImage({ store, source: join(root, 'stacked') }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect((again as { code?: string }).code).toBe(c.code);
          expect(snapshotStore(store)).toEqual(before);
          return;
        }

        const single = await runImage(store, join(root, 'single'), 'mal:single', join(root, 'u1'));
        writeLayout(join(root, 'stacked'), [
          { tag: 'stacked', layers: [base, layer, await followUpLayer(single.listed)], gzip: true },
        ]);
        const stacked = await runImage(store, join(root, 'stacked'), 'mal:stacked', join(root, 'u2'));
        if (single.code !== undefined || stacked.code !== undefined)
          observed[c.file] = single.code ?? stacked.code ?? '';
        if (single.code !== undefined && stacked.code !== undefined) expect(stacked.code).toBe(single.code);
      },
    );
  });

  it('refuses exactly the recorded contained cases at unpack, each with its code', () => {
    expect(observed).toEqual(UNPACK_REFUSALS);
  });
});
