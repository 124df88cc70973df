/**
 * Proxies for the registry transport's connections (http1-connection.ts): TLS options, the
 * `Proxy-Authorization` a proxy URL gives, and the CONNECT exchange that opens a tunnel through an
 * HTTP proxy. Naming a proxy, its port and its user are proxy-choice.ts's.
 */
import { isIP } from 'node:net';
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { socketError } from './http1-body.js';
import type { Http1Tls } from './http1-types.js';
import { decodeUserinfo } from './proxy-choice.js';

/** The largest answer head a proxy may send to CONNECT. */
const MAX_HEAD = 64 << 10;

/** TLS options for a connection to `host` (SNI unless an IP address). */
export function tlsOptions(host: string, settings: Http1Tls | undefined): tls.ConnectionOptions {
  return {
    ...(isIP(host) ? {} : { servername: host }),
    ALPNProtocols: ['http/1.1'],
    ...(settings?.ca ? { ca: settings.ca } : {}),
    ...(settings?.cert ? { cert: settings.cert, key: settings.key } : {}),
    rejectUnauthorized: settings?.rejectUnauthorized ?? true,
  };
}

/**
 * Asks an HTTP proxy for a tunnel (`CONNECT host:port`) on `outer` and reads its answer's head:
 * `open` once it is 2xx (nothing may follow it), `refused` for any other answer, `onFail` for a
 * broken exchange.
 */
export function requestTunnel(
  outer: net.Socket,
  authority: string,
  to: URL,
  onFail: (err: Error) => void,
  refused: (why: string, data: Record<string, unknown>) => void,
  open: () => void,
): void {
  const chunks: Buffer[] = [];
  let length = 0;
  const onData = (data: Buffer): void => {
    chunks.push(data);
    length += data.length;
    const all = Buffer.concat(chunks, length);
    const end = all.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (length > MAX_HEAD) onFail(socketError('the proxy answered a head too large', 'UND_ERR_HEADERS_OVERFLOW'));
      return;
    }
    outer.off('data', onData);
    outer.pause();
    const statusLine = all.toString('latin1', 0, all.indexOf('\r\n', 0, 'latin1'));
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!status || !status[1]!.startsWith('2')) {
      const why = status
        ? `${status[1]}${status[2] ? ` ${status[2].replace(/[^\x20-\x7e]/g, '').slice(0, 80)}` : ''}`
        : 'something that is not HTTP';
      refused(`it answered ${why}`, status ? { status: Number(status[1]) } : {});
      return;
    }
    // A server speaks TLS only after our hello: nothing may follow the proxy's answer yet.
    if (length > end + 4) {
      onFail(socketError('the proxy sent bytes after its answer to CONNECT', 'UND_ERR_SOCKET'));
      return;
    }
    open();
  };
  outer.on('data', onData);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `host: ${authority}`, 'user-agent: layerkit'];
  const authorization = proxyAuthorization(to);
  if (authorization) lines.push(`proxy-authorization: ${authorization}`);
  outer.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** `Basic …` from a proxy URL's user and password, or undefined when it has none. */
export function proxyAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const user = decodeUserinfo(url.username);
  const password = decodeUserinfo(url.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
