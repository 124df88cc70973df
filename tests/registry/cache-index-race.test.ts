/**
 * Two machines exporting their build cache to the same cache reference at the same moment, against
 * the real docker-registry: a proxy holds the index PUTs until both have arrived, so both machines
 * read the same index and the one who writes last would drop the other's records. Every record
 * must survive in the index. And for registries that honour conditional PUTs: the index is written
 * with `If-None-Match: *` / `If-Match: <ETag>`, and a 412 makes the machine read and merge again.
 */
import * as fs from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, openStore } from '../../src/index.js';
import { parseCacheReference } from '../../src/registry/cache-remote.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { withTempDir } from '../helpers/tmp.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };

interface IndexProxy {
  host: string;
  /** The index PUTs seen, with their conditional headers and the status sent back. */
  puts: Array<{ ifMatch?: string; ifNoneMatch?: string; status?: number | undefined }>;
  /** Hold the next `n` index PUTs until all `n` have arrived. */
  barrier: number;
  /** Answer the next `n` index PUTs 412 Precondition Failed (a registry that saw a newer index). */
  refuse: number;
  close(): Promise<void>;
}

/** A proxy in front of the registry that can hold or refuse PUTs of `indexPath`; all else passes. */
async function indexProxy(upstream: string, indexPath: string): Promise<IndexProxy> {
  const [upHost, upPort] = upstream.split(':');
  let held: Array<() => void> = [];
  const forward = (
    req: IncomingMessage,
    body: Buffer,
    res: import('node:http').ServerResponse,
    log?: { status?: number | undefined },
  ) => {
    const out = request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (log) log.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };
  const proxy: IndexProxy = {
    host: '',
    puts: [],
    barrier: 0,
    refuse: 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.method !== 'PUT' || req.url !== indexPath) return forward(req, body, res);
      const log = {
        ...(req.headers['if-match'] ? { ifMatch: String(req.headers['if-match']) } : {}),
        ...(req.headers['if-none-match'] ? { ifNoneMatch: String(req.headers['if-none-match']) } : {}),
      } as IndexProxy['puts'][number];
      proxy.puts.push(log);
      if (proxy.refuse > 0) {
        proxy.refuse--;
        log.status = 412;
        res.writeHead(412, { 'content-length': '0' });
        res.end();
        return;
      }
      if (proxy.barrier > 0) {
        held.push(() => forward(req, body, res, log));
        if (held.length === proxy.barrier) {
          proxy.barrier = 0;
          const go = held;
          held = [];
          for (const release of go) release();
        }
        return;
      }
      forward(req, body, res, log);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}

describe.skipIf(missing !== undefined)(
  `the cache index under concurrent exports${missing ? ` (${missing})` : ''}`,
  () => {
    let bed: Testbed;
    beforeAll(async () => {
      bed = await startTestbed({ plain: true });
    });
    afterAll(async () => {
      await bed?.stop();
    });

    /** One machine's build of a one-COPY Dockerfile whose file says `text`, exporting its cache (own context folder). */
    function exportFrom(ref: string, text: string): Promise<string[]> {
      return withTempDir(async (dir) => {
        fs.writeFileSync(join(dir, 'a.txt'), text);
        const store = await openStore({ memory: true });
        const result = await build({
          store,
          context: dir,
          dockerfileText: 'FROM scratch\nCOPY a.txt /a.txt\n',
          registry: { env },
          sourceDateEpoch: 1_700_000_000,
          cacheTo: [{ type: 'registry', ref, mode: 'max' }],
        });
        return result.steps.flatMap((s) => (s.key ? [s.key] : []));
      }, 'layerkit-race-');
    }

    async function indexKeys(repository: string): Promise<string[]> {
      const res = await fetch(`http://${bed.plain!.host}/v2/${repository}/manifests/cache`, {
        headers: { accept: 'application/vnd.oci.image.index.v1+json' },
      });
      expect(res.status).toBe(200);
      const index = (await res.json()) as { manifests: Array<{ annotations?: Record<string, string> }> };
      return index.manifests.map((d) => d.annotations?.['dev.layerkit.cache.key'] ?? '?').sort();
    }

    it('two machines export at once, both read the same index first: every record survives', async () => {
      const repository = 'race/cache';
      const tag = parseCacheReference(`${bed.plain!.host}/${repository}`).tag;
      const proxy = await indexProxy(bed.plain!.host, `/v2/${repository}/manifests/${tag}`);
      try {
        const ref = `${proxy.host}/${repository}`;
        // Round 1 starts from no index; round 2 from the index round 1 left.
        const all: string[] = [];
        for (const round of [1, 2]) {
          proxy.barrier = 2;
          const before = proxy.puts.length;
          const [a, b] = await Promise.all([exportFrom(ref, `A${round}\n`), exportFrom(ref, `B${round}\n`)]);
          expect(a).toHaveLength(1);
          expect(b).toHaveLength(1);
          expect(a[0]).not.toBe(b[0]);
          all.push(...a, ...b);
          expect(await indexKeys(repository)).toEqual([...all].sort());
          // Both wrote from the same read; whoever lost its entry wrote again.
          expect(proxy.puts.length - before).toBeGreaterThanOrEqual(3);
        }
        // The first writes had no index to match; later ones named the ETag they read.
        expect(proxy.puts[0]!.ifNoneMatch).toBe('*');
        expect(proxy.puts.some((p) => /^"?sha256:[a-f0-9]{64}"?$/.test(p.ifMatch ?? ''))).toBe(true);
      } finally {
        await proxy.close();
      }
    });

    it('a 412 to the index PUT (a registry that honours If-Match) is read, merged and written again', async () => {
      const repository = 'conditional/cache';
      const tag = parseCacheReference(`${bed.plain!.host}/${repository}`).tag;
      const proxy = await indexProxy(bed.plain!.host, `/v2/${repository}/manifests/${tag}`);
      try {
        const ref = `${proxy.host}/${repository}`;
        const first = await exportFrom(ref, 'one\n');
        proxy.refuse = 2;
        const second = await exportFrom(ref, 'two\n');
        expect(await indexKeys(repository)).toEqual([...first, ...second].sort());
        const refused = proxy.puts.filter((p) => p.status === 412);
        expect(refused).toHaveLength(2);
        expect(refused[0]!.ifMatch).toMatch(/sha256:[a-f0-9]{64}/);
        expect(proxy.puts.at(-1)!.status).toBe(201);
      } finally {
        await proxy.close();
      }
    });
  },
);
