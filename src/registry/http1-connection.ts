/**
 * One HTTP/1.1 connection of the registry transport (http1.ts): it connects (within a connect
 * timeout), writes a request (a request body from two reused buffers, each written again only
 * once the kernel has it), parses the answer's head (interim answers skipped; no body after a
 * HEAD, a 204 or a 304; Content-Length, chunked or close-delimited bodies) and hands the body's
 * bytes, framing removed, to an {@link Http1Body}.
 */
import { isIP } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Http1Body, READ_BUFFER, socketError } from './http1-body.js';

const MAX_HEAD = 64 << 10;
/** Marks a failure that happened before the server can have acted on the request: it may go again. */
export const RETRYABLE = Symbol('retryable');

/** TLS settings for one origin (as the registry client's undici agents use them). */
export interface Http1Tls {
  ca?: string | string[] | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  rejectUnauthorized: boolean;
}

/** Reads a request body into the buffer given; resolves the bytes read, 0 at the end. */
export interface Http1BodyReader {
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** A request body: bytes, or `length` bytes from a reader made afresh for each attempt. */
export type Http1RequestBody = Buffer | { length: number; reader: () => Http1BodyReader };

/** One request. */
export interface Http1Request {
  /** Default GET. */
  method?: 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'POST' | 'DELETE' | undefined;
  url: URL;
  headers: Record<string, string>;
  body?: Http1RequestBody | undefined;
  signal?: AbortSignal | undefined;
}

/** Size of each of the two buffers a request body is sent from. */
const SEND_BUFFER = 1 << 20;

/** An answer, its body not yet read. */
export interface Http1Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Http1Body;
}

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'close' }
  | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailer'; left: number; line: string };

/** @internal One connection: the state of the exchange on it, fed by the socket's reads. */
export class Connection {
  readonly socket: net.Socket;
  readonly key: string;
  /** The connection's own read buffer: heads, framing, and bodies whose sink names no memory. */
  readonly #buffer: Buffer;
  #head: Buffer[] = [];
  #headLength = 0;
  #framing: Framing | undefined;
  #keepAlive = false;
  #gotBytes = false;
  /** Request body bytes the kernel has taken (0: the server cannot have acted on the request). */
  #bodySent = 0;
  /** The request body is still being written. */
  #sending = false;
  #sendBuffers: [Buffer, Buffer] | undefined;
  #body: Http1Body | undefined;
  #onHead: ((res: Http1Response) => void) | undefined;
  #onFail: ((err: Error, retryable: boolean) => void) | undefined;
  #onIdle: (() => void) | undefined;
  #timeoutMs: number;
  /** The connection (and TLS handshake) is not established yet: the connect timeout applies. */
  #connecting = true;
  /** The request is a HEAD: its answer has no body, whatever its Content-Length says. */
  #head0 = false;
  dead = false;

  constructor(url: URL, tlsSettings: Http1Tls | undefined, key: string, timeoutMs: number, connectTimeoutMs = 10_000) {
    this.key = key;
    this.#timeoutMs = timeoutMs;
    this.#buffer = Buffer.allocUnsafe(READ_BUFFER);
    // Node asks for the next read's memory after each read: a body's sink may name its own.
    const onread = {
      buffer: () => this.#nextReadBuffer(),
      callback: (n: number, buf: Buffer) => this.#read(buf.subarray(0, n)),
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    if (url.protocol === 'https:') {
      // tls.connect takes onread as net.connect does (Node >= 12.19); @types/node omits it.
      const options: tls.ConnectionOptions & { onread: typeof onread } = {
        host,
        port,
        ...(isIP(host) ? {} : { servername: host }),
        ALPNProtocols: ['http/1.1'],
        ...(tlsSettings?.ca ? { ca: tlsSettings.ca } : {}),
        ...(tlsSettings?.cert ? { cert: tlsSettings.cert, key: tlsSettings.key } : {}),
        rejectUnauthorized: tlsSettings?.rejectUnauthorized ?? true,
        onread,
      };
      this.socket = tls.connect(options);
    } else {
      this.socket = net.connect({ host, port, onread });
    }
    this.socket.setNoDelay(true);
    // Until connected (TCP, and TLS for https) the shorter connect timeout applies, as undici's.
    this.socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      this.#connecting = false;
      this.socket.setTimeout(timeoutMs);
    });
    this.socket.setTimeout(connectTimeoutMs, () =>
      this.destroy(
        this.#connecting
          ? socketError(`cannot connect to ${url.host} within ${connectTimeoutMs / 1000} s`, 'UND_ERR_CONNECT_TIMEOUT')
          : socketError(`no data from ${url.host} for ${this.#timeoutMs / 1000} s`, 'UND_ERR_BODY_TIMEOUT'),
      ),
    );
    this.socket.on('error', (err) => this.destroy(err));
    this.socket.on('end', () => this.#ended());
    this.socket.on('close', () => this.destroy(socketError('other side closed', 'UND_ERR_SOCKET')));
  }

  /** Sends a request; resolves at the answer's head. */
  start(req: Http1Request, onIdle: () => void): Promise<Http1Response> {
    this.#head = [];
    this.#headLength = 0;
    this.#framing = undefined;
    this.#gotBytes = false;
    this.#bodySent = 0;
    this.#body = undefined;
    this.#onIdle = onIdle;
    this.#head0 = req.method === 'HEAD';
    if (!this.#connecting) this.socket.setTimeout(this.#timeoutMs);
    const lines = [`${req.method ?? 'GET'} ${req.url.pathname}${req.url.search} HTTP/1.1`, `host: ${req.url.host}`];
    const headers = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`invalid header ${name}`);
      lines.push(`${name}: ${value}`);
    }
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const answer = new Promise<Http1Response>((resolve, reject) => {
      this.#onHead = resolve;
      this.#onFail = (err, retryable) => reject(Object.assign(err, { [RETRYABLE]: retryable }));
    });
    if (this.socket.isPaused()) this.socket.resume();
    const body = req.body;
    if (body === undefined) this.socket.write(head);
    else if (Buffer.isBuffer(body)) {
      this.socket.write(Buffer.concat([head, body]), (err) => {
        if (!err) this.#bodySent = body.length;
      });
    } else {
      this.socket.write(head);
      this.#sending = true;
      this.#send(body.length, body.reader()).then(
        () => {
          this.#sending = false;
        },
        (err: unknown) => {
          this.#sending = false;
          this.destroy(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }
    return answer;
  }

  /** Writes a request body from two reused buffers: one is read into while the other is written. */
  async #send(length: number, reader: Http1BodyReader): Promise<void> {
    this.#sendBuffers ??= [Buffer.allocUnsafe(SEND_BUFFER), Buffer.allocUnsafe(SEND_BUFFER)];
    const buffers = this.#sendBuffers;
    let which = 0;
    let sent = 0;
    let reading: Promise<number> = reader.read(buffers[0]);
    try {
      for (;;) {
        const n = await reading;
        if (this.dead || !this.#sending) return;
        if (n === 0) break;
        if (sent + n > length)
          throw socketError(
            `the request body is longer than its ${length} bytes`,
            'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
          );
        const chunk = buffers[which]!.subarray(0, n);
        which ^= 1;
        sent += n;
        reading = sent < length ? reader.read(buffers[which]!) : Promise.resolve(0);
        await new Promise<void>((resolve, reject) =>
          this.socket.write(chunk, (err) => (err ? reject(err) : resolve())),
        );
        this.#bodySent = sent;
        // The server answered already (an error before the whole body): stop; the connection
        // cannot be reused, as the server may not read the rest.
        if (this.dead || this.#framing !== undefined || this.#body !== undefined) {
          this.#keepAlive = false;
          return;
        }
      }
      if (sent !== length)
        throw socketError(
          `the request body ended after ${sent} of ${length} bytes`,
          'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
        );
    } finally {
      await reading.catch(() => 0);
      await reader.close().catch(() => undefined);
    }
  }

  destroy(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    const fail = this.#onFail;
    this.#onFail = undefined;
    this.#onHead = undefined;
    // Retried on a new connection only when the server cannot have acted on the request.
    if (fail) fail(err, !this.#gotBytes && this.#bodySent === 0);
    else this.#body?.fail(err);
    this.#body = undefined;
    this.#onIdle = undefined;
  }

  /** The reader paused or resumed the body. */
  pause(): void {
    this.socket.setTimeout(0);
    this.socket.pause();
  }

  resume(): void {
    this.socket.setTimeout(this.#timeoutMs);
    this.socket.resume();
  }

  #ended(): void {
    if (this.#framing?.kind === 'close' && this.#body) {
      this.#finish(false);
      return;
    }
    this.destroy(socketError('other side closed', 'UND_ERR_SOCKET'));
  }

  /**
   * Where the next socket read lands: the memory the body's sink names (a download's piece) while
   * a body of known length or one that runs to the close is being read, capped at what is left
   * of it, so the next answer's head never lands there; otherwise the connection's own buffer.
   */
  #nextReadBuffer(): Buffer {
    const framing = this.#framing;
    const body = this.#body;
    if (body === undefined || framing === undefined || this.dead) return this.#buffer;
    if (framing.kind === 'length' ? framing.left === 0 : framing.kind !== 'close') return this.#buffer;
    const target = body.readTarget();
    if (target === undefined) return this.#buffer;
    return framing.kind === 'length' && target.length > framing.left ? target.subarray(0, framing.left) : target;
  }

  /** One socket read. Returns false to pause the socket. */
  #read(data: Buffer): boolean {
    if (this.dead) return false;
    if (this.#onFail === undefined && this.#body === undefined) {
      // Bytes on an idle connection: the server is confused; drop it.
      this.destroy(socketError('unexpected bytes on an idle connection', 'UND_ERR_SOCKET'));
      return false;
    }
    this.#gotBytes = true;
    if (this.#framing === undefined && this.#body === undefined) {
      const rest = this.#readHead(data);
      if (rest === undefined) return !this.dead;
      // The head is complete. The reader attaches later: what came with it waits in a copy
      // (Http1Body.push), and the socket pauses until the reader asks for more.
      if (rest.length > 0) this.#deliver(rest);
    } else {
      this.#deliver(data);
    }
    if (this.dead) return false;
    if (this.#body === undefined || this.#body.wantsMore()) return true;
    this.socket.setTimeout(0);
    return false;
  }

  /** Collects the head; returns the bytes after it once it is complete. */
  #readHead(data: Buffer): Buffer | undefined {
    this.#head.push(data.length === 0 ? data : Buffer.from(data));
    this.#headLength += data.length;
    const all = this.#head.length === 1 ? this.#head[0]! : Buffer.concat(this.#head);
    this.#head = [all];
    const end = all.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (this.#headLength > MAX_HEAD) this.destroy(socketError('response head too large', 'UND_ERR_HEADERS_OVERFLOW'));
      return undefined;
    }
    const lines = all.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!status) {
      this.destroy(
        socketError(`not an HTTP/1.1 answer: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`, 'HPE_INVALID_CONSTANT'),
      );
      return undefined;
    }
    const code = Number(status[2]);
    const rest = all.subarray(end + 4);
    if (code >= 100 && code < 200) {
      // An interim answer (100 Continue): the real one follows.
      this.#head = [];
      this.#headLength = 0;
      return rest.length > 0 ? this.#readHead(rest) : undefined;
    }
    const headers: Record<string, string | string[] | undefined> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = headers[name];
      headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    const one = (name: string): string | undefined => {
      const v = headers[name];
      return Array.isArray(v) ? v[v.length - 1] : v;
    };
    const connection = (one('connection') ?? '').toLowerCase();
    this.#keepAlive = status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    if (this.#sending) this.#keepAlive = false;
    const te = (one('transfer-encoding') ?? '').toLowerCase();
    const length = one('content-length');
    if (this.#head0 || code === 204 || code === 304) this.#framing = { kind: 'none' };
    else if (te.includes('chunked')) this.#framing = { kind: 'chunked', state: 'size', left: 0, line: '' };
    else if (length !== undefined && /^\d+$/.test(length)) this.#framing = { kind: 'length', left: Number(length) };
    else if (length !== undefined) {
      this.destroy(socketError(`invalid content-length ${JSON.stringify(length)}`, 'UND_ERR_RESPONSE'));
      return undefined;
    } else {
      this.#framing = { kind: 'close' };
      this.#keepAlive = false;
    }
    const body = new Http1Body(this);
    this.#body = body;
    this.#head = [];
    const onHead = this.#onHead!;
    this.#onHead = undefined;
    this.#onFail = undefined;
    onHead({ status: code, headers, body });
    if (this.#framing.kind === 'none' || (this.#framing.kind === 'length' && this.#framing.left === 0))
      this.#finish(true);
    return rest;
  }

  /** Hands body bytes to the reader, framing removed. */
  #deliver(data: Buffer): void {
    const framing = this.#framing;
    const body = this.#body;
    if (!body || !framing) {
      if (data.length > 0) this.destroy(socketError('bytes after the end of an answer', 'UND_ERR_SOCKET'));
      return;
    }
    if (framing.kind === 'close') {
      body.push(data);
      return;
    }
    if (framing.kind === 'length') {
      const n = Math.min(framing.left, data.length);
      framing.left -= n;
      if (n > 0) body.push(data.subarray(0, n));
      if (framing.left === 0) {
        if (n < data.length) this.destroy(socketError('bytes after the end of an answer', 'UND_ERR_SOCKET'));
        else this.#finish(true);
      }
      return;
    }
    if (framing.kind === 'none') {
      if (data.length > 0) this.destroy(socketError('bytes after the end of an answer', 'UND_ERR_SOCKET'));
      return;
    }
    let at = 0;
    while (at < data.length && !this.dead && this.#body === body) {
      if (framing.state === 'data') {
        const n = Math.min(framing.left, data.length - at);
        body.push(data.subarray(at, at + n));
        at += n;
        framing.left -= n;
        if (framing.left === 0) framing.state = 'crlf';
        continue;
      }
      // size, crlf and trailer lines: read up to the next LF.
      const lf = data.indexOf(10, at);
      const piece = data.toString('latin1', at, lf < 0 ? data.length : lf);
      at = lf < 0 ? data.length : lf + 1;
      framing.line += piece;
      if (framing.line.length > 4096) {
        this.destroy(socketError('invalid chunked encoding', 'HPE_INVALID_CHUNK_SIZE'));
        return;
      }
      if (lf < 0) return;
      const line = framing.line.replace(/\r$/, '');
      framing.line = '';
      if (framing.state === 'crlf') {
        if (line !== '') {
          this.destroy(socketError('invalid chunked encoding', 'HPE_INVALID_CHUNK_SIZE'));
          return;
        }
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) {
          this.destroy(socketError('invalid chunked encoding', 'HPE_INVALID_CHUNK_SIZE'));
          return;
        }
        framing.left = Number.parseInt(size[1]!, 16);
        framing.state = framing.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        if (at < data.length) this.destroy(socketError('bytes after the end of an answer', 'UND_ERR_SOCKET'));
        else this.#finish(true);
        return;
      }
    }
  }

  /** The body is complete: the reader is told, and the connection kept for the next request when it may be. */
  #finish(reusable: boolean): void {
    const body = this.#body;
    this.#body = undefined;
    this.#framing = undefined;
    const onIdle = this.#onIdle;
    this.#onIdle = undefined;
    body?.end();
    if (reusable && this.#keepAlive && !this.dead) {
      this.socket.setTimeout(0);
      onIdle?.();
    } else if (!this.dead) {
      this.dead = true;
      this.socket.destroy();
    }
  }
}
