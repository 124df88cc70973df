/**
 * The blob transport (src/registry/http1.ts) against scripted servers on 127.0.0.1: every
 * body framing (Content-Length, chunked with extensions and trailers, close-delimited) arriving in
 * any fragmentation gives the same bytes through `pipe`, `text()` and async iteration; kept-alive
 * connections are reused and a stale one is replaced; a paused sink stops the reads; a cut body is
 * a transient error; a signal aborts; a request body from a reader arrives whole, and an answer
 * that comes before the body is read stops it; a HEAD's answer has no body whatever its
 * Content-Length; no more connections per origin are open than allowed (the rest wait); a TLS
 * handshake that never comes is a connect timeout; a stream body is read whole into any buffer
 * size. Pulls and pushes through it against the real registry (plain, TLS, token, cut
 * connections) are in testbed.test.ts and faults.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { isTransient } from '../../src/registry/client.js';
import { Http1Client, iterableReader, READ_BUFFER } from '../../src/registry/http1.js';
import { PieceQueue } from '../../src/registry/piece-queue.js';

type Script = (socket: Socket, request: string, index: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that answers each request on a connection with `script`; counts connections. */
async function serve(script: Script): Promise<{ url: URL; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let pending = '';
    let index = 0;
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        script(socket, request, index++);
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: new URL(`http://127.0.0.1:${port}/v2/x/blobs/y`), connections: () => connections };
}

/** Writes `data` in pieces cut at `cuts` (fractions), each piece a separate write a tick apart. */
async function writeCut(socket: Socket, data: Buffer, cuts: number[]): Promise<void> {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, data.length]) {
    if (p > at) socket.write(data.subarray(at, p));
    at = Math.max(at, p);
    await new Promise((r) => setImmediate(r));
  }
}

function chunked(body: Buffer, sizes: number[], trailer: boolean): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < body.length) {
    const n = Math.min(body.length - at, sizes[i++ % sizes.length]!);
    parts.push(
      Buffer.from(`${n.toString(16)}${i % 2 ? ';ext=1' : ''}\r\n`),
      body.subarray(at, at + n),
      Buffer.from('\r\n'),
    );
    at += n;
  }
  parts.push(Buffer.from(trailer ? '0\r\nx-trailer: 1\r\n\r\n' : '0\r\n\r\n'));
  return Buffer.concat(parts);
}

const framings = ['length', 'chunked', 'close'] as const;

describe('http1', () => {
  test.prop(
    [
      fc.constantFrom(...framings),
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('pipe', 'text', 'iterate'),
    ],
    { numRuns: 40 },
  )('every framing, cut anywhere, gives the body', async (framing, bytes, cuts, sizes, how) => {
    const body = Buffer.from(bytes);
    const { url } = await serve((socket) => {
      const head =
        framing === 'length'
          ? `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Two: a\r\nx-two: b\r\n\r\n`
          : framing === 'chunked'
            ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
            : 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n';
      const payload = framing === 'chunked' ? chunked(body, sizes, sizes[0]! % 2 === 0) : body;
      void writeCut(
        socket,
        Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), Buffer.from(head), payload]),
        cuts,
      ).then(() => framing === 'close' && socket.end());
    });
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      const res = await client.request({ url, headers: { accept: '*/*' } });
      expect(res.status).toBe(200);
      if (framing === 'length') expect(res.headers['x-two']).toEqual(['a', 'b']);
      let got: Buffer;
      if (how === 'text') got = Buffer.from(await res.body.text(), 'utf8');
      else if (how === 'iterate') {
        const parts: Buffer[] = [];
        for await (const c of res.body) parts.push(c);
        got = Buffer.concat(parts);
      } else {
        const parts: Buffer[] = [];
        await res.body.pipe((c) => {
          parts.push(Buffer.from(c));
          return true;
        }).done;
        got = Buffer.concat(parts);
      }
      expect(got.equals(how === 'text' ? Buffer.from(body.toString('utf8'), 'utf8') : body)).toBe(true);
    } finally {
      client.close();
    }
  });

  test.prop(
    [
      fc.constantFrom('length', 'close', 'chunked'),
      fc.array(fc.integer({ min: 0, max: 3 * READ_BUFFER }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
      fc.integer({ min: 2, max: 3 }),
    ],
    { numRuns: 25 },
  )(
    "a body read into memory the sink names (a download's pieces): the same bytes, answer after answer on one connection",
    async (framing, sizes, cuts, pieces) => {
      const bodies = sizes.map((n) => randomBytes(n));
      const { url, connections } = await serve((socket, _request, index) => {
        const body = bodies[index]!;
        const head =
          framing === 'length'
            ? `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`
            : framing === 'chunked'
              ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
              : 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n';
        const payload = framing === 'chunked' ? chunked(body, [70_000, 5], false) : body;
        void writeCut(socket, Buffer.concat([Buffer.from(head), payload]), cuts).then(
          () => framing === 'close' && socket.end(),
        );
      });
      const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
      try {
        for (const body of framing === 'close' ? bodies.slice(0, 1) : bodies) {
          // Small pieces, so reads fill them, pause, and resume as the "store" gives them back.
          const queue = new PieceQueue({ pieces, size: READ_BUFFER });
          const got: Buffer[] = [];
          const res = await client.request({ url, headers: {} });
          const drain = () => {
            for (let p = queue.take(); p; p = queue.take()) {
              got.push(Buffer.from(p));
              queue.recycle(p);
            }
          };
          let inPlace = 0;
          const { done, resume } = res.body.pipe(
            (chunk) => {
              if (chunk.buffer instanceof SharedArrayBuffer) inPlace++;
              return queue.add(chunk);
            },
            () => queue.target(),
          );
          queue.onRoom = resume;
          queue.onReady = () => setImmediate(drain);
          await done;
          drain();
          const rest = queue.rest();
          if (rest) got.push(Buffer.from(rest));
          expect(Buffer.concat(got).equals(body)).toBe(true);
          // Past two reads of the connection's own buffer (the head's, and the one asked for
          // before the sink came), a body of known length or one to the close lands in the pieces.
          if (framing !== 'chunked' && body.length > 2 * READ_BUFFER) expect(inPlace).toBeGreaterThan(0);
          if (framing === 'chunked') expect(inPlace).toBe(0);
        }
        // The next answer's head never landed in a piece: the one connection served them all.
        expect(connections()).toBe(1);
      } finally {
        client.close();
      }
    },
  );

  it('keeps a connection alive between GETs and replaces one the server closed', async () => {
    const body = randomBytes(5000);
    const { url, connections } = await serve((socket, request, index) => {
      expect(request).toMatch(/^GET \/v2\/x\/blobs\/y HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+/);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
      // The second answer on a connection closes it afterwards (a server's idle timeout).
      if (index === 1) socket.end();
    });
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await client.request({ url, headers: {} });
        expect(Buffer.from(await res.body.text(), 'latin1').length).toBeGreaterThan(0);
      }
      // GETs 1-2 on the first connection, 3-4 on a second one after the server closed it.
      expect(connections()).toBe(2);
    } finally {
      client.close();
    }
  });

  it('a sink that asks to pause gets at most one more read until it resumes', async () => {
    const body = randomBytes(8 * READ_BUFFER);
    const { url } = await serve((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      const res = await client.request({ url, headers: {} });
      const parts: Buffer[] = [];
      let seen = 0;
      let pausedAt = -1;
      const { done, resume } = res.body.pipe((c) => {
        parts.push(Buffer.from(c));
        seen += c.length;
        // Pause once past the bytes that came with the head (those wait in a copy).
        if (pausedAt < 0 && seen > 2 * READ_BUFFER) {
          pausedAt = seen;
          return false;
        }
        return true;
      });
      // Everything the server sent is in the socket's buffers by now; a paused body reads none.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toBeLessThanOrEqual(pausedAt + READ_BUFFER);
      expect(seen).toBeLessThan(body.length);
      resume();
      await done;
      expect(Buffer.concat(parts).equals(body)).toBe(true);
    } finally {
      client.close();
    }
  });

  it('a body cut short is a transient error; a signal aborts the GET', async () => {
    const { url } = await serve((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little');
      setImmediate(() => socket.destroy());
    });
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      const res = await client.request({ url, headers: {} });
      const err = await res.body.text().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as NodeJS.ErrnoException).code).toBe('UND_ERR_SOCKET');
      expect(isTransient(err)).toBe(true);

      const silent = await serve(() => undefined);
      const controller = new AbortController();
      const pending = client.request({ url: silent.url, headers: {}, signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'ABORT_ERR' });

      // A body that stalls mid-way: the signal ends it too.
      const stalled = await serve((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf'));
      const c2 = new AbortController();
      const res2 = await client.request({ url: stalled.url, headers: {}, signal: c2.signal });
      const reading = res2.body.text();
      c2.abort();
      await expect(reading).rejects.toMatchObject({ code: 'ABORT_ERR' });
    } finally {
      client.close();
    }
  });

  it('sends a request body from a reader, whole and counted; an early answer stops it and drops the connection', async () => {
    const payload = randomBytes(3 * (1 << 20) + 12345);
    const received: Buffer[] = [];
    const { url } = await serve(() => undefined);
    let connections = 0;
    // Take over the server's connection handling: read the body the head announces, then answer.
    const server = servers.at(-1)!;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      connections++;
      let data = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = data.subarray(0, end).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
        if (head.startsWith('PATCH')) {
          // Answers before reading the body, as a registry refusing an upload does.
          socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!');
          return;
        }
        if (data.length - end - 4 < length) return;
        received.push(data.subarray(end + 4, end + 4 + length));
        data = data.subarray(end + 4 + length);
        socket.write('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
      });
      socket.on('error', () => undefined);
    });
    const reader = (from: Buffer) => () => {
      let at = 0;
      return {
        async read(into: Buffer) {
          const n = Math.min(into.length, from.length - at, 70_000);
          from.copy(into, 0, at, at + n);
          at += n;
          return n;
        },
        async close() {},
      };
    };
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      const put = await client.request({
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/octet-stream' },
        body: { length: payload.length, reader: reader(payload) },
      });
      expect(put.status).toBe(201);
      await put.body.dump();
      expect(Buffer.concat(received).equals(payload)).toBe(true);

      const patch = await client.request({
        method: 'PATCH',
        url,
        headers: {},
        body: { length: payload.length, reader: reader(payload) },
      });
      expect(patch.status).toBe(413);
      expect(await patch.body.text()).toBe('big!');

      // A reader that ends early: the request fails, nothing is sent as if whole.
      await expect(
        client.request({ method: 'PUT', url, headers: {}, body: { length: 10, reader: reader(Buffer.from('short')) } }),
      ).rejects.toMatchObject({ code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' });
      // The PATCH reused the PUT's kept connection; its early answer dropped it, so the last
      // request opened a second one.
      expect(connections).toBe(2);
    } finally {
      client.close();
    }
  });

  it("a HEAD's answer has no body, whatever its Content-Length; the connection serves the next request", async () => {
    const { url, connections } = await serve((socket, request) => {
      if (request.startsWith('HEAD ')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    });
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
    try {
      const head = await client.request({ method: 'HEAD', url, headers: {} });
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('123456');
      expect(await head.body.text()).toBe('');
      const get = await client.request({ url, headers: {} });
      expect(await get.body.text()).toBe('hello');
      expect(connections()).toBe(1);
    } finally {
      client.close();
    }
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 12 })], { numRuns: 12 })(
    'never more connections to an origin than allowed; the requests beyond wait and all complete',
    async (limit, requests) => {
      let open = 0;
      let most = 0;
      const { url } = await serve((socket) => {
        // Each answer a little later, so that requests overlap.
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 5);
      });
      const server = servers.at(-1)!;
      server.on('connection', (socket: Socket) => {
        most = Math.max(most, ++open);
        socket.on('close', () => open--);
      });
      const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }), connections: () => limit });
      try {
        const bodies = await Promise.all(
          Array.from({ length: requests }, async () => (await client.request({ url, headers: {} })).body.text()),
        );
        expect(bodies).toEqual(Array.from({ length: requests }, () => 'ok'));
        expect(most).toBeLessThanOrEqual(limit);
        expect(most).toBe(Math.min(limit, requests));
      } finally {
        client.close();
      }
    },
  );

  it('a request waiting for a connection is aborted by its signal', async () => {
    const { url } = await serve(() => undefined);
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }), connections: () => 1 });
    try {
      const first = client.request({ url, headers: {} });
      const controller = new AbortController();
      const second = client.request({ url, headers: {}, signal: controller.signal });
      controller.abort(Object.assign(new Error('stop'), { code: 'ABORT_ERR' }));
      await expect(second).rejects.toMatchObject({ code: 'ABORT_ERR' });
      client.close();
      await expect(first).rejects.toMatchObject({ code: 'UND_ERR_DESTROYED' });
    } finally {
      client.close();
    }
  });

  it('a TLS handshake that never comes is a connect timeout, a transient error', async () => {
    // Accepts the connection and says nothing: no TLS server answers the ClientHello.
    const { url } = await serve(() => undefined);
    const https = new URL(url.toString().replace(/^http:/, 'https:'));
    const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }), connectTimeoutMs: 200 });
    try {
      const err = await client.request({ url: https, headers: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as NodeJS.ErrnoException).code).toBe('UND_ERR_CONNECT_TIMEOUT');
      expect(isTransient(err)).toBe(true);
    } finally {
      client.close();
    }
  });

  test.prop([
    fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 20 }),
    fc.integer({ min: 1, max: 257 }),
  ])('iterableReader reads a stream body whole, into buffers of any size', async (chunks, size) => {
    const reader = iterableReader(
      (async function* () {
        yield* chunks;
      })(),
    );
    const got: Buffer[] = [];
    const into = Buffer.alloc(size);
    for (let n = await reader.read(into); n > 0; n = await reader.read(into))
      got.push(Buffer.from(into.subarray(0, n)));
    await reader.close();
    expect(Buffer.concat(got).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('refuses a head that is not HTTP/1.x and a bad content-length', async () => {
    for (const answer of ['SSH-2.0-OpenSSH\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n']) {
      const { url } = await serve((socket) => socket.write(answer));
      const client = new Http1Client({ tlsFor: () => ({ rejectUnauthorized: true }) });
      try {
        await expect(client.request({ url, headers: {} })).rejects.toMatchObject({
          code: expect.stringMatching(/^(HPE_INVALID_CONSTANT|UND_ERR_RESPONSE)$/),
        });
      } finally {
        client.close();
      }
    }
  });
});
