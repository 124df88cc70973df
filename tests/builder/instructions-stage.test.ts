/**
 * FROM (scratch, an image in the store, an earlier stage by name and by index, --platform),
 * what a base image hands down (Env, WorkingDir, User, Cmd/Entrypoint), WORKDIR and USER, RUN in
 * shell and exec form, SHELL, heredocs, and ONBUILD triggers across two builds.
 */
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import type { BuildOptions, BuildResult } from '../../src/builder/types.js';
import { openStore, type Store } from '../../src/store/store.js';
import { BASE_USERS, containerConfig, describeTree, imageFile, makeBaseImage, makeContext } from './helpers.js';

let store: Store;
let ctx: { dir: string };

test.beforeAll(async ({ fileTmp }) => {
  store = await openStore({ memory: true });
  await makeBaseImage({
    store,
    tag: 'base:1',
    files: { ...BASE_USERS, srv: { dir: true }, 'etc/base-version': '1\n' },
    config: {
      WorkingDir: '/srv',
      User: 'app',
      Env: ['PATH=/bin', 'FROM_BASE=yes'],
      Cmd: ['base-cmd'],
      Entrypoint: ['base-ep'],
      Labels: { from: 'base' },
    },
  });
  ctx = makeContext(fileTmp, { 'a.txt': 'a\n', 'trigger.txt': 'from the child context\n' });
});

function run(dockerfile: string, options: Partial<BuildOptions> = {}): Promise<BuildResult> {
  return build({ store, context: ctx.dir, dockerfileText: dockerfile, sourceDateEpoch: 0, ...options });
}

describe('FROM', () => {
  test('scratch: an empty tree, the default PATH, the target platform', async () => {
    const r = await run('FROM scratch\n', { platform: { os: 'linux', architecture: 'riscv64' } });
    expect(r.image.layers).toEqual([]);
    expect(r.image.config).toMatchObject({
      os: 'linux',
      architecture: 'riscv64',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    expect(await describeTree(store, r.image)).toEqual({});
  });

  test('an image in the store: its layers, history, Env, WorkingDir, User, labels and commands come along', async () => {
    const r = await run('FROM base:1\nRUN pwd > where; id -un >> where; echo $FROM_BASE >> where\n');
    expect(r.image.layers.length).toBe(2);
    expect(r.image.config.history!.map((h) => h.created_by)).toEqual([
      'base image base:1',
      'RUN /bin/sh -c pwd > where; id -un >> where; echo $FROM_BASE >> where # buildkit',
    ]);
    expect(containerConfig(r)).toMatchObject({
      Env: ['PATH=/bin', 'FROM_BASE=yes'],
      WorkingDir: '/srv',
      User: 'app',
      Cmd: ['base-cmd'],
      Entrypoint: ['base-ep'],
      Labels: { from: 'base' },
    });
    expect(await imageFile(store, r.image, '/srv/where')).toBe('/srv\napp\nyes\n');
    // The RUN ran as the image's USER: what it wrote is app's.
    expect((await describeTree(store, r.image))['/srv/where']).toMatch(/^file 644 1000:1000 /);
  });

  test('ENTRYPOINT resets an inherited CMD; CMD alone keeps the inherited ENTRYPOINT', async () => {
    const a = await run('FROM base:1\nENTRYPOINT ["mine"]\n');
    expect(containerConfig(a).Entrypoint).toEqual(['mine']);
    expect(containerConfig(a).Cmd ?? null).toBeNull();
    const b = await run('FROM base:1\nCMD ["c"]\n');
    expect(containerConfig(b)).toMatchObject({ Cmd: ['c'], Entrypoint: ['base-ep'] });
  });

  test('an earlier stage by name and by index: its files, config, ARG declarations and ENV', async () => {
    const r = await run(
      'FROM scratch AS one\nENV X=1\nARG A=2\nWORKDIR /w\nRUN echo one > /one\nFROM one AS two\nRUN echo "$X $A" > out; pwd >> out\nFROM 0\nRUN echo idx > /idx\nFROM two\n',
    );
    expect(r.stages.map((s) => s.status)).toEqual(['built', 'built', 'skipped', 'built']);
    expect(await imageFile(store, r.image, '/w/out')).toBe('1 2\n/w\n');
    expect(await imageFile(store, r.image, '/one')).toBe('one\n');
    const idx = await run('FROM scratch AS one\nRUN echo one > /one\nFROM 0\nRUN echo idx > /idx\n');
    expect(Object.keys(await describeTree(store, idx.image))).toEqual(['/idx', '/one']);
  });

  test('--platform picks the platform of a scratch stage; meta ARGs expand in it', async () => {
    const r = await run('ARG P=linux/arm64\nFROM --platform=$P scratch\nRUN echo hi > /hi\n');
    expect(r.image.config.architecture).toBe('arm64');
    const pinned = await run('FROM --platform=linux/s390x scratch\n');
    expect(pinned.image.config.architecture).toBe('s390x');
  });

  test('FROM names an image through meta ARGs', async () => {
    const r = await run('ARG BASE=base\nARG V=1\nFROM ${BASE}:${V}\nUSER root\nRUN cat /etc/base-version > /seen\n');
    expect(await imageFile(store, r.image, '/seen')).toBe('1\n');
  });
});

describe('WORKDIR and USER', () => {
  test('WORKDIR creates the directory and its parents, 0755, owned by the USER (names from /etc/passwd)', async () => {
    const r = await run(
      'FROM base:1\nUSER app\nWORKDIR /home/app/w/x\nWORKDIR rel\nUSER 1234:5678\nWORKDIR /other\nUSER root\nWORKDIR /rootdir\n',
    );
    const tree = await describeTree(store, r.image, { exclude: ['/etc', '/srv'] });
    expect(tree).toEqual({
      '/home': 'dir 755 1000:1000',
      '/home/app': 'dir 755 1000:1000',
      '/home/app/w': 'dir 755 1000:1000',
      '/home/app/w/x': 'dir 755 1000:1000',
      '/home/app/w/x/rel': 'dir 755 1000:1000',
      '/other': 'dir 755 1234:5678',
      '/rootdir': 'dir 755 0:0',
    });
    expect(containerConfig(r).WorkingDir).toBe('/rootdir');
  });

  test('WORKDIR of an existing directory keeps it as it is, in an empty layer (BuildKit: a mkdir op unless /)', async () => {
    const r = await run('FROM base:1\nUSER app\nWORKDIR /etc\nWORKDIR /\n');
    expect((await describeTree(store, r.image))['/etc']).toBe('dir 755 0:0');
    // dockerfile2llb always adds Mkdir(wd, WithParents) for a path other than /, and MkdirAll of an
    // existing directory changes nothing: the layer is the empty tar (buildah writes none).
    const [etc, root] = r.steps.filter((s) => s.instruction.startsWith('WORKDIR'));
    expect(etc!.diffId).toBe('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
    expect(root!.layer).toBeUndefined();
    expect(r.image.config.history!.slice(-2).map((h) => [h.created_by, h.empty_layer === true])).toEqual([
      ['WORKDIR /etc', false],
      ['WORKDIR /', true],
    ]);
  });

  test('USER applies to RUN: files are owned by the user; USER does not change COPY ownership', async () => {
    const r = await run(
      'FROM base:1\nUSER root\nRUN touch /rootfile\nUSER app\nRUN touch /srv/appfile\nCOPY a.txt /srv/copied\n',
    );
    const tree = await describeTree(store, r.image);
    expect(tree['/rootfile']).toBe('file 644 0:0 ""');
    expect(tree['/srv/appfile']).toBe('file 644 1000:1000 ""');
    expect(tree['/srv/copied']).toBe('file 644 0:0 "a\\n"');
  });
});

describe('RUN, SHELL and heredocs', () => {
  test('shell form runs in /bin/sh -c; exec form runs the argv; SHELL changes later shell forms', async () => {
    const r = await run(
      'FROM scratch\nRUN echo $0 > /shell\nRUN ["/bin/sh", "-c", "echo exec > /exec"]\nSHELL ["/bin/sh", "-e", "-c"]\nRUN echo $0 "$-" > /shell2\n',
    );
    expect(await imageFile(store, r.image, '/shell')).toBe('/bin/sh\n');
    expect(await imageFile(store, r.image, '/exec')).toBe('exec\n');
    expect(await imageFile(store, r.image, '/shell2')).toMatch(/^\/bin\/sh .*e/);
    expect(r.image.config.history!.map((h) => h.created_by)).toContain(
      'RUN /bin/sh -e -c echo $0 "$-" > /shell2 # buildkit',
    );
  });

  test('RUN <<EOF: the body is the script (also with a #! line); a heredoc inside a command is a real heredoc', async () => {
    const r = await run(
      'FROM scratch\nENV WHO=builder\nRUN <<EOF\nmkdir -p /h\necho "one $WHO" > /h/one\nEOF\nRUN <<EOF\n#!/bin/sh\necho shebang > /h/s\nEOF\nRUN cat <<EOF > /h/f\nline1\n$WHO\nEOF\nRUN cat <<-EOF > /h/tabs\n\tindented\n\tEOF\nRUN cat <<\'EOF\' > /h/raw\n$WHO\nEOF\n',
    );
    const tree = await describeTree(store, r.image);
    expect(tree).toMatchObject({
      '/h/one': 'file 644 0:0 "one builder\\n"',
      '/h/s': 'file 644 0:0 "shebang\\n"',
      '/h/f': 'file 644 0:0 "line1\\nbuilder\\n"',
      '/h/tabs': 'file 644 0:0 "indented\\n"',
      '/h/raw': 'file 644 0:0 "$WHO\\n"',
    });
    expect(r.image.config.history!.map((h) => h.created_by).slice(1, 4)).toEqual([
      'RUN /bin/sh -c mkdir -p /h\necho "one $WHO" > /h/one\n # buildkit',
      'RUN /bin/sh -c #!/bin/sh\necho shebang > /h/s\n # buildkit',
      'RUN /bin/sh -c cat <<EOF > /h/f\nline1\n$WHO\nEOF # buildkit',
    ]);
  });

  test('RUN output is recorded in full on the step', async () => {
    const r = await run('FROM scratch\nRUN echo out; echo err >&2; printf "%s\\n" a b\n');
    expect(r.steps[0]!.output).toBe('out\nerr\na\nb\n');
  });
});

describe('ONBUILD', () => {
  test('recorded, triggered when the image is a base in a second build (before its own steps), then cleared', async () => {
    const parent = await run(
      'FROM base:1\nUSER root\nONBUILD RUN echo triggered > /triggered\nONBUILD COPY trigger.txt /from-trigger\n',
      { tags: ['onbuild-parent:1'] },
    );
    expect(containerConfig(parent).OnBuild).toEqual([
      'RUN echo triggered > /triggered',
      'COPY trigger.txt /from-trigger',
    ]);
    expect(await describeTree(store, parent.image)).not.toHaveProperty('/triggered');

    const child = await run('FROM onbuild-parent:1\nRUN cat /triggered /from-trigger > /both\n', {
      tags: ['onbuild-child:1'],
    });
    // BuildKit's numbers: FROM 1, then the triggers (before the stage's own steps), M counting them.
    expect(child.steps.map((s) => [s.index, s.step, s.total, s.instruction, s.status])).toEqual([
      [-1, 2, 4, 'RUN echo triggered > /triggered', 'built'],
      [-2, 3, 4, 'COPY trigger.txt /from-trigger', 'built'],
      [1, 4, 4, 'RUN cat /triggered /from-trigger > /both', 'built'],
    ]);
    expect(await imageFile(store, child.image, '/both')).toBe('triggered\nfrom the child context\n');
    expect(containerConfig(child).OnBuild ?? []).toEqual([]);

    // The grandchild inherits no triggers.
    const grandchild = await run('FROM onbuild-child:1\nRUN echo gc > /gc\n');
    expect(grandchild.steps.map((s) => [s.index, s.step, s.total])).toEqual([[1, 2, 2]]);

    // Triggers go through the cache like any step.
    const again = await run('FROM onbuild-parent:1\nRUN cat /triggered /from-trigger > /both\n');
    expect(again.steps.map((s) => s.status)).toEqual(['cached', 'cached', 'cached']);
    expect(again.image.descriptor.digest).toBe(child.image.descriptor.digest);
  });

  test('a stage used as a base in the same Dockerfile runs its triggers too', async () => {
    const r = await run('FROM scratch AS x\nONBUILD RUN echo hi > /hi\nFROM x\nRUN cat /hi > /seen\n');
    expect(await imageFile(store, r.image, '/seen')).toBe('hi\n');
  });
});
