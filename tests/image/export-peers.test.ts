/**
 * Our exports pass the real peers: for an image made by umoci (and the hello fixture), each of
 * oci, oci-archive and docker-archive is unpacked by `umoci unpack` (archives after `skopeo copy`
 * into a layout) to the tree umoci unpacks from the original, copied by `skopeo copy` (keeping
 * the manifest digest for the OCI forms) and validated by `oci-image-tool validate --type image`.
 * A docker-archive loads back into layerkit with the same diffIDs and config digest. Round trip:
 * import → export oci-archive → import into a fresh store keeps the manifest digest, and
 * exporting twice gives identical bytes.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exportImage,
  importImage,
  loadImage,
  openStore,
  type ExportFormat,
  type Image,
  type Store,
} from '../../src/index.js';
import {
  layoutManifestDigest,
  listTree,
  makeUmociImage,
  missingPeer,
  ociImageToolValidate,
  run,
  skopeoCopy,
  umociUnpack,
  type TreeEntry,
} from '../helpers/peers.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const skip = missingPeer('umoci', 'skopeo', 'oci-image-tool');

describe.skipIf(skip !== undefined)(
  `exports checked by umoci, skopeo and oci-image-tool${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let tmp: string;
    let store: Store;
    const subjects: Array<{ name: string; image: Image; tree: TreeEntry[] }> = [];
    let k = 0;
    const fresh = (label: string) => join(tmp, `${label}-${k++}`);

    test.beforeAll(async ({ fileTmp }) => {
      tmp = fileTmp;
      store = await openStore({ root: join(tmp, 'store'), durable: false });
      const umoci = makeUmociImage(tmp);
      await importImage({ store, source: umoci.layout, tags: ['peer:umoci'] });
      await importImage({ store, source: HELLO });
      subjects.push({
        name: 'peer:umoci',
        image: await loadImage({ store, image: 'peer:umoci' }),
        tree: listTree(umociUnpack(umoci.ref, fresh('reference'))),
      });
      const helloLayout = fresh('hello-layout');
      skopeoCopy(`oci-archive:${HELLO}`, `oci:${helloLayout}:hello`);
      subjects.push({
        name: 'hello:latest',
        image: await loadImage({ store, image: 'hello:latest' }),
        tree: listTree(umociUnpack(`${helloLayout}:hello`, fresh('reference'))),
      });
    });

    const formats: ExportFormat[] = ['oci', 'oci-archive', 'docker-archive'];
    const cases = ['peer:umoci', 'hello:latest'].flatMap((name) => formats.map((format) => ({ name, format })));

    describe.each(cases)('$name as $format', ({ name, format }) => {
      it('unpacks with umoci to the original tree, copies with skopeo and validates with oci-image-tool', async () => {
        const subject = subjects.find((s) => s.name === name)!;
        const output = fresh(format);
        const result = await exportImage({ store, image: subject.image, format, output });
        // The layout umoci, skopeo and oci-image-tool read: the export itself, or skopeo's copy of an archive.
        let layout = output;
        let ref = `${output}:${name}`;
        if (format !== 'oci') {
          layout = fresh('copied');
          skopeoCopy(`${format}:${output}`, `oci:${layout}:t`);
          ref = `${layout}:t`;
          // The archives are OCI layouts themselves (docker-archive in the Docker 25 shape).
          const extracted = fresh('extracted');
          fs.mkdirSync(extracted);
          run('tar', ['-xf', output, '-C', extracted]);
          expect(ociImageToolValidate(extracted)).toContain('Validation succeeded');
        }
        expect(ociImageToolValidate(layout)).toContain('Validation succeeded');
        expect(listTree(umociUnpack(ref, fresh('bundle')))).toEqual(subject.tree);
        const copy = fresh('skopeo');
        skopeoCopy(`oci:${ref}`, `oci:${copy}:c`);
        if (format === 'docker-archive') {
          // docker-archive holds uncompressed layers: a new manifest, the same diffIDs.
          expect(result.digest).not.toBe(subject.image.descriptor.digest);
        } else {
          expect(result.digest).toBe(subject.image.descriptor.digest);
          expect(layoutManifestDigest(layout)).toBe(subject.image.descriptor.digest);
          expect(layoutManifestDigest(copy)).toBe(subject.image.descriptor.digest);
        }
        // And back into layerkit: same diffIDs and config; the OCI forms keep the manifest digest.
        const back = await openStore({ root: fresh('back'), durable: false });
        const imported = await importImage({ store: back, source: output });
        const again = imported.images[0]!.image;
        expect(imported.format).toBe(format === 'oci' ? 'oci-layout' : format);
        expect(again.diffIds).toEqual(subject.image.diffIds);
        expect(again.manifest.config.digest).toBe(subject.image.manifest.config.digest);
        expect(again.configBytes.equals(subject.image.configBytes)).toBe(true);
        expect(imported.images[0]!.names).toEqual([name]);
        if (format !== 'docker-archive') expect(again.descriptor.digest).toBe(subject.image.descriptor.digest);
        else expect(again.descriptor.digest).toBe(result.digest);
      });
    });

    it.each(['oci-archive', 'docker-archive'] as const)(
      '%s: exporting twice gives identical bytes; re-importing it into a fresh store keeps the manifest digest',
      async (format) => {
        const subject = subjects[0]!;
        const a = fresh('a');
        const b = fresh('b');
        const first = await exportImage({ store, image: subject.image, format, output: a });
        await exportImage({ store, image: subject.image, format, output: b });
        expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
        const back = await openStore({ root: fresh('roundtrip'), durable: false });
        const { images } = await importImage({ store: back, source: a });
        expect(images[0]!.image.descriptor.digest).toBe(first.digest);
        // A second trip through the fresh store writes the same archive again.
        const c = fresh('c');
        await exportImage({ store: back, image: images[0]!.image, format, output: c });
        expect(fs.readFileSync(c).equals(fs.readFileSync(a))).toBe(true);
      },
    );
  },
);
