/**
 * The proxy choice follows Go's golang.org/x/net/http/httpproxy (what docker, podman, skopeo and
 * crane use): its test table (proxy_test.go) ported row by row, and properties over generated
 * environments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseProxy, proxyLabel } from '../../src/registry/proxy-choice.js';

const choose = (url: string, env: NodeJS.ProcessEnv, proxy?: string | false): string | undefined =>
  chooseProxy({ url: new URL(url), env, ...(proxy === undefined ? {} : { proxy }) })?.url.href.replace(/\/$/, '');

describe('chooseProxy: Go proxyForURLTests', () => {
  const table: Array<{ env: NodeJS.ProcessEnv; req?: string; want: string | undefined }> = [
    { env: { HTTP_PROXY: '127.0.0.1:8080' }, want: 'http://127.0.0.1:8080' },
    { env: { HTTP_PROXY: 'cache.corp.example.com:1234' }, want: 'http://cache.corp.example.com:1234' },
    { env: { HTTP_PROXY: 'cache.corp.example.com' }, want: 'http://cache.corp.example.com' },
    { env: { HTTP_PROXY: 'localhost' }, want: 'http://localhost' },
    { env: { HTTP_PROXY: 'https://cache.corp.example.com' }, want: 'https://cache.corp.example.com' },
    { env: { HTTP_PROXY: 'http://127.0.0.1:8080' }, want: 'http://127.0.0.1:8080' },
    { env: { HTTP_PROXY: 'https://127.0.0.1:8080' }, want: 'https://127.0.0.1:8080' },
    // Don't use secure for http; use secure for https.
    {
      env: { HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' },
      req: 'http://insecure.tld/',
      want: 'http://http.proxy.tld',
    },
    {
      env: { HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'secure.proxy.tld' },
      req: 'https://secure.tld/',
      want: 'http://secure.proxy.tld',
    },
    {
      env: { HTTP_PROXY: 'http.proxy.tld', HTTPS_PROXY: 'https://secure.proxy.tld' },
      req: 'https://secure.tld/',
      want: 'https://secure.proxy.tld',
    },
    { env: { HTTP_PROXY: 'http.proxy.tld' }, req: 'https://secure.tld/', want: undefined },
    { env: { HTTP_PROXY: 'http.proxy.tld' }, req: 'ftp://insecure.tld/', want: undefined },
    // HTTPS proxy is still used in a CGI environment (Go's historical behaviour).
    {
      env: { HTTPS_PROXY: 'https://secure.proxy.tld', REQUEST_METHOD: 'GET' },
      req: 'https://secure.tld/',
      want: 'https://secure.proxy.tld',
    },
    { env: {}, want: undefined },
    { env: { NO_PROXY: 'example.com', HTTP_PROXY: 'proxy' }, req: 'http://example.com/', want: undefined },
    { env: { NO_PROXY: '.example.com', HTTP_PROXY: 'proxy' }, req: 'http://example.com/', want: 'http://proxy' },
    { env: { NO_PROXY: 'ample.com', HTTP_PROXY: 'proxy' }, req: 'http://example.com/', want: 'http://proxy' },
    { env: { NO_PROXY: 'example.com', HTTP_PROXY: 'proxy' }, req: 'http://foo.example.com/', want: undefined },
    { env: { NO_PROXY: '.foo.com', HTTP_PROXY: 'proxy' }, req: 'http://example.com/', want: 'http://proxy' },
    { env: { NO_PROXY: '.示例.com', HTTP_PROXY: 'proxy' }, req: 'http://www.示例.com', want: undefined },
    { env: { NO_PROXY: 'xn--fsq092h.com', HTTP_PROXY: 'proxy' }, req: 'http://www.示例.com', want: undefined },
    { env: { NO_PROXY: '示例.com', HTTP_PROXY: 'proxy' }, req: 'http://www.xn--fsq092h.com', want: undefined },
    // (Go's row with an IPv6 zone, http://[1000::%25.example.com]:123, is not a URL WHATWG parses.)
  ];
  it.each(table)('$env $req → $want', ({ env, req, want }) => {
    expect(choose(req ?? 'http://example.com', env)).toBe(want);
  });

  it('refuses HTTP_PROXY in a CGI environment (httpoxy), naming the variable', () => {
    expect(() => choose('http://example.com', { HTTP_PROXY: 'http://10.1.2.3:8080', REQUEST_METHOD: 'GET' })).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_PROXY', data: { variable: 'HTTP_PROXY' } }),
    );
  });

  it('speaks socks5:// and socks5h:// as Go does; refuses other schemes (Go keeps foo://), naming the variable', () => {
    expect(choose('http://example.com', { HTTP_PROXY: 'socks5://127.0.0.1' })).toBe('socks5://127.0.0.1');
    expect(choose('https://example.com', { HTTPS_PROXY: 'socks5h://u:p@127.0.0.1:1080' })).toBe(
      'socks5h://u:p@127.0.0.1:1080',
    );
    for (const value of ['foo://host', 'socks4://127.0.0.1', 'ftp://proxy:21']) {
      expect(() => choose('http://example.com', { HTTP_PROXY: value })).toThrow(
        expect.objectContaining({ code: 'ERR_REGISTRY_PROXY', message: expect.stringContaining('HTTP_PROXY') }),
      );
    }
  });
});

describe('chooseProxy: the environment', () => {
  it('upper case wins, and an empty value counts as unset (Go getEnvAny)', () => {
    expect(choose('https://r.example', { HTTPS_PROXY: 'up:1', https_proxy: 'low:2' })).toBe('http://up:1');
    expect(choose('https://r.example', { HTTPS_PROXY: '', https_proxy: 'low:2' })).toBe('http://low:2');
    expect(choose('https://r.example', { https_proxy: 'low:2' })).toBe('http://low:2');
    expect(choose('http://r.example', { HTTP_PROXY: 'up:1', http_proxy: 'low:2' })).toBe('http://up:1');
    expect(choose('https://r.example', { HTTPS_PROXY: 'p:1', NO_PROXY: '', no_proxy: 'r.example' })).toBeUndefined();
    expect(choose('https://r.example', { HTTPS_PROXY: 'p:1', NO_PROXY: 'x.example', no_proxy: 'r.example' })).toBe(
      'http://p:1',
    );
  });

  it('reports where the proxy came from, and keeps its credentials for the proxy', () => {
    const got = chooseProxy({
      url: new URL('https://r.example'),
      env: { https_proxy: 'http://u:p%40ss@p.example:3128' },
    });
    expect(got?.source).toBe('https_proxy');
    expect(got?.url.username).toBe('u');
    expect(decodeURIComponent(got?.url.password ?? '')).toBe('p@ss');
    expect(proxyLabel(got!.url)).toBe('http://p.example:3128');
  });

  it('an explicit proxy replaces the environment (NO_PROXY included), except for loopback; false is none', () => {
    const env = { HTTPS_PROXY: 'env:1', NO_PROXY: '*' };
    expect(choose('https://r.example', env, 'http://opt:2')).toBe('http://opt:2');
    expect(choose('http://r.example', env, 'opt:2')).toBe('http://opt:2');
    expect(choose('https://127.0.0.1:5000', env, 'http://opt:2')).toBeUndefined();
    expect(choose('https://r.example', { HTTPS_PROXY: 'env:1' }, false)).toBeUndefined();
  });

  it.each([
    ['http://[::1', 'HTTPS_PROXY'],
    ['http://host:99999', 'HTTPS_PROXY'],
    ['http://us er:secret@host:port', 'https_proxy'],
    ['://', 'HTTPS_PROXY'],
  ])('a malformed value %s is a coded error naming %s, without the password', (value, variable) => {
    let err: unknown;
    try {
      choose('https://r.example', { [variable]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { variable } });
    expect((err as Error).message).toContain(variable);
    expect((err as Error).message).not.toContain('secret');
    expect(JSON.stringify(err)).not.toContain('secret');
  });
});

describe('chooseProxy: Go UseProxyTests (NO_PROXY matching)', () => {
  const noProxy =
    'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';
  const rows: Array<[string, boolean]> = [
    // Never proxy localhost:
    ['localhost', false],
    ['127.0.0.1', false],
    ['127.0.0.2', false],
    ['[::1]', false],
    ['[::2]', true],
    ['192.168.1.1', false],
    ['192.168.1.2', true],
    ['192.168.1.3', false],
    ['192.168.1.4', true],
    ['10.0.0.2', false],
    ['[2001:db8::52:0:1]', false],
    ['[2001:db8::52:0:2]', true],
    ['[2001:db8::52:0:3]', false],
    ['[2002:db8:a::123]', false],
    ['[fe80::424b:c8be:1643:a1b6]', true],
    ['barbaz.net', true],
    ['www.barbaz.net', false],
    ['foobar.com', false],
    ['www.foobar.com', false],
    ['foofoobar.com', true],
    ['baz.com', true],
    ['localhost.net', true],
    ['local.localhost', true],
    ['barbarbaz.net', true],
    ['wildcard.io', true],
    ['nested.wildcard.io', false],
    ['awildcard.io', true],
  ];
  const env = (no: string): NodeJS.ProcessEnv => ({ HTTP_PROXY: 'proxy:3128', NO_PROXY: no });

  it.each(rows)('%s:80 proxied: %s', (host, proxied) => {
    expect(choose(`http://${host}:80`, env(noProxy)) !== undefined).toBe(proxied);
  });

  it.each(rows)('%s:80 is never proxied with NO_PROXY=* (TestAllNoProxy)', (host) => {
    expect(choose(`http://${host}:80`, env('*'))).toBeUndefined();
  });

  it('a malformed entry is ignored (TestInvalidNoProxy)', () => {
    expect(choose('http://example.com:80', env(':1'))).toBe('http://proxy:3128');
  });

  it('ports: an entry with a port matches that port only; the default port is the scheme’s', () => {
    expect(choose('https://r.example:5000', { HTTPS_PROXY: 'p:1', NO_PROXY: 'r.example:5000' })).toBeUndefined();
    expect(choose('https://r.example:5001', { HTTPS_PROXY: 'p:1', NO_PROXY: 'r.example:5000' })).toBe('http://p:1');
    expect(choose('https://r.example', { HTTPS_PROXY: 'p:1', NO_PROXY: 'r.example' })).toBeUndefined();
    expect(choose('https://10.0.0.5', { HTTPS_PROXY: 'p:1', NO_PROXY: '10.0.0.5' })).toBeUndefined();
  });

  it('IPv4-mapped loopback and IPv4 CIDRs against mapped addresses', () => {
    expect(choose('http://[::ffff:127.0.0.1]:80', env(''))).toBeUndefined();
    expect(choose('http://[::ffff:10.0.0.1]:80', env('10.0.0.0/8'))).toBeUndefined();
    expect(choose('http://[::ffff:11.0.0.1]:80', env('10.0.0.0/8'))).toBe('http://proxy:3128');
  });
});

describe('chooseProxy: properties', () => {
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => [...ls, 'test'].join('.'));
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const v6 = fc.ipV6().map((a) => `[${a}]`);
  const host = fc.oneof(domain, v4, v6);
  const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
  const target = fc
    .tuple(fc.constantFrom('http', 'https'), host, port)
    .map(([s, h, p]) => new URL(`${s}://${h}${p === undefined ? '' : `:${p}`}/v2/`));
  const entry = fc.oneof(
    domain,
    domain.map((d) => `.${d}`),
    domain.map((d) => `*.${d}`),
    v4,
    fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, b]) => `${a}/${b}`),
    fc.ipV6(),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, b]) => `${a}/${b}`),
    fc.tuple(domain, fc.integer({ min: 1, max: 65535 })).map(([d, p]) => `${d}:${p}`),
    fc.constant('*'),
    fc.string({ maxLength: 12 }),
  );
  const noProxy = fc.array(entry, { maxLength: 5 }).map((es) => es.join(', '));
  const env = noProxy.map((no) => ({ HTTP_PROXY: 'http://hp:3128', HTTPS_PROXY: 'https://sp:3129', NO_PROXY: no }));

  it("NO_PROXY='*' never proxies", () => {
    fc.assert(
      fc.property(target, (url) => {
        expect(chooseProxy({ url, env: { HTTPS_PROXY: 'p:1', HTTP_PROXY: 'p:2', NO_PROXY: '*' } })).toBeUndefined();
      }),
    );
  });

  it('a loopback target is never proxied, whatever the environment', () => {
    const loopback = fc.oneof(
      fc.constant('localhost'),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => `127.${p.join('.')}`),
      fc.constant('[::1]'),
      fc.constant('[::ffff:127.0.0.1]'),
    );
    fc.assert(
      fc.property(fc.constantFrom('http', 'https'), loopback, port, env, (s, h, p, e) => {
        const url = new URL(`${s}://${h}${p === undefined ? '' : `:${p}`}/`);
        expect(chooseProxy({ url, env: e })).toBeUndefined();
      }),
    );
  });

  it('adding an entry to NO_PROXY never turns a direct connection into a proxied one', () => {
    fc.assert(
      fc.property(target, env, entry, fc.boolean(), (url, e, more, first) => {
        const before = chooseProxy({ url, env: e });
        const added = first ? `${more},${e.NO_PROXY}` : `${e.NO_PROXY},${more}`;
        const after = chooseProxy({ url, env: { ...e, NO_PROXY: added } });
        if (before === undefined) expect(after).toBeUndefined();
        else if (after !== undefined) expect(after.url.href).toBe(before.url.href);
      }),
    );
  });

  it('a target exempted by its own host name (or IP) is never proxied; https targets use HTTPS_PROXY', () => {
    fc.assert(
      fc.property(target, env, (url, e) => {
        const own = url.hostname.replace(/^\[|\]$/g, '');
        expect(chooseProxy({ url, env: { ...e, NO_PROXY: `${e.NO_PROXY},${own}` } })).toBeUndefined();
        const got = chooseProxy({ url, env: { ...e, NO_PROXY: '' } });
        if (got !== undefined) expect(got.url.host).toBe(url.protocol === 'https:' ? 'sp:3129' : 'hp:3128');
      }),
    );
  });
});
