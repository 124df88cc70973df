/**
 * The client side of a SOCKS5 handshake (RFC 1928, with RFC 1929 username/password), on a socket
 * already connected to the proxy: what a `socks5://` (or `socks5h://`) value of HTTPS_PROXY or
 * HTTP_PROXY asks for, as Go's http.Transport (docker, podman, skopeo, crane) does it. Host names
 * go to the proxy as names (the proxy resolves them), as Go sends them.
 */
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { socketError } from './http1-body.js';

/** Where the tunnel goes, and the proxy's credentials (from its URL). */
export interface SocksTarget {
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
}

/** SOCKS5 reply codes (RFC 1928 §6), for messages. */
const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Why a SOCKS proxy refused: `reply` is its code (0 for a refused login, -1 for a broken answer). */
export class SocksRefusal extends Error {
  readonly reply: number;
  constructor(message: string, reply: number) {
    super(message);
    this.reply = reply;
  }
}

/**
 * Runs the handshake on `socket` (connected to the proxy): greeting, login when the proxy asks
 * and credentials are given, CONNECT to the target. Calls `done` once: with nothing when the
 * tunnel is open (no byte of the target's read yet), or with an error ({@link SocksRefusal} for
 * a refusal). The socket is paused and free of listeners again when `done` is called.
 */
export function socksHandshake(socket: Socket, target: SocksTarget, done: (err?: Error) => void): void {
  if (isIP(target.host) === 0 && Buffer.byteLength(target.host) > 255) {
    done(new SocksRefusal('the host name is longer than SOCKS5 allows', -1));
    return;
  }
  let state: 'method' | 'login' | 'reply' = 'method';
  let got: Buffer = Buffer.alloc(0);
  const credentials = target.username !== undefined && target.username !== '';
  const broken = (): SocksRefusal => new SocksRefusal('the proxy answered something that is not SOCKS5', -1);
  /** Reads what came: undefined to wait for more, true when the tunnel is open, or the error. */
  const step = (): Error | true | undefined => {
    if (state === 'method') {
      if (got.length < 2) return undefined;
      if (got[0] !== 5) return new SocksRefusal('the proxy does not speak SOCKS5', -1);
      const method = got[1]!;
      got = got.subarray(2);
      if (method === 2 && credentials) {
        const user = Buffer.from(target.username ?? '');
        const pass = Buffer.from(target.password ?? '');
        if (user.length > 255 || pass.length > 255)
          return new SocksRefusal('the proxy username or password is longer than SOCKS5 allows', -1);
        state = 'login';
        socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
        return step();
      }
      if (method !== 0)
        return new SocksRefusal(
          credentials ? 'the proxy accepts no login method layerkit has' : 'the proxy wants a login',
          0,
        );
      state = 'reply';
      socket.write(connectRequest(target));
      return step();
    }
    if (state === 'login') {
      if (got.length < 2) return undefined;
      if (got[1] !== 0) return new SocksRefusal('the proxy refused the username and password', 0);
      got = got.subarray(2);
      state = 'reply';
      socket.write(connectRequest(target));
      return step();
    }
    // VER REP RSV ATYP BND.ADDR BND.PORT
    if (got.length < 5) return undefined;
    if (got[0] !== 5) return broken();
    const reply = got[1]!;
    if (reply !== 0) return new SocksRefusal(REPLIES[reply] ?? `reply ${reply}`, reply);
    const atyp = got[3];
    const addressLength = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + got[4]! : -1;
    if (addressLength < 0) return broken();
    const length = 4 + addressLength + 2;
    if (got.length < length) return undefined;
    // The target speaks only after our first bytes (a TLS hello, a request).
    if (got.length > length) return socketError('the proxy sent bytes after its SOCKS5 reply', 'UND_ERR_SOCKET');
    return true;
  };
  const onData = (data: Buffer): void => {
    got = got.length === 0 ? data : Buffer.concat([got, data]);
    const outcome = step();
    if (outcome === undefined) return;
    socket.off('data', onData);
    socket.pause();
    done(outcome === true ? undefined : outcome);
  };
  socket.on('data', onData);
  socket.write(Buffer.from(credentials ? [5, 2, 0, 2] : [5, 1, 0]));
}

/** CONNECT to `target`: an IP address as such, a name as a name (the proxy resolves it). */
function connectRequest(target: SocksTarget): Buffer {
  const port = Buffer.from([target.port >> 8, target.port & 0xff]);
  const kind = isIP(target.host);
  if (kind === 4) return Buffer.concat([Buffer.from([5, 1, 0, 1, ...target.host.split('.').map(Number)]), port]);
  if (kind === 6) return Buffer.concat([Buffer.from([5, 1, 0, 4]), ipv6Bytes(target.host), port]);
  const name = Buffer.from(target.host);
  return Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, port]);
}

/** 16 bytes of an IPv6 address (`::` expanded; a trailing dotted IPv4 part kept). */
function ipv6Bytes(text: string): Buffer {
  let tail: number[] = [];
  let body = text;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    body = `${text.slice(0, v4.index)}:0:0`;
  }
  const [head = '', rest] = body.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const a = groups(head);
  const b = rest === undefined ? [] : groups(rest);
  const words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return Buffer.from(bytes);
}
