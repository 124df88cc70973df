/**
 * One HTTP/1.1 connection of the registry transport (http1.ts): it connects (within a connect
 * timeout), writes a request (a request body from two reused buffers, each written again only
 * once the kernel has it), parses the answer's head (interim answers skipped; no body after a
 * HEAD, a 204 or a 304; Content-Length, chunked or close-delimited bodies) and hands the body's
 * bytes, framing removed, to an {@link Http1Body}. Through a proxy ({@link Http1Proxy}): a
 * CONNECT tunnel with TLS to the server inside it for https, absolute-form requests for http.
 */
import { isIP } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { Http1Body, READ_BUFFER, socketError } from './http1-body.js';
import { proxyAuthorization, requestTunnel, tlsOptions } from './http1-tunnel.js';
import {
  type Http1BodyReader,
  type Http1Proxy,
  type Http1Request,
  type Http1Response,
  type Http1Tls,
  RETRYABLE,
} from './http1-types.js';
import { decodeUserinfo, isSocksProxy, proxyLabel, proxyPort } from './proxy-choice.js';
import { SocksRefusal, socksHandshake } from './proxy-socks.js';

const MAX_HEAD = 64 << 10;
/** Size of each of the two buffers a request body is sent from. */
const SEND_BUFFER = 1 << 20;

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'close' }
  | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailer'; left: number; line: string };

/** @internal One connection: the state of the exchange on it, fed by the socket's reads. */
export class Connection {
  /** The socket requests are written to and answers read from (TLS inside a tunnel, once it is up). */
  #socket: net.Socket;
  /** The connection to the proxy, when there is one (the tunnel's outer socket). */
  #outer: net.Socket | undefined;
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
  /** Requests go to a proxy in absolute form (`GET http://host/path`), with this Proxy-Authorization. */
  #absolute: { authorization: string | undefined } | undefined;
  /** A request waiting for the tunnel to be up. */
  #queued: (() => void) | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #closeListeners: Array<() => void> = [];
  #closed = false;
  /** host:port of the server, for messages. */
  readonly #label: string;
  dead = false;

  constructor(
    url: URL,
    tlsSettings: Http1Tls | undefined,
    key: string,
    timeoutMs: number,
    connectTimeoutMs = 10_000,
    proxy?: Http1Proxy,
  ) {
    this.key = key;
    this.#label = url.host;
    this.#timeoutMs = timeoutMs;
    this.#buffer = Buffer.allocUnsafe(READ_BUFFER);
    // Node asks for the next read's memory after each read: a body's sink may name its own.
    const onread = {
      buffer: () => this.#nextReadBuffer(),
      callback: (n: number, buf: Buffer) => this.#read(buf.subarray(0, n)),
    };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const tunnel = proxy !== undefined && (url.protocol === 'https:' || isSocksProxy(proxy.url));
    // Until connected (TCP, TLS, and through a proxy the CONNECT too) the shorter connect timeout
    // applies, as undici's.
    this.#connectTimer = setTimeout(() => {
      const where = proxy ? `${url.host} through the proxy ${proxyLabel(proxy.url)}` : url.host;
      this.destroy(
        this.#proxyError(
          socketError(`cannot connect to ${where} within ${connectTimeoutMs / 1000} s`, 'UND_ERR_CONNECT_TIMEOUT'),
          proxy,
        ),
      );
    }, connectTimeoutMs);
    if (proxy === undefined || !tunnel) {
      // Straight to the server, or to the proxy for absolute-form requests: reads land in onread's memory.
      const to = proxy?.url;
      const toHost = to ? to.hostname.replace(/^\[|\]$/g, '') : host;
      const toPort = to ? proxyPort(to) : port;
      const secure = to ? to.protocol === 'https:' : url.protocol === 'https:';
      if (proxy) this.#absolute = { authorization: proxyAuthorization(proxy.url) };
      if (secure) {
        // tls.connect takes onread as net.connect does (Node >= 12.19); @types/node omits it.
        const options: tls.ConnectionOptions & { onread: typeof onread } = {
          host: toHost,
          port: toPort,
          ...tlsOptions(toHost, to ? proxy?.tls : tlsSettings),
          onread,
        };
        this.#socket = tls.connect(options);
      } else {
        this.#socket = net.connect({ host: toHost, port: toPort, onread });
      }
      this.#socket.setNoDelay(true);
      this.#socket.once(secure ? 'secureConnect' : 'connect', () => this.#connected());
      this.#listen(this.#socket, proxy);
    } else {
      this.#socket = this.#openTunnel(url, host, port, tlsSettings, proxy);
    }
  }

  /** The socket (the TLS one inside a tunnel once it is up; until then the proxy's). */
  get socket(): net.Socket {
    return this.#socket;
  }

  /** Calls `f` once, when the connection is closed for good. */
  onClose(f: () => void): void {
    if (this.#closed) queueMicrotask(f);
    else this.#closeListeners.push(f);
  }

  /** Lets the process exit while the connection is kept idle (unref), or not (ref). */
  ref(): void {
    this.#socket.ref();
    this.#outer?.ref();
  }

  unref(): void {
    this.#socket.unref();
    this.#outer?.unref();
  }

  #listen(socket: net.Socket, proxy: Http1Proxy | undefined): void {
    socket.on('error', (err) => this.destroy(this.#connecting ? this.#proxyError(err, proxy) : err));
    socket.on('end', () => this.#ended());
    socket.on('close', () => {
      this.destroy(socketError('other side closed', 'UND_ERR_SOCKET'));
      this.#notifyClosed();
    });
    socket.on('timeout', () =>
      this.destroy(socketError(`no data from ${this.#label} for ${this.#timeoutMs / 1000} s`, 'UND_ERR_BODY_TIMEOUT')),
    );
  }

  /** An error before the connection was up, marked with the proxy it went through (for the message). */
  #proxyError(err: Error, proxy: Http1Proxy | undefined): Error {
    return proxy && this.#connecting ? Object.assign(err, { proxy: proxyLabel(proxy.url) }) : err;
  }

  #notifyClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const f of this.#closeListeners.splice(0)) f();
  }

  /** The connection (and TLS, and tunnel) is up: the idle timeout applies, and a waiting request goes. */
  #connected(): void {
    this.#connecting = false;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#socket.setTimeout(this.#timeoutMs);
    const queued = this.#queued;
    this.#queued = undefined;
    queued?.();
  }

  /**
   * Connects to the proxy, asks it for a tunnel to `host:port` (CONNECT, or SOCKS5), and once it
   * is open starts TLS with the registry inside it (for https; plain HTTP goes straight over a
   * SOCKS5 tunnel). Node ignores `onread` for a socket made over an existing one, and the
   * proxy's socket was made before the handshake, so the answer's bytes come through 'data'
   * events into the same read path.
   */
  #openTunnel(url: URL, host: string, port: number, tlsSettings: Http1Tls | undefined, proxy: Http1Proxy): net.Socket {
    const to = proxy.url;
    const toHost = to.hostname.replace(/^\[|\]$/g, '');
    const toPort = proxyPort(to);
    const outer =
      to.protocol === 'https:'
        ? tls.connect({ host: toHost, port: toPort, ...tlsOptions(toHost, proxy.tls) })
        : net.connect({ host: toHost, port: toPort });
    outer.setNoDelay(true);
    this.#outer = outer;
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const onFail = (err: Error): void => this.destroy(this.#proxyError(err, proxy));
    const onEnd = (): void =>
      this.destroy(this.#proxyError(socketError('the proxy closed the connection', 'UND_ERR_SOCKET'), proxy));
    const refused = (why: string, data: Record<string, unknown>): void =>
      this.destroy(
        new LayerkitError(
          ErrorCodes.ERR_REGISTRY_PROXY,
          `the proxy ${proxyLabel(to)} did not open a tunnel to ${authority}: ${why}`,
          { proxy: proxyLabel(to), host: authority, ...data },
        ),
      );
    /** The tunnel is open: TLS inside it for https, or plain HTTP over it. */
    const open = (): void => {
      outer.off('end', onEnd);
      if (this.dead) return;
      const inner =
        url.protocol === 'https:' ? tls.connect({ socket: outer, ...tlsOptions(host, tlsSettings) }) : outer;
      this.#socket = inner;
      inner.on('data', (chunk: Buffer) => {
        if (!this.#read(chunk)) inner.pause();
      });
      this.#listen(inner, proxy);
      if (inner === outer) {
        outer.resume();
        this.#connected();
        return;
      }
      inner.once('secureConnect', () => this.#connected());
      // The outer socket closes with the inner one.
      inner.once('close', () => outer.destroy());
    };
    outer.on('end', onEnd);
    // For the connection's whole life: an error or close of the outer socket ends it.
    outer.on('error', onFail);
    outer.on('close', () => {
      onEnd();
      this.#notifyClosed();
    });
    outer.once(to.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      if (isSocksProxy(to)) {
        const target = { host, port, username: decodeUserinfo(to.username), password: decodeUserinfo(to.password) };
        socksHandshake(outer, target, (err) => {
          if (err instanceof SocksRefusal) refused(err.message, err.reply > 0 ? { reply: err.reply } : {});
          else if (err) onFail(err);
          else open();
        });
        return;
      }
      requestTunnel(outer, authority, to, onFail, refused, open);
    });
    return outer;
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
    // To a proxy, a plain-HTTP request names its whole URL (absolute form) and carries the proxy's credentials.
    const path = `${req.url.pathname}${req.url.search}`;
    const target = this.#absolute ? `${req.url.protocol}//${req.url.host}${path}` : path;
    const lines = [`${req.method ?? 'GET'} ${target} HTTP/1.1`, `host: ${req.url.host}`];
    const headers = { ...req.headers };
    if (this.#absolute?.authorization) headers['proxy-authorization'] = this.#absolute.authorization;
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
    const send = (): void => {
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
    };
    // Through a tunnel, the request waits until TLS with the server is up inside it.
    if (this.#outer !== undefined && this.#connecting) this.#queued = send;
    else send();
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
    clearTimeout(this.#connectTimer);
    this.#queued = undefined;
    this.socket.destroy();
    this.#outer?.destroy();
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
