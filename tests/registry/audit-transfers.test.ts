/**
 * Transfers against a real registry (distribution 2.8) through a proxy that holds every blob GET
 * a while, so that transfers overlap and can be counted: at most 4 blob transfers per registry
 * at once (and exactly as many as asked: the bound is reached, so transfers really run in
 * parallel), even across pulls running at once in one process; the same digest is never fetched
 * twice at once, across pulls into one store; and a CLI pull interrupted with Ctrl-C (SIGINT)
 * exits 130 and leaves the store exactly as it was.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { openStore, pullImage, pushImage, type Image } from '../../src/index.js';
import { startFaultProxy, type FaultProxy, type ProxyLogEntry } from '../helpers/fault-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };
const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The most blob GETs the proxy had open at one moment. */
function peakOverlap(entries: ProxyLogEntry[]): number {
  const edges: Array<[number, number]> = [];
  for (const e of entries) {
    edges.push([e.start, 1]);
    edges.push([e.end ?? Number.POSITIVE_INFINITY, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** Resolves once `done()` holds (polled every 10 ms, for at most 20 s). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error('timed out waiting');
}

const blobGets = (log: ProxyLogEntry[]) => log.filter((e) => e.method === 'GET' && e.url.includes('/blobs/sha256:'));

describe.skipIf(missing !== undefined)(
  `transfers: bound, sharing, interruption${missing ? ` (${missing})` : ''}`,
  () => {
    let bed: Testbed;
    let proxy: FaultProxy;
    let wide: Image;
    let pairA: Image;
    let pairB: Image;
    let shared: string;

    beforeAll(async () => {
      bed = await startTestbed({ plain: true });
      const src = await openStore({ memory: true });
      wide = await makeImage(
        src,
        'wide:1',
        Array.from({ length: 10 }, (_, i) => ({ [`l${i}/f`]: noise(20_000) })),
      );
      const big = noise(400_000);
      pairA = await makeImage(src, 'pair:a', [{ 'shared/big': big }, { 'a/own': 'a\n' }]);
      pairB = await makeImage(src, 'pair:b', [{ 'shared/big': big }, { 'b/own': 'b\n' }]);
      shared = pairA.layers[0]!.digest;
      expect(pairB.layers[0]!.digest).toBe(shared);
      const host = bed.plain!.host;
      for (const [image, ref] of [
        ['wide:1', 'audit/wide:1'],
        ['pair:a', 'audit/pair:a'],
        ['pair:b', 'audit/pair:b'],
      ] as const)
        await pushImage({ store: src, image, ref: `${host}/${ref}`, env });
      proxy = await startFaultProxy(host);
    });
    afterAll(async () => {
      await proxy?.close();
      await bed?.stop();
    });
    it.beforeEach(() => {
      proxy.rules.length = 0;
      proxy.log.length = 0;
    });

    it.for([
      { asked: undefined, bound: 4 },
      { asked: 2, bound: 2 },
    ])(
      'a pull of 11 blobs runs $bound blob transfers at once, no more (maxConcurrent $asked)',
      async ({ asked, bound }) => {
        proxy.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, action: { kind: 'delay', ms: 120 } });
        const store = await openStore({ memory: true });
        const r = await pullImage({
          store,
          ref: `${proxy.host}/audit/wide:1`,
          env,
          ...(asked ? { maxConcurrent: asked } : {}),
        });
        expect(r.image.descriptor.digest).toBe(wide.descriptor.digest);
        const gets = blobGets(proxy.log);
        expect(gets).toHaveLength(11);
        expect(peakOverlap(gets)).toBe(bound);
      },
    );

    it('two pulls at once into one store fetch a shared layer once, and share the registry’s bound', async ({
      tmp,
    }) => {
      proxy.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, action: { kind: 'delay', ms: 120 } });
      const store = await openStore({ root: `${tmp}/store` });
      const [a, b, c] = await Promise.all([
        pullImage({ store, ref: `${proxy.host}/audit/pair:a`, env }),
        pullImage({ store, ref: `${proxy.host}/audit/pair:b`, env }),
        pullImage({ store: await openStore({ memory: true }), ref: `${proxy.host}/audit/wide:1`, env }),
      ]);
      expect(a.image.descriptor.digest).toBe(pairA.descriptor.digest);
      expect(b.image.descriptor.digest).toBe(pairB.descriptor.digest);
      expect(c.image.descriptor.digest).toBe(wide.descriptor.digest);
      const gets = blobGets(proxy.log);
      expect(gets.filter((e) => e.url.endsWith(shared))).toHaveLength(1);
      expect(await store.blobs.check(shared as never)).toBeUndefined();
      // Three pulls from one registry in one process: still at most 4 blob transfers at once.
      expect(peakOverlap(gets)).toBe(4);
    });

    it('a pull cancelled while another waits on the same blob does not fail the other', async ({ tmp }) => {
      proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${shared}`), action: { kind: 'delay', ms: 2000 } });
      const store = await openStore({ root: `${tmp}/store` });
      const controller = new AbortController();
      const first = pullImage({ store, ref: `${proxy.host}/audit/pair:a`, env, signal: controller.signal });
      first.catch(() => undefined);
      await until(() => blobGets(proxy.log).some((e) => e.url.endsWith(shared)));
      const second = pullImage({ store, ref: `${proxy.host}/audit/pair:b`, env });
      // the second pull has asked for its own layer: it is waiting on the first's download of the shared one
      await until(() => blobGets(proxy.log).some((e) => e.url.endsWith(pairB.layers[1]!.digest) && e.end));
      controller.abort();
      await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      const b = await second;
      expect(b.image.descriptor.digest).toBe(pairB.descriptor.digest);
      expect(await store.blobs.check(shared as never)).toBeUndefined();
      expect(blobGets(proxy.log).filter((e) => e.url.endsWith(shared))).toHaveLength(2);
    });

    it('Ctrl-C during a CLI pull exits 130 and leaves the store exactly as it was', async ({ tmp }) => {
      const root = `${tmp}/store`;
      const store = await openStore({ root });
      await pullImage({ store, ref: `${proxy.host}/audit/pair:b`, env, tag: 'before:1' });
      const before = storeSnapshot(store);
      proxy.log.length = 0;
      // The shared layer is in the store; pair:a's own layer is held long enough to interrupt it.
      proxy.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, action: { kind: 'delay', ms: 60_000 } });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', BIN, 'pull', '--store', root, '--progress', 'json', `${proxy.host}/audit/pair:a`],
        { cwd: ROOT, env: { PATH: process.env.PATH, HOME: `${tmp}/home`, NO_COLOR: '1' } },
      );
      let out = '';
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no transfer started: ${out}${err}`)), 30_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c;
          // interrupt once a blob GET is being held by the proxy
          if (blobGets(proxy.log).length > 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        const poll = setInterval(() => {
          if (blobGets(proxy.log).length > 0) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      });
      child.kill('SIGINT');
      const code = await exited;
      expect(code, err).toBe(130);
      expect(err).toMatch(/interrupted|aborted/i);
      const after = await openStore({ root });
      expect(storeSnapshot(after)).toEqual(before);
      expect(after.listState('tmp')).toEqual([]);
    }, 60_000);

    it('Ctrl-C during a CLI push exits 130 and leaves nothing tagged on the registry', async ({ tmp }) => {
      const root = `${tmp}/push-store`;
      const src = await openStore({ root });
      await makeImage(src, 'cancel:1', [{ 'c/file': noise(200_000) }]);
      proxy.log.length = 0;
      // every blob upload is held, so the push is interrupted with blobs in flight
      proxy.rules.push({ method: 'PUT', path: /\/blobs\/uploads\//, action: { kind: 'delay', ms: 60_000 } });
      proxy.rules.push({ method: 'PATCH', path: /\/blobs\/uploads\//, action: { kind: 'delay', ms: 60_000 } });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', BIN, 'push', '--store', root, 'cancel:1', `${proxy.host}/audit/cancel:1`],
        { cwd: ROOT, env: { PATH: process.env.PATH, HOME: `${tmp}/home`, NO_COLOR: '1' } },
      );
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const held = () => proxy.log.some((e) => e.url.includes('/blobs/uploads/') && e.fault === 'delay');
      for (let i = 0; i < 3000 && !held(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(held()).toBe(true);
      child.kill('SIGINT');
      expect(await exited, err).toBe(130);
      proxy.rules.length = 0;
      const check = await fetch(`http://${bed.plain!.host}/v2/audit/cancel/manifests/1`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(check.status).toBe(404);
      expect(proxy.log.some((e) => e.method === 'PUT' && e.url.includes('/manifests/'))).toBe(false);
    }, 60_000);
  },
);
