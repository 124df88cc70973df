/**
 * A small fault-injecting HTTP proxy for registry tests: it forwards every request to a real
 * registry and, when a rule matches, answers with a status instead, redirects, flips a byte of
 * the body, or cuts the connection after some bytes. It logs every request (method, URL, the
 * headers that matter, request body bytes) so tests can count what crossed the wire.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What to do with a matching request. */
export type FaultAction =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'cut'; afterBytes: number }
  /** Forwards only the first `afterBytes` of the request body, then cuts both connections. */
  | { kind: 'cut-request'; afterBytes: number }
  | { kind: 'corrupt' }
  | { kind: 'redirect'; location: string }
  /** Forwards the request after `ms` (to make transfers overlap, so a test can count them). */
  | { kind: 'delay'; ms: number }
  /** Sends `bytes` more bytes (zeros) after the registry's answer, its Content-Length raised to match. */
  | { kind: 'append'; bytes: number }
  /** Forwards the request without its Range header (a registry or proxy that ignores Range: 200, whole). */
  | { kind: 'no-range' };

/** A rule: the first matching rule with uses left applies. */
export interface FaultRule {
  method?: string;
  /** Matches the request path (and query). */
  path: RegExp;
  /** How many times it applies (default: always). */
  times?: number;
  /** Matching requests to let through before it applies (default 0). */
  skip?: number;
  /** Applies only to requests that carry no `Authorization` header. */
  unauthorized?: boolean;
  action: FaultAction;
}

/** One logged request. */
export interface ProxyLogEntry {
  method: string;
  url: string;
  range?: string | undefined;
  /** The Accept header, as sent. */
  accept?: string | undefined;
  authorization: boolean;
  /** Request body bytes received. */
  bytesIn: number;
  /** Response body bytes sent (forwarded requests). */
  bytesOut: number;
  status?: number | undefined;
  fault?: FaultAction['kind'] | undefined;
  /** When the request arrived and when its answer ended (performance.now() ms). */
  start: number;
  end?: number | undefined;
}

/** A running proxy. */
export interface FaultProxy {
  /** host:port */
  host: string;
  rules: FaultRule[];
  log: ProxyLogEntry[];
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `upstream` (`127.0.0.1:5000`, plain HTTP). */
export function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [upHost, upPort] = upstream.split(':');
  const rules: FaultRule[] = [];
  const log: ProxyLogEntry[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry: ProxyLogEntry = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      range: req.headers.range,
      accept: req.headers.accept,
      authorization: req.headers.authorization !== undefined,
      bytesIn: 0,
      bytesOut: 0,
      start: performance.now(),
    };
    log.push(entry);
    res.on('close', () => {
      entry.end = performance.now();
    });
    const rule = rules.find(
      (r) =>
        (r.times === undefined || r.times > 0) &&
        (!r.method || r.method === req.method) &&
        (!r.unauthorized || req.headers.authorization === undefined) &&
        r.path.test(req.url ?? ''),
    );
    let action = rule?.action;
    if (rule?.skip) {
      rule.skip--;
      action = undefined;
    } else if (rule && rule.times !== undefined) rule.times--;
    entry.fault = action?.kind;
    if (action?.kind === 'status' || action?.kind === 'redirect') {
      req.resume();
      req.on('end', () => {
        entry.status = action.kind === 'status' ? action.status : 307;
        if (action.kind === 'status') {
          res.writeHead(action.status, {
            'content-length': String(Buffer.byteLength(action.body ?? '')),
            ...action.headers,
          });
          res.end(action.body ?? '');
        } else {
          res.writeHead(307, { location: action.location, 'content-length': '0' });
          res.end();
        }
      });
      return;
    }
    if (action?.kind === 'delay') {
      req.pause();
      const timer = setTimeout(() => forward(undefined, req, res, entry), action.ms);
      res.on('close', () => clearTimeout(timer)); // the client went away: forward nothing
      return;
    }
    forward(action, req, res, entry);
  });
  /** Sends the request on to the registry, applying the action that shapes bytes. */
  function forward(
    action: FaultAction | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxyLogEntry,
  ): void {
    // The Host header stays the proxy's, so the registry's upload Locations point back through it.
    const headers = { ...req.headers };
    if (action?.kind === 'no-range') delete headers.range;
    const up = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (upRes) => {
      entry.status = upRes.statusCode;
      if (action?.kind === 'cut-request') {
        upRes.resume(); // the registry's answer to a short body; the client gets a cut, not this
        return;
      }
      const outHeaders = { ...upRes.headers };
      if (action?.kind === 'append' && outHeaders['content-length'] !== undefined)
        outHeaders['content-length'] = String(Number(outHeaders['content-length']) + action.bytes);
      res.writeHead(upRes.statusCode ?? 502, outHeaders);
      let sent = 0;
      let flipped = false;
      upRes.on('data', (chunk: Buffer) => {
        let out = chunk;
        if (action?.kind === 'corrupt' && !flipped && chunk.length > 0) {
          out = Buffer.from(chunk);
          out[0] = out[0]! ^ 0xff;
          flipped = true;
        }
        if (action?.kind === 'cut' && sent + out.length > action.afterBytes) {
          const keep = Math.max(0, action.afterBytes - sent);
          res.write(out.subarray(0, keep), () => res.socket?.destroy());
          upRes.destroy();
          sent += keep;
          return;
        }
        sent += out.length;
        entry.bytesOut += out.length;
        res.write(out);
      });
      upRes.on('end', () => res.end(action?.kind === 'append' ? Buffer.alloc(action.bytes) : undefined));
    });
    up.on('error', () => res.destroy());
    if (action?.kind === 'cut-request') {
      const limit = action.afterBytes;
      let cut = false;
      // The registry gets the bytes that made it, then the end of the connection (a body shorter
      // than its Content-Length). Only when it is done with the request (answered or closed) is
      // the client's connection cut: cut earlier, the client's next request (asking where the
      // upload stands) could reach the registry before it has written those bytes, and see the
      // session intact (204) instead of disowned (404). That race failed this test under load.
      up.on('close', () => req.socket.destroy());
      req.on('data', (c: Buffer) => {
        if (cut) return;
        const keep = Math.max(0, Math.min(c.length, limit - entry.bytesIn));
        entry.bytesIn += c.length;
        if (entry.bytesIn < limit) {
          up.write(c);
          return;
        }
        cut = true;
        up.write(c.subarray(0, keep), () => up.socket?.end());
      });
      return;
    }
    req.on('data', (c: Buffer) => {
      entry.bytesIn += c.length;
    });
    req.pipe(up);
  }
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        host: `127.0.0.1:${port}`,
        rules,
        log,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
