/**
 * Blob transfers without a buffer per socket read or write: HTTP/1.1 on a plain or TLS socket
 * whose reads land in one reused buffer (Node's `onread`), handed synchronously to the reader's
 * sink, and whose request bodies (blob uploads) are read from their source into two reused
 * buffers, each written again only once the socket has handed it to the kernel.
 *
 * Why not undici for these: undici allocates a new buffer for every socket read (64 KiB) and runs
 * each through a Readable. Receiving 1 GiB that way cost about 1.1 CPU-seconds here, against 0.25
 * for the same bytes read into one buffer, and the garbage made V8 run full collections throughout
 * a pull (measured in bench/benchmarks/registry.ts); uploads through undici allocated a fresh
 * 1 MiB buffer per file read, and the kernel spent a fifth of a push zeroing their pages. Auth,
 * redirects, retries and every other request stay with undici; the registry client sends only
 * blob GETs, PUTs and PATCHes this way.
 *
 * Connections are kept alive per origin (a pull of many small layers over TLS does not pay a
 * handshake per blob). A kept connection that the server closed meanwhile is replaced once,
 * before the server can have acted on the request (no answer byte, no body byte taken).
 */
import { socketError } from './http1-body.js';
import { Connection, type Http1Request, type Http1Response, type Http1Tls, RETRYABLE } from './http1-connection.js';

export { Http1Body, READ_BUFFER, type Http1Sink } from './http1-body.js';
export type {
  Http1BodyReader,
  Http1Request,
  Http1RequestBody,
  Http1Response,
  Http1Tls,
} from './http1-connection.js';

/** Kept connections per origin. */
const IDLE_PER_ORIGIN = 8;

/**
 * HTTP/1.1 requests with kept-alive connections per origin. `tlsFor` gives the TLS settings of an
 * https origin. `close()` drops every connection.
 */
export class Http1Client {
  readonly #idle = new Map<string, Connection[]>();
  readonly #all = new Set<Connection>();
  readonly #tlsFor: (url: URL) => Http1Tls;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: { tlsFor: (url: URL) => Http1Tls; timeoutMs?: number }) {
    this.#tlsFor = options.tlsFor;
    this.#timeoutMs = options.timeoutMs ?? 300_000;
  }

  /** Sends a request; resolves at the answer's head (read or drop its body). */
  async request(req: Http1Request): Promise<Http1Response> {
    const { signal } = req;
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    for (let attempt = 0; ; attempt++) {
      const reused = this.#take(req.url.origin);
      const conn = reused ?? this.#open(req.url);
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

  #open(url: URL): Connection {
    if (this.#closed) throw socketError('the client is closed', 'UND_ERR_DESTROYED');
    const conn = new Connection(
      url,
      url.protocol === 'https:' ? this.#tlsFor(url) : undefined,
      url.origin,
      this.#timeoutMs,
    );
    this.#all.add(conn);
    conn.socket.once('close', () => {
      this.#all.delete(conn);
      const idle = this.#idle.get(conn.key);
      if (idle)
        this.#idle.set(
          conn.key,
          idle.filter((c) => c !== conn),
        );
    });
    return conn;
  }

  #take(origin: string): Connection | undefined {
    const idle = this.#idle.get(origin);
    while (idle && idle.length > 0) {
      const conn = idle.pop()!;
      if (conn.dead) continue;
      conn.socket.ref();
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
    conn.socket.unref();
    idle.push(conn);
    this.#idle.set(conn.key, idle);
  }

  /** Closes every connection. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#all) conn.destroy(socketError('the client was closed', 'UND_ERR_DESTROYED'));
    this.#all.clear();
    this.#idle.clear();
  }
}
