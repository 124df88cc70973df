/**
 * Agreement with buildah: each fixture in fixtures/builder/<name>/ (a Dockerfile and its context)
 * is built FROM a busybox base made at test time, once by layerkit (the base imported into the
 * store) and once by buildah (vfs driver, chroot isolation, one layer per step, timestamps 0;
 * the base copied into its store by skopeo). Both results are unpacked by umoci and compared
 * file by file (path, type, mode, owner, size, content, link target) and config by config.
 *
 * The differences listed in KNOWN_DIFFERENCES are legitimate and each says why; anything else
 * fails. mtimes are never compared (buildah's --timestamp 0 zeroes them; layerkit clamps to the
 * epoch and keeps what it copied).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import { exportImage } from '../../src/image/export.js';
import { importImage } from '../../src/image/import.js';
import type { ImageConfig } from '../../src/oci/types.js';
import { openStore, type Store } from '../../src/store/store.js';
import {
  BUILDAH_RUN_NOISE,
  BUSYBOX_APPLETS,
  BuildahStore,
  comparableConfig,
  compareTrees,
  layoutConfig,
  makeBusyboxLayout,
  nameLayoutManifest,
  unpackedTree,
  type LayoutImage,
  type TreeDifference,
} from '../helpers/buildah.js';
import { hardlinkGroups, missingPeer } from '../helpers/peers.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { makeTar, type TarSpec } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'builder');
const BASE = 'localhost/busybox:test';

/**
 * Differences between the two builders that are not bugs, each with its reason. The global ones
 * apply to every fixture; the per-fixture ones name the fixture.
 */
const KNOWN_DIFFERENCES = {
  global: [
    {
      what: 'mtimes are not compared',
      why: "buildah's --timestamp 0 zeroes every mtime; layerkit clamps to sourceDateEpoch and keeps older source mtimes, as BuildKit does",
    },
    {
      what: "buildah's RUN mount points (/dev /proc /sys /run, empty /etc/hostname /etc/hosts /etc/resolv.conf) are ignored",
      why: 'buildah leaves the mount points of its RUN container in the layer; BuildKit and layerkit do not mount them into the image',
    },
    { what: 'the io.buildah.version label is ignored', why: 'buildah stamps its own version' },
    {
      what: 'null, empty and absent config fields are the same',
      why: 'each tool serialises "no Cmd/Volumes/..." its own way',
    },
    {
      what: 'layer counts are not compared',
      why: 'buildah writes no layer for a WORKDIR that already exists; BuildKit and layerkit always write one (empty) unless the path is /',
    },
  ],
  fixtures: {
    'env-arg': {
      sortEnv: true,
      why: 'buildah moves a redefined variable (ENV PATH=...:$PATH) to the end of Env; BuildKit and layerkit replace it in place',
    },
    'run-mounts': {
      ignore: ['/mnt', '/var', '/var/cache'],
      why: "buildah removes a RUN --mount point it had to create but keeps the parent folders it created for it (/mnt for /mnt/s, /var/cache for /var/cache/app); BuildKit's mount-stub cleaner and layerkit remove those too",
    },
  } as Record<string, { sortEnv?: boolean; ignore?: string[]; why: string }>,
};

const skip =
  missingPeer('buildah', 'umoci', 'skopeo') ??
  (hasTool('busybox') && fs.existsSync('/bin/busybox') ? undefined : missingToolMessage('busybox')) ??
  (process.getuid?.() !== 0 ? 'buildah and umoci unpack need root here' : undefined);

function fixtureNames(): string[] {
  return fs
    .readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** `NAME=VALUE` lines of a fixture's file (build-args, secrets), which is then removed from the context. */
function takeAssignments(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const i = line.indexOf('=');
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  fs.rmSync(file);
  return out;
}

/**
 * Copies a fixture's context to `dir`, making the archives its archives.json describes and
 * dropping the test's own files: build-args, secrets (each written to a file outside the context
 * for buildah's --secret), archives.json.
 */
async function prepareContext(
  name: string,
  dir: string,
): Promise<{
  buildArgs: Record<string, string>;
  secrets: Record<string, string>;
  secretFiles: Record<string, string>;
}> {
  const src = join(FIXTURES, name);
  fs.cpSync(src, dir, { recursive: true });
  const buildArgs = takeAssignments(join(dir, 'build-args'));
  const secrets = takeAssignments(join(dir, 'secrets'));
  const secretFiles: Record<string, string> = {};
  for (const [id, value] of Object.entries(secrets)) {
    secretFiles[id] = join(dir, '..', `secret-${id}`);
    fs.writeFileSync(secretFiles[id]!, value);
  }
  const archivesFile = join(dir, 'archives.json');
  if (fs.existsSync(archivesFile)) {
    const archives = JSON.parse(fs.readFileSync(archivesFile, 'utf8')) as Record<
      string,
      { gzip: boolean; entries: TarSpec[] }
    >;
    for (const [file, spec] of Object.entries(archives))
      fs.writeFileSync(join(dir, file), await makeTar(spec.entries, { gzip: spec.gzip }));
    fs.rmSync(archivesFile);
  }
  return { buildArgs, secrets, secretFiles };
}

test('compareTrees reports what differs and ignores what it is told to', () => {
  const base = { path: '/f', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 1, sha256: 'aa' };
  const other = [
    { ...base, mode: 0o600 },
    { ...base, path: '/only-right' },
    { ...base, path: '/dev', type: 'directory' as const },
  ];
  expect(compareTrees([base, { ...base, path: '/only-left' }], other).map((d) => [d.path, d.kind])).toEqual([
    ['/dev', 'only-right'],
    ['/f', 'mode'],
    ['/only-left', 'only-left'],
    ['/only-right', 'only-right'],
  ]);
  expect(compareTrees([base], [{ ...base, sha256: 'bb' }, other[2]!], { ignore: ['/dev'] }).map((d) => d.kind)).toEqual(
    ['sha256'],
  );
});

function show(d: TreeDifference): string {
  const e = (x: TreeDifference['left']) =>
    x
      ? `${x.type} ${x.mode.toString(8)} ${x.uid}:${x.gid} ${x.size}${x.linkTarget !== undefined ? ` -> ${x.linkTarget}` : ''}`
      : '-';
  return `${d.path}: ${d.kind} (layerkit ${e(d.left)} | buildah ${e(d.right)})`;
}

describe.skipIf(skip !== undefined)(
  `layerkit and buildah build the same images${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let tmp: string;
    let buildah: BuildahStore;
    let store: Store;

    test.beforeAll(async ({ fileTmp }) => {
      tmp = fileTmp;
      const base = makeBusyboxLayout(tmp);
      buildah = new BuildahStore(tmp);
      buildah.importLayout(base, BASE);
      store = await openStore({ root: join(tmp, 'layerkit-store'), durable: false });
      await importImage({ store, source: base.layout, tags: [BASE] });
    });

    afterAll(() => {
      buildah?.close();
    });

    test('there are at least 8 fixtures', () => {
      expect(fixtureNames().length).toBeGreaterThanOrEqual(8);
    });

    // The fixtures are independent (a folder each, one store each side, with locks): run
    // concurrently, the seconds each buildah build takes overlap with the others and with layerkit's.
    test.concurrent.for(skip === undefined ? fixtureNames() : [])('%s', async (name, { expect }) => {
      const work = join(tmp, name);
      const context = join(work, 'ctx');
      fs.mkdirSync(work);
      const { buildArgs, secrets, secretFiles } = await prepareContext(name, context);
      const secretValues = Object.fromEntries(Object.entries(secrets).map(([id, value]) => [id, { value }]));

      // layerkit
      const ours = await build({
        store,
        context,
        buildArgs,
        secrets: secretValues,
        sourceDateEpoch: 0,
        tags: [`localhost/${name}:layerkit`],
      });
      await exportImage({ store, image: ours.image, format: 'oci', output: join(work, 'layerkit-layout') });
      const oursLayout = nameLayoutManifest(join(work, 'layerkit-layout'), 'built');

      // buildah
      // buildah gets its own copy: its RUN --mount=...,rw writes through into the context folder,
      // where BuildKit (and layerkit) discard what the command wrote.
      const theirContext = join(work, 'buildah-ctx');
      fs.cpSync(context, theirContext, { recursive: true });
      await buildah.buildAsync({
        context: theirContext,
        dockerfile: join(theirContext, 'Dockerfile'),
        tag: `localhost/${name}:buildah`,
        buildArgs,
        secretFiles,
      });
      const theirsLayout: LayoutImage = { layout: join(work, 'buildah-layout'), tag: 'built' };
      buildah.push(`localhost/${name}:buildah`, theirsLayout);

      const known = KNOWN_DIFFERENCES.fixtures[name];
      const oursTree = unpackedTree(oursLayout, join(work, 'layerkit-bundle'));
      const theirsTree = unpackedTree(theirsLayout, join(work, 'buildah-bundle'));
      // The comparison is not vacuous: both hold the base and what the build added.
      expect(oursTree.find((e) => e.path === '/bin/busybox')?.type).toBe('file');
      expect(oursTree.length).toBeGreaterThan(BUSYBOX_APPLETS.length + 6);
      // buildah's RUN mount points appear only where the base or layerkit lacks them.
      const oursPaths = new Set(oursTree.map((e) => e.path));
      const noise = BUILDAH_RUN_NOISE.filter((p) => !oursPaths.has(p));
      const differences = compareTrees(oursTree, theirsTree, { ignore: [...noise, ...(known?.ignore ?? [])] });
      expect(differences.map(show)).toEqual([]);
      // Hard links a RUN made are hard links in both images (one inode, not copies).
      expect(hardlinkGroups(join(work, 'layerkit-bundle', 'rootfs'))).toEqual(
        hardlinkGroups(join(work, 'buildah-bundle', 'rootfs')),
      );
      if (name === 'hardlinks')
        expect(hardlinkGroups(join(work, 'layerkit-bundle', 'rootfs'))).toEqual([
          ['/opt/bin/tool', '/opt/bin/tool-1.0', '/opt/lib/tool'],
          ['/opt/more/x', '/opt/more/y'],
        ]);

      const normalise = (c: ImageConfig) => {
        const out = comparableConfig(c);
        if (known?.sortEnv && out.Env) out.Env = [...out.Env].sort();
        return out;
      };
      expect(normalise(layoutConfig(oursLayout))).toEqual(normalise(layoutConfig(theirsLayout)));

      // Each of layerkit's layers has its history entry, and a second build hits the cache throughout.
      const config = layoutConfig(oursLayout);
      expect(config.history!.filter((h) => h.empty_layer !== true).length).toBe(config.rootfs.diff_ids.length);
      const again = await build({ store, context, buildArgs, secrets: secretValues, sourceDateEpoch: 0 });
      expect(
        again.steps.filter((st) => st.status === 'built' && !st.metadata).map((st) => [st.instruction, st.reason]),
      ).toEqual([]);
      expect(again.image.descriptor.digest).toBe(ours.image.descriptor.digest);
    });
  },
);
