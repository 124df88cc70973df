/**
 * Writes fixtures/malicious/*.tar and fixtures/malicious/cases.json: small hostile layer tars
 * taken from the path-safety history of image and archive tools (CVE write-ups, containerd's
 * `TestBreakouts`, node-tar's advisories, go-containerregistry issues). Each case records what a
 * correct consumer must do with it: `refused` (with the error code and the stage that refuses)
 * or `contained` (nothing outside the extraction root may be touched; the entry may be applied
 * inside the root, skipped, or fail).
 *
 * The tars are built with the raw block encoder from src/tar/header.ts, which writes names and
 * fields exactly as told (no normalising), because a normal writer refuses to produce them.
 *
 * Run: npx tsx scripts/make-malicious-corpus.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BLOCK_SIZE, paddedSize, TYPEFLAG } from '../src/tar/header.js';
import { writeBlock } from '../src/tar/header-encode.js';
import { encodePaxRecords } from '../src/tar/pax.js';

/** What a consumer must do with a case. */
export interface MaliciousCase {
  /** File name under fixtures/malicious/. */
  file: string;
  description: string;
  /** Where the case comes from: a CVE, a containerd TestBreakouts name, an issue. */
  source: string;
  expect: 'refused' | 'contained';
  /** The LayerkitError code a refusal carries. */
  code?: string;
  /**
   * Which layer of layerkit refuses: `parse` (TarParser, while reading the tar), `whiteout`
   * (classifyWhiteout, on a parsed entry's path) or `apply` (the layer applier / unpacker).
   */
  stage?: 'parse' | 'whiteout' | 'apply';
}

/** One raw entry for the fixture builder. Nothing is normalised or validated. */
interface RawEntry {
  name: string;
  /** Typeflag character (`'0'` file, `'1'` hardlink, `'2'` symlink, `'5'` dir, ...). */
  type: string;
  mode?: number;
  linkname?: string;
  data?: string | Buffer;
  /** Declared size when it differs from the data (truncated archives); must be the last entry. */
  declaredSize?: number;
  /** PAX `x` records placed before the entry. */
  pax?: Array<[string, string]>;
  /** Declared size of the PAX header data, when it lies (the archive ends after it). */
  paxDeclaredSize?: number;
  /** PAX `g` records placed before the entry. */
  globalPax?: Array<[string, string]>;
  /** GNU `L` long name placed before the entry. */
  longName?: string;
  longNameDeclaredSize?: number;
  /** Override the stored checksum. */
  checksum?: number;
}

const MTIME = 1_700_000_000;

function block(fields: Parameters<typeof writeBlock>[2]): Buffer {
  const out = Buffer.alloc(BLOCK_SIZE);
  writeBlock(out, 0, fields);
  return out;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc(paddedSize(data.length) - data.length)]);
}

/** A meta header (x, g, L) and its data; when `declared` is larger, the archive ends inside it. */
function meta(typeflag: number, name: string, data: Buffer, declared?: number): { bytes: Buffer; truncated: boolean } {
  const size = declared ?? data.length;
  const header = block({
    name,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
    typeflag,
    format: typeflag === TYPEFLAG.gnuLongName ? 'gnu' : 'ustar',
  });
  if (size > data.length) return { bytes: Buffer.concat([header, data]), truncated: true };
  return { bytes: Buffer.concat([header, padded(data)]), truncated: false };
}

/** Builds a tar from raw entries; `'zero'` inserts a single zero block. */
function rawTar(entries: Array<RawEntry | 'zero'>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e === 'zero') {
      parts.push(Buffer.alloc(BLOCK_SIZE));
      continue;
    }
    if (e.globalPax) parts.push(meta(TYPEFLAG.paxGlobal, 'pax_global_header', encodePaxRecords(e.globalPax)).bytes);
    if (e.longName !== undefined) {
      const m = meta(TYPEFLAG.gnuLongName, '././@LongLink', Buffer.from(`${e.longName}\0`), e.longNameDeclaredSize);
      parts.push(m.bytes);
      if (m.truncated) return Buffer.concat(parts);
    }
    if (e.pax) {
      const m = meta(TYPEFLAG.paxLocal, 'PaxHeaders/entry', encodePaxRecords(e.pax), e.paxDeclaredSize);
      parts.push(m.bytes);
      if (m.truncated) return Buffer.concat(parts);
    }
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const size = e.declaredSize ?? data.length;
    parts.push(
      block({
        name: e.name.length > 100 ? 'long-name-in-pax' : e.name,
        mode: e.mode ?? (e.type === '5' ? 0o755 : e.type === '2' ? 0o777 : 0o644),
        uid: 0,
        gid: 0,
        size,
        mtime: MTIME,
        typeflag: e.type.charCodeAt(0),
        linkname: e.linkname,
        checksum: e.checksum,
      }),
    );
    if (size > data.length) {
      parts.push(data);
      return Buffer.concat(parts);
    }
    parts.push(padded(data));
  }
  parts.push(Buffer.alloc(2 * BLOCK_SIZE));
  return Buffer.concat(parts);
}

const file = (name: string, data = 'pwned\n'): RawEntry => ({ name, type: '0', data });
const dir = (name: string): RawEntry => ({ name, type: '5' });
const symlink = (name: string, target: string): RawEntry => ({ name, type: '2', linkname: target });
const hardlink = (name: string, target: string): RawEntry => ({ name, type: '1', linkname: target });

const contained = (file: string, source: string, description: string): MaliciousCase => ({
  file,
  description,
  source,
  expect: 'contained',
});
const refused = (
  file: string,
  stage: 'parse' | 'whiteout' | 'apply',
  code: string,
  source: string,
  description: string,
): MaliciousCase => ({ file, description, source, expect: 'refused', code, stage });

const NFC = 'caf\u00e9';
const NFD = 'cafe\u0301';

/** Every case with its bytes, in a fixed order. */
export function maliciousCorpus(): Array<{ meta: MaliciousCase; bytes: Buffer }> {
  const cases: Array<[MaliciousCase, Array<RawEntry | 'zero'>]> = [
    // --- symlink escapes: the codec parses them; the applier must resolve inside the root.
    [
      contained(
        'symlink-absolute.tar',
        'containerd TestBreakouts/SymlinkAbsolute',
        'symlink localetc -> /etc, then a file written through it',
      ),
      [symlink('localetc', '/etc'), file('localetc/evil')],
    ],
    [
      contained(
        'symlink-up-and-out.tar',
        'containerd TestBreakouts/SymlinkUpAndOut; CVE-2015-8860',
        'symlink dummy -> ../../../../../../../etc, then a file written through it',
      ),
      [symlink('dummy', '../../../../../../../etc'), file('dummy/evil')],
    ],
    [
      contained(
        'symlink-multiple-absolute.tar',
        'containerd TestBreakouts/SymlinkMultipleAbsolute',
        'dir1 -> /etc, dir2 -> /dir1, then a file written through dir2',
      ),
      [symlink('dir1', '/etc'), symlink('dir2', '/dir1'), file('dir2/evil')],
    ],
    [
      contained(
        'symlink-multiple-relative.tar',
        'containerd TestBreakouts/SymlinkMultipleRelative',
        'dir1 -> ../../../etc, dir2 -> dir1, then a file written through dir2',
      ),
      [symlink('dir1', '../../../etc'), symlink('dir2', 'dir1'), file('dir2/evil')],
    ],
    [
      contained(
        'symlink-parent-directory.tar',
        'containerd TestBreakouts/SymlinkParentDirectory',
        'dir1/dir2 -> ../.., then a file written through it',
      ),
      [dir('dir1/'), symlink('dir1/dir2', '../..'), file('dir1/dir2/evil')],
    ],
    [
      contained(
        'symlink-slash-ended.tar',
        'containerd TestBreakouts/SymlinkSlashEnded',
        'dir1 -> /tmp/, then a slash-ended directory entry dir1/ and a file below it',
      ),
      [symlink('dir1', '/tmp/'), dir('dir1/'), file('dir1/evil')],
    ],
    [
      contained(
        'symlink-override-directory.tar',
        'containerd TestBreakouts/SymlinkOverrideDirectory',
        'directory etc/, then symlink etc -> /etc replacing it, then etc/evil',
      ),
      [dir('etc/'), symlink('etc', '/etc'), file('etc/evil')],
    ],
    [
      contained(
        'symlink-override-directory-relative.tar',
        'containerd TestBreakouts/SymlinkOverrideDirectoryRelative',
        'directory etc/, then symlink etc -> ../../../../etc, then etc/evil',
      ),
      [dir('etc/'), symlink('etc', '../../../../etc'), file('etc/evil')],
    ],
    [
      contained(
        'symlink-empty-target.tar',
        'containerd TestBreakouts/SymlinkEmptyFile',
        'symlink foo with an empty target, then a file below it',
      ),
      [symlink('foo', ''), file('foo/bar')],
    ],
    [
      contained(
        'symlink-dotdot-target.tar',
        'CVE-2015-8860',
        'symlink passwd -> ../../../etc/passwd (never followed outside the root)',
      ),
      [symlink('passwd', '../../../etc/passwd')],
    ],
    [
      contained(
        'root-dot-symlink.tar',
        'CVE-2021-29136 (umoci)',
        "the root entry '.' is a symlink to /tmp/victim, then etc/x; the root entry must be ignored or refused, never followed",
      ),
      [symlink('.', '/tmp/victim'), file('etc/x')],
    ],
    [
      contained(
        'root-slash-symlink.tar',
        'CVE-2021-29136 (umoci)',
        "the root entry '/' is a symlink to /tmp/victim, then etc/x",
      ),
      [symlink('/', '/tmp/victim'), file('etc/x')],
    ],
    [
      contained(
        'root-dot-dot-symlink.tar',
        'CVE-2021-29136 (umoci)',
        "the root entry './.' is a symlink to /tmp/victim, then etc/x",
      ),
      [symlink('./.', '/tmp/victim'), file('etc/x')],
    ],
    [
      contained(
        'directory-override-symlink.tar',
        'containerd TestBreakouts/DirectoryOverrideSymlink',
        'symlink x -> /tmp, then a directory entry x/ and x/evil',
      ),
      [symlink('x', '/tmp'), dir('x/'), file('x/evil')],
    ],
    // --- names: `..` is refused by the codec, absolute names are made relative.
    [
      refused('dotdot-name.tar', 'parse', 'ERR_UNSAFE_PATH', 'tar-slip (CVE-2015-8860 class)', 'a file named ../evil'),
      [file('../evil')],
    ],
    [
      refused('dotdot-inner-name.tar', 'parse', 'ERR_UNSAFE_PATH', 'tar-slip', 'a file named a/../../evil'),
      [file('a/../../evil')],
    ],
    [
      refused(
        'dotdot-absolute-name.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'tar-slip',
        'a file named /../evil (absolute, then up)',
      ),
      [file('/../evil')],
    ],
    [
      contained(
        'dotdot-resolved-name.tar',
        'ggcr #2330 -> #2399 (do not over-refuse)',
        'a file named a/../b, which stays inside the root (it is b)',
      ),
      [file('a/../b', 'ok\n')],
    ],
    [
      contained(
        'root-entries.tar',
        'ggcr #2330 -> #2399 (do not over-refuse)',
        "the root written as '.', './' and './.' plus ./a: all valid",
      ),
      [dir('.'), dir('./'), dir('./.'), file('./a', 'ok\n')],
    ],
    [
      contained(
        'absolute-name.tar',
        'docker-image-spec example layers',
        'a file named /etc/evil: lands at etc/evil inside the root',
      ),
      [file('/etc/evil')],
    ],
    [
      contained(
        'absolute-name-many-slashes.tar',
        'CVE-2021-32804 (node-tar)',
        'a file named ////tmp/evil: every leading slash is stripped',
      ),
      [file('////tmp/evil')],
    ],
    [
      contained(
        'windows-drive-names.tar',
        'CVE-2021-37713 (node-tar)',
        "names c:../evil and C:x: ordinary names on Linux (':' and no drive semantics)",
      ),
      [file('c:../evil'), file('C:x')],
    ],
    [
      contained(
        'backslash-dir-cache.tar',
        'CVE-2021-37701 (node-tar)',
        'dir a\\b/, symlink a\\b -> /tmp/out, file a\\b/f: backslash is an ordinary character',
      ),
      [dir('a\\b/'), symlink('a\\b', '/tmp/out'), file('a\\b/f')],
    ],
    [
      contained(
        'dir-cache-poisoning.tar',
        'CVE-2021-32803 (node-tar)',
        'dir a/, then symlink a -> /tmp/out, then a/f: a cached "a is a directory" must not be trusted',
      ),
      [dir('a/'), symlink('a', '/tmp/out'), file('a/f')],
    ],
    [
      contained(
        'unicode-nfc-nfd.tar',
        'CVE-2021-37712 (node-tar)',
        `dir ${NFC}/ (NFC), symlink ${NFD} (NFD) -> /tmp/out, file ${NFD}/f: two different names on Linux, and the file goes through the symlink`,
      ),
      [dir(`${NFC}/`), symlink(NFD, '/tmp/out'), file(`${NFD}/f`)],
    ],
    // --- hardlinks: targets are relative to the layer root; `..` is refused by the codec.
    [
      refused(
        'hardlink-up-and-out.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'containerd TestBreakouts/HardlinkRelativeUpAndOut; CVE-2026-26960',
        'hardlink h -> ../../etc/passwd',
      ),
      [hardlink('h', '../../etc/passwd')],
    ],
    [
      refused(
        'hardlink-relative-long.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'containerd TestBreakouts/HardlinkRelativeLong',
        'hardlink h -> a/b/../../../etc/passwd',
      ),
      [hardlink('h', 'a/b/../../../etc/passwd')],
    ],
    [
      refused(
        'hardlink-down-and-out.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'containerd TestBreakouts/HardlinkDownAndOut',
        'dir dummy/, hardlink h -> dummy/../../etc/passwd',
      ),
      [dir('dummy/'), hardlink('h', 'dummy/../../etc/passwd')],
    ],
    [
      refused(
        'hardlink-pax-linkpath-dotdot.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'CVE-2026-23745 (node-tar)',
        'hardlink whose PAX linkpath is /../../etc/shadow (the ustar linkname looks harmless)',
      ),
      [{ ...hardlink('h', 'etc/harmless'), pax: [['linkpath', '/../../etc/shadow']] }],
    ],
    [
      contained(
        'hardlink-absolute.tar',
        'containerd TestBreakouts/HardlinkAbsolute; CVE-2026-23745',
        'file etc/passwd, hardlink h -> /etc/passwd: the layer root is meant, not the host',
      ),
      [file('etc/passwd', 'root:x:0:0\n'), hardlink('h', '/etc/passwd')],
    ],
    [
      contained(
        'hardlink-absolute-missing.tar',
        'containerd TestBreakouts/HardlinkDirectAbsolute',
        'hardlink h -> /etc/shadow with no such file in the layer: link a lower file or fail, never the host file',
      ),
      [hardlink('h', '/etc/shadow')],
    ],
    [
      contained(
        'hardlink-through-symlink-parent.tar',
        'CVE-2026-26960 (node-tar); containerd TestBreakouts/HardlinkSymlinkAbsolute',
        'symlink lnk -> /etc, hardlink h -> lnk/passwd: the target resolves inside the root',
      ),
      [symlink('lnk', '/etc'), hardlink('h', 'lnk/passwd')],
    ],
    [
      contained(
        'hardlink-to-symlink-chmod.tar',
        'CVE-2021-32760; containerd TestBreakouts/HardlinkSymlinkChmod',
        'symlink s -> /etc/passwd, hardlink h -> s with mode 0777: link the symlink itself, chmod nothing outside',
      ),
      [symlink('s', '/etc/passwd'), { ...hardlink('h', 's'), mode: 0o777 }],
    ],
    [
      contained(
        'aufs-plnk-hardlink.tar',
        'moby UnpackLayer (AUFS .wh..wh.plnk)',
        'a file under .wh..wh.plnk/ and a hardlink to it: AUFS metadata, never materialised',
      ),
      [
        dir('.wh..wh.plnk/'),
        file('.wh..wh.plnk/1234.5678', 'data\n'),
        dir('usr/'),
        hardlink('usr/x', '.wh..wh.plnk/1234.5678'),
      ],
    ],
    // --- whiteouts
    [
      refused(
        'whiteout-empty-name.tar',
        'whiteout',
        'ERR_LAYER_FORMAT',
        'umoci (".wh. with an empty name is an error"); containerd TestBreakouts/WhiteoutDirectoryName',
        'a whiteout dir/.wh. with nothing after the prefix',
      ),
      [dir('dir/'), file('dir/.wh.', '')],
    ],
    [
      refused(
        'whiteout-root-empty-name.tar',
        'whiteout',
        'ERR_LAYER_FORMAT',
        'containerd TestBreakouts/WhiteoutRoot',
        "a whiteout '.wh.' at the root (aimed at the root itself)",
      ),
      [file('.wh.', '')],
    ],
    [
      refused(
        'whiteout-current-directory.tar',
        'whiteout',
        'ERR_LAYER_FORMAT',
        'containerd TestBreakouts/WhiteoutCurrentDirectory',
        "a whiteout '.wh..' (aimed at '.')",
      ),
      [file('.wh..', '')],
    ],
    [
      refused(
        'whiteout-root-parent.tar',
        'whiteout',
        'ERR_LAYER_FORMAT',
        'containerd TestBreakouts/WhiteoutRootParent',
        "a whiteout '.wh...' at the root (aimed at '..')",
      ),
      [file('.wh...', '')],
    ],
    [
      refused(
        'whiteout-parent.tar',
        'whiteout',
        'ERR_LAYER_FORMAT',
        'containerd TestBreakouts/WhiteoutParent',
        "a whiteout 'dir/.wh...' (aimed at 'dir/..')",
      ),
      [dir('dir/'), file('dir/.wh...', '')],
    ],
    [
      refused(
        'whiteout-dotdot-name.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'containerd TestBreakouts/WhiteoutRelativePath',
        'a whiteout named a/../../.wh.x (climbs out before it is a whiteout)',
      ),
      [file('a/../../.wh.x', '')],
    ],
    [
      contained(
        'whiteout-relative-resolved.tar',
        'containerd TestBreakouts/WhiteoutRelativePath',
        "a whiteout a/../.wh.b, which is '.wh.b' inside the root",
      ),
      [file('a/../.wh.b', '')],
    ],
    [
      contained(
        'whiteout-through-symlink.tar',
        'containerd TestBreakouts/WhiteoutSymlink and WhiteoutSymlinkPath',
        'symlink lnk -> /etc, whiteout lnk/.wh.passwd: must not delete the host /etc/passwd',
      ),
      [symlink('lnk', '/etc'), file('lnk/.wh.passwd', '')],
    ],
    [
      contained(
        'whiteout-dead-symlink-parent.tar',
        'containerd TestBreakouts/WhiteoutDeadSymlinkParent',
        'symlink dead -> /nonexistent/dir, whiteout dead/.wh.x',
      ),
      [symlink('dead', '/nonexistent/dir'), file('dead/.wh.x', '')],
    ],
    // --- limits and malformed archives: the codec refuses them.
    [
      refused(
        'depth-2000.tar',
        'parse',
        'ERR_LIMIT_EXCEEDED',
        'CVE-2024-28863 (node-tar maxDepth)',
        'one file 2000 directories deep (PAX path)',
      ),
      [{ ...file('deep'), pax: [['path', `${'a/'.repeat(2000)}f`]] }],
    ],
    [
      refused(
        'path-too-long.tar',
        'parse',
        'ERR_LIMIT_EXCEEDED',
        'PATH_MAX (4096)',
        'one file whose PAX path is 5000 bytes long in 50 components',
      ),
      [{ ...file('long'), pax: [['path', Array.from({ length: 50 }, () => 'x'.repeat(99)).join('/')]] }],
    ],
    [
      refused(
        'truncated-huge-size.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'CVE-2024-28863 class (resource exhaustion); Go archive/tar ErrUnexpectedEOF',
        'a file declaring 1 GiB of data followed by 16 bytes and EOF',
      ),
      [{ ...file('big', 'only sixteen b\n\n'), declaredSize: 1024 ** 3 }],
    ],
    [
      refused(
        'pax-header-1gib.tar',
        'parse',
        'ERR_LIMIT_EXCEEDED',
        'node-tar / Go archive/tar maxSpecialFileSize',
        'a PAX header claiming 1 GiB of records',
      ),
      [{ ...file('x'), pax: [['path', 'x']], paxDeclaredSize: 1024 ** 3 }],
    ],
    [
      refused(
        'gnu-longname-2mib.tar',
        'parse',
        'ERR_LIMIT_EXCEEDED',
        'Go archive/tar maxSpecialFileSize',
        'a GNU long-name header claiming 2 MiB',
      ),
      [{ ...file('x'), longName: 'x', longNameDeclaredSize: 2 * 1024 ** 2 }],
    ],
    [
      refused(
        'nul-in-pax-path.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'PAX paths may hold NUL; no filesystem name can',
        "a PAX path 'etc/passwd\\0.txt'",
      ),
      [{ ...file('safe'), pax: [['path', 'etc/passwd\0.txt']] }],
    ],
    [
      refused(
        'gnu-longname-dotdot.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'tar-slip through GNU long names',
        "a GNU long name '../../../evil' over a harmless ustar name",
      ),
      [{ ...file('safe'), longName: '../../../evil' }],
    ],
    [
      refused(
        'pax-path-dotdot.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'tar-slip through PAX (tools that ignore PAX see the ustar name)',
        "a PAX path '../evil' over a harmless ustar name 'safe'",
      ),
      [{ ...file('safe'), pax: [['path', '../evil']] }],
    ],
    [
      refused(
        'pax-global-dotdot.tar',
        'parse',
        'ERR_UNSAFE_PATH',
        'PAX global headers set defaults for every later entry',
        'a global PAX header with path=../evil, then a file',
      ),
      [{ ...file('x'), globalPax: [['path', '../evil']] }],
    ],
    [
      refused(
        'pax-size-overflow.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'integer overflow in size fields',
        'a PAX size of 99999999999999999999 (past 2^53)',
      ),
      [{ ...file('x'), pax: [['size', '99999999999999999999']] }],
    ],
    [
      refused(
        'sparse-entry.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'image-spec layer.md (sparse files SHOULD NOT be used)',
        "a GNU sparse entry (typeflag 'S')",
      ),
      [{ ...file('sparse'), type: 'S' }],
    ],
    [
      refused(
        'unknown-typeflag.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'containerd (unknown typeflags are errors)',
        "an entry with typeflag 'V' (volume label)",
      ),
      [{ ...file('label'), type: 'V' }],
    ],
    [
      refused(
        'bad-checksum.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'tar format (header checksum)',
        'a good entry, then a header whose checksum is wrong',
      ),
      [file('ok', 'ok\n'), { ...file('x'), checksum: 1234 }],
    ],
    [
      refused(
        'hidden-after-zero-block.tar',
        'parse',
        'ERR_LAYER_FORMAT',
        'Go archive/tar (zero block then a header is ErrHeader)',
        'one entry, a single zero block, then another entry that tools stopping at the first zero block would not see',
      ),
      [file('seen', 'a\n'), 'zero', file('hidden', 'b\n')],
    ],
  ];
  return cases.map(([meta, entries]) => ({ meta, bytes: rawTar(entries) }));
}

function main(): void {
  const dir = fileURLToPath(new URL('../fixtures/malicious/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const corpus = maliciousCorpus();
  const keep = new Set(corpus.map((c) => c.meta.file));
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.tar') && !keep.has(name)) rmSync(`${dir}${name}`);
  }
  for (const { meta, bytes } of corpus) writeFileSync(`${dir}${meta.file}`, bytes);
  writeFileSync(
    `${dir}cases.json`,
    `${JSON.stringify(
      corpus.map((c) => c.meta),
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`wrote ${corpus.length} cases to ${dir}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
