/**
 * One process of the gc race test (tests/store/gc-race.test.ts): `ROLE STORE DIR ITERATIONS`.
 * Prints one JSON line per operation: `{ op, tag, ok, code? }`. Roles: `gc` (gc in a loop until
 * DIR/stop exists), `import-good` / `import-bad` (the same layouts, one with a corrupt last layer),
 * `build`, `commit`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../../src/builder/build.js';
import { importImage } from '../../src/image/import.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { openStore } from '../../src/store/store.js';
import { mountImage } from '../../src/union/mount-image.js';

const [role, root, dir, count] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore({ root, durable: false });
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An uncompressed tar holding one file. */
function tar(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, pad, Buffer.alloc(1024)]);
}

/**
 * The OCI layout of iteration `i`: a shared first layer (the same bytes in the good and the bad
 * layout, so either import may be the one that creates it), then a second layer that in the bad
 * layout does not match its digest.
 */
function layout(i: number, bad: boolean): string {
  const out = join(dir, `${bad ? 'bad' : 'good'}-${process.pid}-${i}`);
  mkdirSync(join(out, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer, as?: Buffer) => {
    const d = sha(b);
    writeFileSync(join(out, 'blobs/sha256', d.slice(7)), as ?? b);
    return { digest: d, size: b.length };
  };
  const shared = tar('shared', `shared layer of iteration ${i}\n`.repeat(200));
  const second = tar('second', `second layer ${i}\n`);
  const l1 = put(shared);
  const l2 = put(second, bad ? Buffer.from(second).fill(65, 600, 610) : undefined);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [l1.digest, l2.digest] },
    }),
  );
  const c = put(config);
  const tarType = 'application/vnd.oci.image.layer.v1.tar';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
      layers: [
        { mediaType: tarType, ...l1 },
        { mediaType: tarType, ...l2 },
      ],
    }),
  );
  const m = put(manifest);
  writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(out, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }],
    }),
  );
  return out;
}

async function attempt(op: string, tag: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    say({ op, tag, ok: true });
  } catch (err) {
    say({ op, tag, ok: false, code: (err as { code?: string }).code ?? 'none', message: (err as Error).message });
  }
}

const n = Number(count);
if (role === 'gc') {
  let i = 0;
  while (!existsSync(join(dir, 'stop'))) await attempt('gc', `gc-${i++}`, () => gcStore({ store }));
} else {
  for (let i = 0; i < n; i++) {
    const tag = `${role}-${process.pid}:${i}`;
    if (role === 'import-good' || role === 'import-bad') {
      const source = layout(i, role === 'import-bad');
      await attempt(role, tag, () => importImage({ store, source, tags: [tag] }));
    } else if (role === 'build') {
      const context = join(dir, `ctx-${process.pid}-${i}`);
      mkdirSync(context, { recursive: true });
      writeFileSync(join(context, 'f'), `build ${process.pid} ${i}\n`);
      writeFileSync(join(context, 'Dockerfile'), `FROM base:1\nCOPY f /f\nRUN echo ${i} > /g\n`);
      await attempt(role, tag, () => build({ store, context, tags: [tag] }));
    } else if (role === 'commit') {
      await attempt(role, tag, async () => {
        const fs = await mountImage({ store, image: 'base:1' });
        await fs.writeFile('/commit', `commit ${process.pid} ${i}\n`);
        await fs.commit({ tags: [tag] });
      });
    }
  }
}
