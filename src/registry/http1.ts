/**
 * The registry client's HTTP: HTTP/1.1 on a plain or TLS socket whose reads land in one reused
 * buffer (Node's `onread`), or in memory the body's reader names (a download's pieces), handed
 * synchronously to the reader's sink, and whose request bodies
 * (blob uploads) are read from their source into two reused buffers, each written again only once
 * the socket has handed it to the kernel. The registry client (client.ts) sends every request
 * this way (auth, redirects and retries are its own), through a proxy when one applies (a
 * CONNECT tunnel for https origins, absolute-form requests for http ones; http1-connection.ts and
 * http1-tunnel.ts); undici serves only a `dispatcher` the caller gives (a MockAgent).
 *
 * Why not undici: undici allocates a new buffer for every socket read (64 KiB) and runs each
 * through a Readable. Receiving 1 GiB that way cost about 1.1 CPU-seconds here, against 0.25 for
 * the same bytes read into one buffer, and the garbage made V8 run full collections throughout a
 * pull (measured in bench/benchmarks/registry.ts); uploads through undici allocated a fresh 1 MiB
 * buffer per file read, and the kernel spent a fifth of a push zeroing their pages. And a process
 * that sends one request through undici pays for loading it and for compiling its llhttp
 * WebAssembly parser: about 0.18 s of wall time and 0.25 CPU-seconds here, against 0.01 s for
 * this module, in every `layerkit pull` or `push`.
 *
 * Connections are kept alive per origin (a pull of many small layers over TLS does not pay a
 * handshake per blob), at most `connections(url)` open per origin at once (more requests wait
 * for one, as undici's agent queues them). A kept connection that the server closed meanwhile is
 * replaced once, before the server can have acted on the request (no answer byte, no body byte
 * taken).
 */
import { socketError } from './http1-body.js';
import { Connection } from './http1-connection.js';
import {
  type Http1BodyReader,
  type Http1Proxy,
  type Http1Request,
  type Http1Response,
  type Http1Tls,
  RETRYABLE,
} from './http1-types.js';

export { Http1Body, READ_BUFFER, type Http1Sink } from './http1-body.js';
export type {
  Http1BodyReader,
  Http1Proxy,
  Http1Request,
  Http1RequestBody,
  Http1Response,
  Http1Tls,
} from './http1-types.js';

/** Kept connections per origin. */
const IDLE_PER_ORIGIN = 8;

/**
 * HTTP/1.1 requests with kept-alive connections per origin. `tlsFor` gives the TLS settings of an
 * https origin. `close()` drops every connection.
 */
export class Http1Client {
  readonly #idle = new Map<string, Connection[]>();
  readonly #all = new Set<Connection>();
  /** Open connections per origin. */
  readonly #open = new Map<string, number>();
  /** Requests waiting for a connection, per origin. */
  readonly #waiting = new Map<string, Array<() => void>>();
  readonly #tlsFor: (url: URL) => Http1Tls;
  readonly #connections: (url: URL) => number;
  readonly #proxyFor: (url: URL) => Http1Proxy | undefined;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  #closed = false;

  /**
   * @param options.tlsFor The TLS settings of an https origin.
   * @param options.connections The most connections open to `url`'s origin at once (default: no limit).
   * @param options.timeoutMs The longest silence of a connection with a request on it (default 300 s).
   * @param options.connectTimeoutMs The longest a connection (and its TLS handshake) may take (default 10 s).
   * @param options.proxyFor The proxy to reach `url`'s origin through (default: none). Connections
   *   stay pooled by that origin.
   */
  constructor(options: {
    tlsFor: (url: URL) => Http1Tls;
    connections?: ((url: URL) => number) | undefined;
    timeoutMs?: number | undefined;
    connectTimeoutMs?: number | undefined;
    proxyFor?: ((url: URL) => Http1Proxy | undefined) | undefined;
  }) {
    this.#tlsFor = options.tlsFor;
    this.#connections = options.connections ?? (() => Number.POSITIVE_INFINITY);
    this.#timeoutMs = options.timeoutMs ?? 300_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#proxyFor = options.proxyFor ?? (() => undefined);
  }

  /** Sends a request; resolves at the answer's head (read or drop its body). */
  async request(req: Http1Request): Promise<Http1Response> {
    const { signal } = req;
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    for (let attempt = 0; ; attempt++) {
      // At once when a connection is kept or may be opened (the signal is listened to from here on).
      const { conn, reused } = this.#tryAcquire(req.url) ?? (await this.#acquire(req.url, signal));
      // The signal aborts the answer's body too, until it has ended (then the connection may
      // already serve another request).
      const onAbort = (): void => conn.destroy(socketError('the operation was aborted', 'ABORT_ERR'));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await conn.start(req, () => this.#release(conn));
        res.body.onSettled(() => signal?.removeEventListener('abort', onAbort));
        return res;
      } catch (err) {
        signal?.removeEventListener('abort', onAbort);
        // A kept connection the server closed meanwhile: once more on a new one.
        if (reused && attempt === 0 && (err as { [RETRYABLE]?: boolean })[RETRYABLE] && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  /** A kept connection to `url`'s origin, or a new one when fewer than the limit are open. */
  #tryAcquire(url: URL): { conn: Connection; reused: boolean } | undefined {
    const kept = this.#take(url.origin);
    if (kept) return { conn: kept, reused: true };
    if (this.#closed || (this.#open.get(url.origin) ?? 0) < this.#connections(url))
      return { conn: this.#connect(url), reused: false };
    return undefined;
  }

  /** Waits until {@link Http1Client.#tryAcquire} gets a connection (or `signal` aborts). */
  async #acquire(url: URL, signal: AbortSignal | undefined): Promise<{ conn: Connection; reused: boolean }> {
    const origin = url.origin;
    for (;;) {
      const got = this.#tryAcquire(url);
      if (got) return got;
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      await new Promise<void>((resolve, reject) => {
        const queue = this.#waiting.get(origin) ?? [];
        this.#waiting.set(origin, queue);
        const onAbort = (): void => {
          const at = queue.indexOf(wake);
          if (at >= 0) queue.splice(at, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        queue.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Lets one request waiting for a connection to `origin` look again. */
  #wake(origin: string): void {
    const queue = this.#waiting.get(origin);
    const next = queue?.shift();
    if (queue?.length === 0) this.#waiting.delete(origin);
    next?.();
  }

  #connect(url: URL): Connection {
    if (this.#closed) throw socketError('the client is closed', 'UND_ERR_DESTROYED');
    const conn = new Connection(
      url,
      url.protocol === 'https:' ? this.#tlsFor(url) : undefined,
      url.origin,
      this.#timeoutMs,
      this.#connectTimeoutMs,
      this.#proxyFor(url),
    );
    this.#all.add(conn);
    this.#open.set(conn.key, (this.#open.get(conn.key) ?? 0) + 1);
    conn.onClose(() => {
      this.#all.delete(conn);
      const open = (this.#open.get(conn.key) ?? 1) - 1;
      if (open > 0) this.#open.set(conn.key, open);
      else this.#open.delete(conn.key);
      const idle = this.#idle.get(conn.key);
      if (idle)
        this.#idle.set(
          conn.key,
          idle.filter((c) => c !== conn),
        );
      this.#wake(conn.key);
    });
    return conn;
  }

  #take(origin: string): Connection | undefined {
    const idle = this.#idle.get(origin);
    while (idle && idle.length > 0) {
      const conn = idle.pop()!;
      if (conn.dead) continue;
      conn.ref();
      return conn;
    }
    return undefined;
  }

  #release(conn: Connection): void {
    if (this.#closed || conn.dead) {
      conn.destroy(socketError('closed', 'UND_ERR_DESTROYED'));
      return;
    }
    const idle = this.#idle.get(conn.key) ?? [];
    if (idle.length >= IDLE_PER_ORIGIN) {
      conn.destroy(socketError('closed', 'UND_ERR_DESTROYED'));
      return;
    }
    conn.unref();
    idle.push(conn);
    this.#idle.set(conn.key, idle);
    this.#wake(conn.key);
  }

  /** Closes every connection. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#all) conn.destroy(socketError('the client was closed', 'UND_ERR_DESTROYED'));
    this.#all.clear();
    this.#idle.clear();
    // Waiting requests look again and find the client closed.
    for (const queue of [...this.#waiting.values()]) for (const wake of queue.splice(0)) wake();
    this.#waiting.clear();
  }
}

/**
 * A request body reader over an async iterable of bytes: each `read` copies what fits of the
 * current chunk into the buffer given (for bodies that come as a stream, not from a file).
 */
export function iterableReader(source: AsyncIterable<Uint8Array>): Http1BodyReader {
  const it = source[Symbol.asyncIterator]();
  let rest: Uint8Array = new Uint8Array(0);
  return {
    async read(into: Buffer): Promise<number> {
      while (rest.length === 0) {
        const next = await it.next();
        if (next.done) return 0;
        rest = next.value;
      }
      const n = Math.min(into.length, rest.length);
      into.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return n;
    },
    async close(): Promise<void> {
      await it.return?.();
    },
  };
}
