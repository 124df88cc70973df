/**
 * The build options a buildx user reaches for: `labels` (docker build --label), `output`
 * (buildx --output type=local|tar|oci|docker), `buildContexts` (--build-context NAME=DIR and
 * NAME=docker-image://REF for FROM, COPY --from and RUN --mount=from) and `buildMetadata`
 * (--metadata-file). umoci unpacks the same image for the local output to agree with; buildah
 * builds the same Dockerfile with the same named context.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  build,
  buildMetadata,
  exportImage,
  importImage,
  loadImage,
  openStore,
  type BuildEvent,
  type Store,
} from '../../src/index.js';
import { BuildahStore, compareTrees, unpackedTree } from '../helpers/buildah.js';
import { listTree, missingPeer } from '../helpers/peers.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('build options', () => {
  let tmp: string;
  let store: Store;
  let ctx: string;
  let shared: string;
  let n = 0;
  const dir = (name: string) => join(tmp, `${name}-${n++}`);
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = await openStore({ root: join(tmp, 'store') });
    await importImage({ store, source: HELLO, tags: ['hello:1'] });
    ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'a.txt'), 'from the main context\n');
    shared = join(tmp, 'shared');
    fs.mkdirSync(join(shared, 'sub'), { recursive: true });
    fs.writeFileSync(join(shared, 'sub', 's.txt'), 'shared file\n');
    fs.writeFileSync(join(shared, 'top.txt'), 'top\n', { mode: 0o600 });
    fs.writeFileSync(join(shared, 'secret.key'), 'ignored\n');
    fs.writeFileSync(join(shared, '.dockerignore'), '*.key\n');
  });

  const dockerfile = (text: string) => ({ store, context: ctx, dockerfileText: text, sourceDateEpoch: 0 });

  describe('labels', () => {
    it('are added to the config over the Dockerfile LABELs, without a history entry or a new layer', async () => {
      const text = 'FROM hello:1\nLABEL a=dockerfile b=kept\nCOPY a.txt /\n';
      const plain = await build(dockerfile(text));
      const labelled = await build({ ...dockerfile(text), labels: { a: 'flag', c: 'new' } });
      expect(labelled.image.config.config?.Labels).toEqual({ a: 'flag', b: 'kept', c: 'new' });
      expect(labelled.image.config.history).toEqual(plain.image.config.history);
      expect(labelled.image.diffIds).toEqual(plain.image.diffIds);
      expect(labelled.steps.filter((s) => !s.metadata).map((s) => s.status)).toEqual(['cached']);
    });
  });

  describe('output', () => {
    const text = 'FROM hello:1\nCOPY a.txt /app/a.txt\n';

    it.skipIf(missingPeer('umoci') !== undefined)('local: the files umoci unpacks from the same image', async () => {
      const dest = dir('local');
      const result = await build({ ...dockerfile(text), output: { type: 'local', dest } });
      const layout = dir('layout');
      await exportImage({ store, image: result.image, format: 'oci', output: layout, name: 'out' });
      const theirs = unpackedTree({ layout, tag: 'out' }, dir('bundle'));
      expect(compareTrees(listTree(dest), theirs)).toEqual([]);
      expect(fs.readFileSync(join(dest, 'app', 'a.txt'), 'utf8')).toBe('from the main context\n');
    });

    it('tar: the same files as one tar; oci and docker: the image, which imports back', async () => {
      const tar = join(dir('tar'), 'rootfs.tar');
      fs.mkdirSync(join(tar, '..'));
      const result = await build({ ...dockerfile(text), output: { type: 'tar', dest: tar } });
      const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n').filter(Boolean);
      expect(names).toContain('app/a.txt');
      expect(names).toContain('bin/hello');
      expect(execFileSync('tar', ['-xOf', tar, 'app/a.txt'], { encoding: 'utf8' })).toBe('from the main context\n');
      for (const type of ['oci', 'docker'] as const) {
        const file = join(tmp, `out-${type}-${n++}.tar`);
        await build({ ...dockerfile(text), tags: ['out:1'], output: { type, dest: file } });
        const other = await openStore({ root: dir(`import-${type}`) });
        const imported = await importImage({ store: other, source: file });
        expect(imported.format).toBe(type === 'oci' ? 'oci-archive' : 'docker-archive');
        expect(imported.images[0]!.image.manifest.config.digest).toBe(result.image.manifest.config.digest);
        expect(imported.images[0]!.names.map((x) => x.replace(/^docker\.io\/library\//, ''))).toEqual(['out:1']);
      }
    });

    it('a local folder that is not empty fails the build; the store keeps the image', async () => {
      const dest = dir('busy');
      fs.mkdirSync(dest);
      fs.writeFileSync(join(dest, 'keep'), 'x');
      await expect(build({ ...dockerfile(text), output: { type: 'local', dest } })).rejects.toThrow(
        /not an empty folder/,
      );
      expect(fs.readdirSync(dest)).toEqual(['keep']);
    });
  });

  describe('buildMetadata', () => {
    it("has buildx's keys and layerkit's", async () => {
      const result = await build({
        ...dockerfile('FROM hello:1\nCOPY a.txt /m.txt\n'),
        tags: ['meta:1', 'ghcr.io/o/m:2'],
      });
      const meta = buildMetadata({ result, tags: ['meta:1', 'ghcr.io/o/m:2'] });
      expect(meta).toEqual({
        'containerimage.digest': result.image.descriptor.digest,
        'containerimage.config.digest': result.image.manifest.config.digest,
        'containerimage.descriptor': {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: result.image.descriptor.digest,
          size: result.image.descriptor.size,
        },
        'image.name': 'docker.io/library/meta:1,ghcr.io/o/m:2',
        'layerkit.target': result.target,
        'layerkit.steps': {
          total: 1,
          cached: result.steps[0]!.status === 'cached' ? 1 : 0,
          built: result.steps[0]!.status === 'built' ? 1 : 0,
          skipped: 0,
        },
        'layerkit.warnings': [],
        'layerkit.durationMs': result.durationMs,
      });
      expect(buildMetadata({ result })).not.toHaveProperty('image.name');
    });
  });

  describe('buildContexts', () => {
    const flat = async (ref: string) => {
      const image = await loadImage({ store, image: ref });
      const dest = dir('flat');
      await exportImage({ store, image, format: 'rootfs', output: dest });
      return dest;
    };

    it('COPY --from=NAME and RUN --mount=from=NAME read the folder; its .dockerignore applies', async () => {
      const result = await build({
        ...dockerfile(
          'FROM hello:1\nCOPY --from=shared sub /sub\nCOPY --from=shared . /all\nRUN --mount=from=shared,target=/m cat /m/top.txt > /mounted.txt\n',
        ),
        buildContexts: { shared },
        tags: ['ctx:1'],
      });
      expect(result.steps.map((s) => s.status)).toEqual(['built', 'built', 'built']);
      const root = await flat('ctx:1');
      expect(fs.readFileSync(join(root, 'sub', 's.txt'), 'utf8')).toBe('shared file\n');
      expect(fs.readFileSync(join(root, 'mounted.txt'), 'utf8')).toBe('top\n');
      expect(fs.statSync(join(root, 'all', 'top.txt')).mode & 0o777).toBe(0o600);
      expect(fs.existsSync(join(root, 'all', 'secret.key'))).toBe(false);
      expect(fs.existsSync(join(root, 'm'))).toBe(false);
    });

    it('the cache follows the folder: unchanged hits, a changed file misses and says which', async () => {
      const other = dir('shared-copy');
      fs.cpSync(shared, other, { recursive: true });
      const text = 'FROM hello:1\nCOPY --from=lib sub /sub\n';
      await build({ ...dockerfile(text), buildContexts: { lib: other } });
      expect((await build({ ...dockerfile(text), buildContexts: { lib: other } })).steps[0]!.status).toBe('cached');
      fs.writeFileSync(join(other, 'sub', 's.txt'), 'changed\n');
      const missed = await build({ ...dockerfile(text), buildContexts: { lib: other } });
      expect(missed.steps[0]!.status).toBe('built');
      expect(missed.steps[0]!.reason).toMatch(/s\.txt/);
    });

    it('FROM NAME starts from the folder: one layer of its files, an empty config', async () => {
      const result = await build({
        ...dockerfile('FROM base\nCOPY a.txt /a.txt\n'),
        buildContexts: { base: shared },
        tags: ['from-dir:1'],
      });
      expect(result.image.layers).toHaveLength(2);
      expect(result.image.config.config?.Cmd).toBeUndefined();
      const root = await flat('from-dir:1');
      expect(listTree(root).map((e) => e.path)).toEqual(['/.dockerignore', '/a.txt', '/sub', '/sub/s.txt', '/top.txt']);
      expect(listTree(root).every((e) => e.uid === 0 && e.gid === 0)).toBe(true);
      const again = await build({ ...dockerfile('FROM base\nCOPY a.txt /a.txt\n'), buildContexts: { base: shared } });
      expect(again.image.descriptor.digest).toBe(result.image.descriptor.digest);
    });

    it('docker-image://REF stands in for NAME in FROM and COPY --from; a stage of the same name wins', async () => {
      const result = await build({
        ...dockerfile('FROM base\nCOPY --from=img /etc/motd /motd-copy\n'),
        buildContexts: { base: 'docker-image://hello:1', img: 'docker-image://hello:1' },
      });
      const hello = await loadImage({ store, image: 'hello:1' });
      expect(result.image.diffIds.slice(0, hello.diffIds.length)).toEqual(hello.diffIds);
      const staged = await build({
        ...dockerfile(
          'FROM hello:1 AS shared\nRUN echo stage > /which\nFROM scratch\nCOPY --from=shared /which /which\n',
        ),
        buildContexts: { shared },
        tags: ['stage-wins:1'],
      });
      expect(staged.steps.at(-1)!.status).not.toBe('skipped');
      expect(fs.readFileSync(join(await flat('stage-wins:1'), 'which'), 'utf8')).toBe('stage\n');
    });

    it.each([
      ['s3://bucket/x', /use a folder, docker-image:\/\/REF, oci-layout/],
      ['target:other', /use a folder, docker-image:\/\/REF, oci-layout/],
      [`oci-layout://${join('/nonexistent', 'layout')}`, /is not an OCI layout \(no readable index.json\)/],
      ['docker-image://Bad Ref', /invalid reference/],
    ])('%s is refused before the first step', async (value, message) => {
      const events: BuildEvent[] = [];
      await expect(
        build({ ...dockerfile('FROM x\n'), buildContexts: { x: value }, onEvent: (e) => events.push(e) }),
      ).rejects.toThrow(message);
      expect(events.filter((e) => e.type === 'step')).toEqual([]);
    });

    it('a missing folder is ERR_BUILD_CONTEXT', async () => {
      await expect(build({ ...dockerfile('FROM x\n'), buildContexts: { x: join(tmp, 'nope') } })).rejects.toMatchObject(
        {
          code: 'ERR_BUILD_CONTEXT',
        },
      );
    });

    it.skipIf(missingPeer('buildah', 'umoci', 'skopeo') !== undefined)(
      'buildah --build-context gives the same files',
      async () => {
        const text =
          'FROM scratch\nCOPY --from=shared sub /sub\nCOPY --from=shared top.txt /top.txt\nCOPY a.txt /a.txt\n';
        const file = join(tmp, 'Dockerfile.ctx');
        fs.writeFileSync(file, text);
        const buildah = new BuildahStore(dir('buildah'));
        try {
          buildah.build({
            context: ctx,
            dockerfile: file,
            tag: 'localhost/ctx:1',
            extraArgs: ['--build-context', `shared=${shared}`],
          });
          const theirs = { layout: dir('buildah-layout'), tag: 'ctx' };
          buildah.push('localhost/ctx:1', theirs);
          const ours = await build({ ...dockerfile(text), buildContexts: { shared } });
          const layout = dir('ours-layout');
          await exportImage({ store, image: ours.image, format: 'oci', output: layout, name: 'ctx' });
          const diff = compareTrees(unpackedTree({ layout, tag: 'ctx' }, dir('b1')), unpackedTree(theirs, dir('b2')));
          expect(diff).toEqual([]);
        } finally {
          buildah.close();
        }
      },
      120_000,
    );
  });
});
