/**
 * COPY and ADD, as BuildKit does them (reference §3.9, §3.10): what lands where, with which
 * type, mode, owner and content. Each row builds on scratch (or a base with users) and compares
 * the whole resulting tree.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import { isLayerkitError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/store.js';
import { BASE_USERS, describeTree, makeBaseImage, makeContext, makeTar, type FileTable } from './helpers.js';

interface CopyRow {
  name: string;
  dockerfile: string;
  /** The whole tree, except what the base image brought (see `exclude`). */
  tree: Record<string, string>;
  /** Paths left out of the comparison (default: `base:1`'s /etc, /home, /opt, /usr and /bin). */
  exclude?: string[];
}

const F = (mode: string, owner: string, text: string) => `file ${mode} ${owner} ${JSON.stringify(text)}`;
const D = (mode: string, owner = '0:0') => `dir ${mode} ${owner}`;

const rows: CopyRow[] = [
  {
    name: 'a file: written as the destination, or into a trailing-slash or existing directory',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY a.txt /into/\nCOPY b.txt /into\nCOPY a.txt /new/parents/f\n',
    tree: {
      '/a': F('644', '0:0', 'a\n'),
      '/into': D('755'),
      '/into/a.txt': F('644', '0:0', 'a\n'),
      '/into/b.txt': F('600', '0:0', 'b\n'),
      '/new': D('755'),
      '/new/parents': D('755'),
      '/new/parents/f': F('644', '0:0', 'a\n'),
    },
  },
  {
    name: 'a directory copies its contents, merged into an existing directory; symlinks inside are kept',
    dockerfile: 'FROM scratch\nCOPY dir /d\nCOPY other/ /d/\nCOPY private /p\n',
    tree: {
      '/d': D('755'),
      '/d/x': F('644', '0:0', 'x\n'),
      '/d/link': 'symlink 0:0 -> x',
      '/d/sub': D('755'),
      '/d/sub/y': F('644', '0:0', 'y\n'),
      '/d/z.md': F('644', '0:0', 'z\n'),
      '/d/o': F('644', '0:0', 'o\n'),
      '/p': D('700'),
      '/p/secret': F('600', '0:0', 's\n'),
    },
  },
  {
    name: 'a symlink source is followed; leading / and .. stay inside the context',
    dockerfile: 'FROM scratch\nCOPY link /l\nCOPY ../../a.txt /up\nCOPY /dir/x /abs\n',
    tree: { '/l': F('644', '0:0', 'a\n'), '/up': F('644', '0:0', 'a\n'), '/abs': F('644', '0:0', 'x\n') },
  },
  {
    name: 'ADD --unpack=false copies an archive as a file',
    dockerfile: 'FROM scratch\nADD --unpack=false arch.tar /kept/\n',
    tree: { '/kept': D('755'), '/kept/arch.tar': expect.stringMatching(/^file 644 0:0 /) as unknown as string },
  },
  {
    name: 'wildcards: each match (a directory: its contents); no match copies nothing',
    dockerfile: 'FROM scratch\nCOPY *.txt /w/\nCOPY nomatch* /none/\nCOPY dir/* /star/\nCOPY dir/s?b /q/\n',
    tree: {
      '/w': D('755'),
      '/w/a.txt': F('644', '0:0', 'a\n'),
      '/w/b.txt': F('600', '0:0', 'b\n'),
      '/w/owned.txt': F('644', '0:0', 'owned\n'),
      '/star': D('755'),
      '/star/x': F('644', '0:0', 'x\n'),
      // A match that is a symlink is a source path: followed (BuildKit resolves each match in the context root).
      '/star/link': F('644', '0:0', 'x\n'),
      '/star/y': F('644', '0:0', 'y\n'),
      '/star/z.md': F('644', '0:0', 'z\n'),
      '/q': D('755'),
      '/q/y': F('644', '0:0', 'y\n'),
    },
  },
  {
    name: 'several sources into a directory; relative destinations join WORKDIR',
    dockerfile: 'FROM scratch\nWORKDIR /app\nCOPY a.txt b.txt ./\nCOPY exe.sh bin/\nCOPY a.txt .\n',
    tree: {
      '/app': D('755'),
      '/app/a.txt': F('644', '0:0', 'a\n'),
      '/app/b.txt': F('600', '0:0', 'b\n'),
      '/app/bin': D('755'),
      '/app/bin/exe.sh': F('755', '0:0', '#!/bin/sh\n'),
    },
  },
  {
    name: '--exclude, relative to each copied source',
    dockerfile:
      'FROM scratch\nCOPY --exclude=*.md dir /e1/\nCOPY --exclude=sub --exclude=link dir /e2/\nCOPY --exclude=*.txt . /e3/\n',
    tree: {
      '/e1': D('755'),
      '/e1/x': F('644', '0:0', 'x\n'),
      '/e1/link': 'symlink 0:0 -> x',
      '/e1/sub': D('755'),
      '/e1/sub/y': F('644', '0:0', 'y\n'),
      '/e2': D('755'),
      '/e2/x': F('644', '0:0', 'x\n'),
      '/e2/z.md': F('644', '0:0', 'z\n'),
      '/e3': D('755'),
      '/e3/exe.sh': F('755', '0:0', '#!/bin/sh\n'),
      '/e3/link': 'symlink 0:0 -> a.txt',
      '/e3/dir': D('755'),
      '/e3/dir/x': F('644', '0:0', 'x\n'),
      '/e3/dir/link': 'symlink 0:0 -> x',
      '/e3/dir/sub': D('755'),
      '/e3/dir/sub/y': F('644', '0:0', 'y\n'),
      '/e3/dir/z.md': F('644', '0:0', 'z\n'),
      '/e3/other': D('755'),
      '/e3/other/o': F('644', '0:0', 'o\n'),
      '/e3/private': D('700'),
      '/e3/private/secret': F('600', '0:0', 's\n'),
      '/e3/arch.tar': expect.stringMatching(/^file 644 0:0 /) as unknown as string,
      '/e3/arch.tar.gz': expect.stringMatching(/^file 644 0:0 /) as unknown as string,
      '/e3/fake.tar': F('644', '0:0', 'not a tar\n'),
      '/e3/nested': D('755'),
      '/e3/nested/opt': D('755'),
      '/e3/nested/opt/tool': D('755'),
      '/e3/nested/opt/tool/inside': F('644', '0:0', 'inside\n'),
    },
  },
  {
    name: 'ownership: 0:0 by default (whoever owns the context file); --chown by name (the image /etc/passwd and /etc/group) or id',
    dockerfile:
      'FROM base:1\nCOPY owned.txt /o0\nCOPY --chown=app owned.txt /o1\nCOPY --chown=app:staff a.txt /o2\nCOPY --chown=1:2 a.txt /made/here/o3\nCOPY --chown=app:app dir/sub /o4/\n',
    tree: {
      '/o0': F('644', '0:0', 'owned\n'),
      '/o1': F('644', '1000:1000', 'owned\n'),
      '/o2': F('644', '1000:50', 'a\n'),
      '/made': D('755', '1:2'),
      '/made/here': D('755', '1:2'),
      '/made/here/o3': F('644', '1:2', 'a\n'),
      '/o4': D('755', '1000:1000'),
      '/o4/y': F('644', '1000:1000', 'y\n'),
    },
  },
  {
    name: '--chmod: octal, and symbolic applied to each entry (X only for directories and executables)',
    dockerfile:
      'FROM scratch\nCOPY --chmod=640 exe.sh /m1\nCOPY --chmod=0755 a.txt /m2\nCOPY --chmod=u=rwX,go=rX dir/sub b.txt exe.sh /m3/\nCOPY --chmod=a+x,o-r a.txt /m4\n',
    tree: {
      '/m1': F('640', '0:0', '#!/bin/sh\n'),
      '/m2': F('755', '0:0', 'a\n'),
      '/m3': D('755'),
      '/m3/y': F('644', '0:0', 'y\n'),
      '/m3/b.txt': F('644', '0:0', 'b\n'),
      '/m3/exe.sh': F('755', '0:0', '#!/bin/sh\n'),
      '/m4': F('751', '0:0', 'a\n'),
    },
  },
  {
    name: '--from an image keeps its owners and modes',
    dockerfile: 'FROM scratch\nCOPY --from=base:1 /opt/tool /t\nCOPY --from=base:1 /home /h/\n',
    tree: {
      '/t': F('750', '1000:1000', 'tool\n'),
      '/h': D('755'),
      '/h/app': D('755', '1000:1000'),
    },
  },
  {
    name: 'heredoc sources: expanded unless the delimiter is quoted; mode 0644; several into a directory',
    dockerfile:
      "FROM scratch\nENV NAME=world\nCOPY <<EOF /h\nhello $NAME\nEOF\nCOPY <<'EOF' /q\nhello $NAME\nEOF\nCOPY <<A <<B /hd/\none\nA\ntwo\nB\n",
    tree: {
      '/h': F('644', '0:0', 'hello world\n'),
      '/q': F('644', '0:0', 'hello $NAME\n'),
      '/hd': D('755'),
      '/hd/A': F('644', '0:0', 'one\n'),
      '/hd/B': F('644', '0:0', 'two\n'),
    },
  },
  {
    name: 'ADD: a local tar and tar.gz are unpacked (whatever the name), other files copied; --chown applies to unpacked entries',
    dockerfile:
      'FROM scratch\nADD arch.tar /t/\nADD arch.tar.gz /tz\nADD fake.tar /f\nADD a.txt /added\nADD --chown=7:8 arch.tar /tc/\n',
    tree: {
      '/t': D('755'),
      '/t/p': D('755'),
      '/t/p/f': F('640', '5:6', 'f\n'),
      '/t/p/l': 'symlink 5:6 -> f',
      '/tz': D('755'),
      '/tz/q': D('755'),
      '/tz/q/g': F('644', '0:0', 'g\n'),
      '/f': F('644', '0:0', 'not a tar\n'),
      '/added': F('644', '0:0', 'a\n'),
      '/tc': D('755'),
      '/tc/p': D('755', '7:8'),
      '/tc/p/f': F('640', '7:8', 'f\n'),
      '/tc/p/l': 'symlink 7:8 -> f',
    },
  },
  {
    name: 'a destination that is a symlink to a directory is followed (a usr-merged /bin)',
    dockerfile: 'FROM base:1\nCOPY dir/sub /bin/\nCOPY a.txt /bin/\nCOPY other /bin\n',
    exclude: ['/etc', '/home', '/opt'],
    tree: {
      '/bin': 'symlink 0:0 -> usr/bin',
      '/usr': D('755'),
      '/usr/bin': D('755'),
      '/usr/bin/y': F('644', '0:0', 'y\n'),
      '/usr/bin/a.txt': F('644', '0:0', 'a\n'),
      '/usr/bin/o': F('644', '0:0', 'o\n'),
    },
  },
  {
    name: '--parents keeps source paths (after a /./ pivot), parent directories with their own modes; ** at any depth',
    dockerfile:
      'FROM scratch\nCOPY --parents dir/sub/y other/o private/secret /p/\nCOPY --parents ./dir/./sub/y /pivot/\nCOPY --parents **/y dir/*.md /star/\n',
    tree: {
      '/p': D('755'),
      '/p/dir': D('755'),
      '/p/dir/sub': D('755'),
      '/p/dir/sub/y': F('644', '0:0', 'y\n'),
      '/p/other': D('755'),
      '/p/other/o': F('644', '0:0', 'o\n'),
      '/p/private': D('700'),
      '/p/private/secret': F('600', '0:0', 's\n'),
      '/pivot': D('755'),
      '/pivot/sub': D('755'),
      '/pivot/sub/y': F('644', '0:0', 'y\n'),
      '/star': D('755'),
      '/star/dir': D('755'),
      '/star/dir/sub': D('755'),
      '/star/dir/sub/y': F('644', '0:0', 'y\n'),
      '/star/dir/z.md': F('644', '0:0', 'z\n'),
    },
  },
  {
    name: '--parents from another stage, with a pivot and **',
    dockerfile:
      'FROM scratch AS s\nCOPY dir /src/dir/\nFROM scratch\nCOPY --from=s --parents /src/./dir/**/y /src/dir/*.md /fromstage/\n',
    tree: {
      '/fromstage': D('755'),
      '/fromstage/dir': D('755'),
      '/fromstage/dir/sub': D('755'),
      '/fromstage/dir/sub/y': F('644', '0:0', 'y\n'),
      '/fromstage/src': D('755'),
      '/fromstage/src/dir': D('755'),
      '/fromstage/src/dir/z.md': F('644', '0:0', 'z\n'),
    },
  },
  {
    name: 'COPY --link writes the same files',
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY --link b.txt dir/sub /lnk/\n',
    tree: {
      '/a': F('644', '0:0', 'a\n'),
      '/lnk': D('755'),
      '/lnk/b.txt': F('600', '0:0', 'b\n'),
      '/lnk/y': F('644', '0:0', 'y\n'),
    },
  },
];

let store: Store;
let ctx: { dir: string };

test.beforeAll(async ({ fileTmp }) => {
  store = await openStore({ memory: true });
  await makeBaseImage({
    store,
    tag: 'base:1',
    files: {
      ...BASE_USERS,
      'opt/tool': { content: 'tool\n', uid: 1000, gid: 1000, mode: 0o750 },
      'home/app': { dir: true, uid: 1000, gid: 1000 },
      'usr/bin': { dir: true },
      bin: { symlink: 'usr/bin' },
    },
  });
  const files: FileTable = {
    'a.txt': 'a\n',
    'b.txt': { content: 'b\n', mode: 0o600 },
    'owned.txt': 'owned\n',
    'exe.sh': { content: '#!/bin/sh\n', mode: 0o755 },
    'dir/x': 'x\n',
    'dir/link': { symlink: 'x' },
    'dir/sub/y': 'y\n',
    'dir/z.md': 'z\n',
    'other/o': 'o\n',
    'nested/opt/tool/inside': 'inside\n',
    'private/secret': { content: 's\n', mode: 0o600 },
    link: { symlink: 'a.txt' },
    'arch.tar': {
      content: await makeTar([
        { path: 'p', type: 'directory' },
        { path: 'p/f', type: 'file', data: 'f\n', uid: 5, gid: 6, mode: 0o640 },
        { path: 'p/l', type: 'symlink', linkTarget: 'f', uid: 5, gid: 6 },
      ]),
    },
    'arch.tar.gz': { content: await makeTar([{ path: 'q/g', type: 'file', data: 'g\n' }], { gzip: true }) },
    'fake.tar': 'not a tar\n',
  };
  ctx = makeContext(fileTmp, files);
  fs.chmodSync(join(ctx.dir, 'private'), 0o700);
  if (process.getuid?.() === 0) fs.chownSync(join(ctx.dir, 'owned.txt'), 1234, 1234);
});

describe('COPY and ADD: the tree they make', () => {
  test.each(rows)('$name', async (row) => {
    const r = await build({ store, context: ctx.dir, dockerfileText: row.dockerfile, sourceDateEpoch: 0 });
    const tree = await describeTree(store, r.image, {
      exclude: row.exclude ?? ['/etc', '/home', '/opt', '/usr', '/bin'],
    });
    expect(tree).toEqual(row.tree);
  });
});

describe('COPY and ADD: refusals', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      'ADD of a URL',
      'FROM scratch\nADD https://example.com/x.tgz /x\n',
      'ERR_UNSUPPORTED',
      /Dockerfile:2: ADD https:\/\/example.com\/x.tgz: .*download it into the context/,
    ],
    [
      'ADD --checksum of a local file',
      'FROM scratch\nADD --checksum=sha256:0000 a.txt /x\n',
      'ERR_DOCKERFILE_FLAG',
      /Dockerfile:2: ADD --checksum verifies a download/,
    ],
    [
      'COPY of a URL',
      'FROM scratch\nCOPY http://example.com/x /x\n',
      'ERR_UNSUPPORTED',
      /Dockerfile:2: source can't be a URL for COPY/,
    ],
    [
      'several sources, destination without /',
      'FROM scratch\nCOPY a.txt b.txt /nodir\n',
      'ERR_BUILD_STEP',
      /Dockerfile:2: COPY: .*must be a directory and end with a \//,
    ],
    [
      'a missing source',
      'FROM scratch\nCOPY missing.txt /x\n',
      'ERR_BUILD_CONTEXT',
      /Dockerfile:2: COPY: "\/missing.txt" not found in the build context/,
    ],
    [
      'a bad --chmod',
      'FROM scratch\nCOPY --chmod=999 a.txt /x\n',
      'ERR_DOCKERFILE_FLAG',
      /invalid chmod parameter: '999'/,
    ],
    ['an unknown --chown user', 'FROM base:1\nCOPY --chown=nobody-here a.txt /x\n', '', /nobody-here/],
    [
      'a directory onto an existing file',
      'FROM base:1\nCOPY dir /opt/tool\n',
      'ERR_BUILD_STEP',
      /Dockerfile:2: COPY dir \/opt\/tool: cannot copy to non-directory: \/opt\/tool/,
    ],
    [
      'a directory onto an existing file inside the copy',
      'FROM base:1\nCOPY nested /\n',
      'ERR_BUILD_STEP',
      /cannot copy to non-directory: \/opt\/tool/,
    ],
  ];
  test.each(cases)('%s', async (_name, dockerfile, code, message) => {
    const err = await build({ store, context: ctx.dir, dockerfileText: dockerfile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLayerkitError(err)).toBe(true);
    if (!isLayerkitError(err)) return;
    if (code !== '') expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.data['line']).toBe(2);
    expect(err.data['file']).toBe('Dockerfile');
  });
});
