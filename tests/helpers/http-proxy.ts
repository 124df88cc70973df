/**
 * A small forward proxy for tests, on 127.0.0.1 and a free port: CONNECT tunnels (for https
 * targets) and absolute-form requests (`GET http://host:port/path`, for plain-HTTP targets), as
 * squid or tinyproxy serve them. It resolves only the names it is given (so a test can reach a
 * loopback registry by a name no resolver knows, which layerkit must then send through the
 * proxy), may demand Basic proxy credentials (407 otherwise), and records what it saw: every
 * request head, and every byte that went through its tunnels.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';

/** One request the proxy received. */
export interface ProxySaw {
  method: string;
  /** The request target: `host:port` for CONNECT, an absolute URL otherwise. */
  target: string;
  headers: http.IncomingHttpHeaders;
  /** What the proxy answered (200 for an opened tunnel). */
  status: number;
}

/** A running test proxy. */
export interface TestProxy {
  /** `http://127.0.0.1:PORT` (or https:). */
  url: string;
  port: number;
  saw: ProxySaw[];
  /** Every byte that went through a tunnel, both ways (TLS records: ciphertext). */
  tunnelled(): Buffer;
  /** Forgets what it saw. */
  reset(): void;
  /** Answers the next `n` CONNECTs 502 Bad Gateway, as a proxy that cannot reach the server. */
  failNext(n: number): void;
  stop(): Promise<void>;
}

/** Options of {@link startTestProxy}. */
export interface TestProxyOptions {
  /** Names the proxy resolves (to an IP address); any other name gets 502 Bad Gateway. */
  hosts: Record<string, string>;
  /** Basic credentials the proxy demands (407 without them). */
  auth?: { username: string; password: string };
  /** Serve the proxy itself over TLS with this key and certificate. */
  tls?: { key: string; cert: string };
}

/** Starts a proxy; `stop()` it (in afterAll). */
export async function startTestProxy(options: TestProxyOptions): Promise<TestProxy> {
  const saw: ProxySaw[] = [];
  let tunnelled: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let failing = 0;
  const want = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined;
  const resolve = (host: string): string | undefined => options.hosts[host.replace(/^\[|\]$/g, '')];

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const entry: ProxySaw = { method: req.method ?? '', target: req.url ?? '', headers: req.headers, status: 0 };
    saw.push(entry);
    const answer = (status: number, headers: http.OutgoingHttpHeaders = {}): void => {
      entry.status = status;
      res.writeHead(status, { 'content-length': '0', ...headers });
      res.end();
    };
    if (want !== undefined && req.headers['proxy-authorization'] !== want) {
      answer(407, { 'proxy-authenticate': 'Basic realm="test proxy"' });
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      answer(400);
      return;
    }
    const ip = resolve(target.hostname);
    if (target.protocol !== 'http:' || ip === undefined) {
      answer(502);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: ip, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (up) => {
        entry.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) answer(502);
      else res.destroy();
    });
    req.pipe(upstream);
  };

  const onConnect = (req: http.IncomingMessage, client: net.Socket, head: Buffer): void => {
    const entry: ProxySaw = { method: 'CONNECT', target: req.url ?? '', headers: req.headers, status: 0 };
    saw.push(entry);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const refuse = (status: number, text: string, extra = ''): void => {
      entry.status = status;
      client.end(`HTTP/1.1 ${status} ${text}\r\n${extra}content-length: 0\r\nconnection: close\r\n\r\n`);
    };
    if (want !== undefined && req.headers['proxy-authorization'] !== want) {
      refuse(407, 'Proxy Authentication Required', 'proxy-authenticate: Basic realm="test proxy"\r\n');
      return;
    }
    const at = (req.url ?? '').lastIndexOf(':');
    const ip = at > 0 ? resolve((req.url ?? '').slice(0, at)) : undefined;
    const port = Number((req.url ?? '').slice(at + 1));
    if (failing > 0) {
      failing--;
      refuse(502, 'Bad Gateway');
      return;
    }
    if (ip === undefined || !(port > 0)) {
      refuse(502, 'Bad Gateway');
      return;
    }
    const upstream = net.connect({ host: ip, port }, () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        tunnelled.push(Buffer.from(head));
        upstream.write(head);
      }
      splice(client, upstream, tunnelled);
    });
    track(upstream, client, sockets);
    upstream.on('error', () => {
      if (entry.status === 0) refuse(502, 'Bad Gateway');
      upstream.destroy();
    });
  };

  const server = options.tls ? https.createServer(options.tls, onRequest) : http.createServer(onRequest);
  server.on('connect', onConnect);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    saw,
    tunnelled: () => Buffer.concat(tunnelled),
    reset() {
      saw.length = 0;
      tunnelled = [];
      failing = 0;
    },
    failNext(n) {
      failing = n;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Pipes a tunnel's two sockets into each other, recording every byte that crosses in `tunnelled`. */
export function splice(client: net.Socket, upstream: net.Socket, tunnelled: Buffer[]): void {
  client.on('data', (d: Buffer) => tunnelled.push(Buffer.from(d)));
  upstream.on('data', (d: Buffer) => tunnelled.push(Buffer.from(d)));
  client.pipe(upstream);
  upstream.pipe(client);
}

/** Keeps `upstream` in `sockets` while it is open, and closes each side of a tunnel with the other. */
export function track(upstream: net.Socket, client: net.Socket, sockets: Set<net.Socket>): void {
  sockets.add(upstream);
  upstream.on('close', () => {
    sockets.delete(upstream);
    client.destroy();
  });
  client.on('close', () => upstream.destroy());
}
