/**
 * A small SOCKS5 proxy for tests (RFC 1928, username/password of RFC 1929), on 127.0.0.1 and a
 * free port, as `ssh -D` or dante serve one. It resolves only the names it is given (others get
 * "host unreachable"), may demand a login, and records each CONNECT (the target as asked, the
 * reply) and every byte that went through its tunnels.
 */
import * as net from 'node:net';
import { splice, track } from './http-proxy.js';

/** One CONNECT the proxy received: the target as the client named it, and the reply code (0 = opened). */
export interface SocksSaw {
  target: string;
  /** How the client named the host: 'name', 'ipv4' or 'ipv6'. */
  kind: 'name' | 'ipv4' | 'ipv6';
  reply: number;
}

/** A running SOCKS5 proxy. */
export interface TestSocksProxy {
  port: number;
  saw: SocksSaw[];
  /** Logins tried (`user:password`), in clear as SOCKS5 sends them. */
  logins: string[];
  tunnelled(): Buffer;
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a SOCKS5 proxy resolving `hosts`; `auth` makes it demand that login. */
export async function startSocksProxy(options: {
  hosts: Record<string, string>;
  auth?: { username: string; password: string };
}): Promise<TestSocksProxy> {
  const saw: SocksSaw[] = [];
  const logins: string[] = [];
  let tunnelled: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let got = Buffer.alloc(0);
    let state: 'greeting' | 'login' | 'request' | 'done' = 'greeting';
    const onData = (data: Buffer): void => {
      got = Buffer.concat([got, data]);
      if (state === 'greeting') {
        if (got.length < 2 || got.length < 2 + got[1]!) return;
        const methods = [...got.subarray(2, 2 + got[1]!)];
        got = got.subarray(2 + got[1]!);
        const want = options.auth ? 2 : 0;
        if (!methods.includes(want)) {
          client.end(Buffer.from([5, 0xff]));
          return;
        }
        client.write(Buffer.from([5, want]));
        state = want === 2 ? 'login' : 'request';
      }
      if (state === 'login') {
        if (got.length < 2) return;
        const ulen = got[1]!;
        if (got.length < 3 + ulen || got.length < 3 + ulen + got[2 + ulen]!) return;
        const user = got.subarray(2, 2 + ulen).toString();
        const plen = got[2 + ulen]!;
        const pass = got.subarray(3 + ulen, 3 + ulen + plen).toString();
        got = got.subarray(3 + ulen + plen);
        logins.push(`${user}:${pass}`);
        if (user !== options.auth?.username || pass !== options.auth?.password) {
          client.end(Buffer.from([1, 1]));
          return;
        }
        client.write(Buffer.from([1, 0]));
        state = 'request';
      }
      if (state === 'request') {
        if (got.length < 5) return;
        const atyp = got[3]!;
        const len = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + got[4]!;
        if (got.length < 4 + len + 2) return;
        const addr = got.subarray(4, 4 + len);
        const port = got.readUInt16BE(4 + len);
        const host =
          atyp === 1
            ? [...addr].join('.')
            : atyp === 4
              ? (addr.toString('hex').match(/.{4}/g) ?? []).join(':')
              : addr.subarray(1).toString();
        const entry: SocksSaw = {
          target: `${host}:${port}`,
          kind: atyp === 1 ? 'ipv4' : atyp === 4 ? 'ipv6' : 'name',
          reply: 0,
        };
        saw.push(entry);
        state = 'done';
        client.off('data', onData);
        const reply = (code: number): Buffer => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
        const ip = atyp === 3 ? options.hosts[host] : undefined;
        if (ip === undefined) {
          entry.reply = 4;
          client.end(reply(4));
          return;
        }
        const upstream = net.connect({ host: ip, port }, () => {
          client.write(reply(0));
          splice(client, upstream, tunnelled);
        });
        track(upstream, client, sockets);
        upstream.on('error', () => {
          entry.reply = 5;
          client.end(reply(5));
        });
      }
    };
    client.on('data', onData);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as net.AddressInfo).port,
    saw,
    logins,
    tunnelled: () => Buffer.concat(tunnelled),
    reset() {
      saw.length = 0;
      logins.length = 0;
      tunnelled = [];
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
