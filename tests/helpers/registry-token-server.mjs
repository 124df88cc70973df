// token-server.mjs: a minimal Docker-registry token server for tests (no dependencies).
// Issues RS256 JWTs that distribution (2.8 and 3.x) accepts with `auth: token`:
// header.x5c carries the signing certificate, which must chain to `rootcertbundle`.
//
//   node token-server.mjs            # env below; prints "token server listening on URL" when ready
//   TS_ADDR=127.0.0.1 TS_PORT=5003   where to listen (keep it on loopback)
//   TS_CERT, TS_KEY                  TLS cert/key for HTTPS (omit both for plain HTTP)
//   TS_SIGN_CERT, TS_SIGN_KEY        token-signing certificate (PEM) and its private key
//   TS_ISSUER=layerkit-test-issuer   must equal the registry's auth.token.issuer
//   TS_USERS=alice:s3cret            user:password[,user:password...]; these get pull,push
//   TS_ANON=pull                     actions granted to anonymous callers ("" for none)
//   TS_TTL=300                       token lifetime in seconds
//   TS_LOG=path                      append one line per token request (for tests to assert on)
//
// GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&offline_token=true]
// POST /token (form: grant_type=password|refresh_token, service, scope, username, password,
//              refresh_token, access_type=offline, client_id) - the OAuth2 variant.
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync, appendFileSync } from 'node:fs';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';

const env = process.env;
const addr = env.TS_ADDR ?? '127.0.0.1',
  port = Number(env.TS_PORT ?? 5003);
const issuer = env.TS_ISSUER ?? 'layerkit-test-issuer',
  ttl = Number(env.TS_TTL ?? 300);
const anon = (env.TS_ANON ?? 'pull').split(',').filter(Boolean);
const users = new Map(
  (env.TS_USERS ?? 'alice:s3cret')
    .split(',')
    .filter(Boolean)
    .map((u) => [u.slice(0, u.indexOf(':')), u.slice(u.indexOf(':') + 1)]),
);
const signKey = readFileSync(env.TS_SIGN_KEY);
const x5c = [new X509Certificate(readFileSync(env.TS_SIGN_CERT)).raw.toString('base64')];
const refresh = new Map(); // refresh token -> {sub, aud}

const b64u = (buf) => Buffer.from(buf).toString('base64url');
function jwt(sub, aud, access) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64u(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c }));
  const body = b64u(
    JSON.stringify({
      iss: issuer,
      sub,
      aud,
      exp: now + ttl,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    }),
  );
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(signKey);
  return `${head}.${body}.${b64u(sig)}`;
}
// "type:name:actions": the name may contain ':' (host:port), so split on the first and last ':'.
function parseScopes(list) {
  const out = [];
  for (const s of list.flatMap((x) => x.split(' ')).filter(Boolean)) {
    const a = s.indexOf(':'),
      b = s.lastIndexOf(':');
    if (a < 0 || b <= a) continue;
    out.push({
      type: s.slice(0, a),
      name: s.slice(a + 1, b),
      actions: s
        .slice(b + 1)
        .split(',')
        .filter(Boolean),
    });
  }
  return out;
}
function grant(sub, scopes) {
  const allowed = sub ? ['pull', 'push', 'delete', '*'] : anon;
  return scopes.map((s) => ({ ...s, actions: s.actions.filter((x) => allowed.includes(x)) }));
}
function send(res, code, obj, extra = {}) {
  res.writeHead(code, { 'Content-Type': 'application/json', ...extra });
  res.end(JSON.stringify(obj));
}
async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/token') return send(res, 404, { error: 'not found' });
  let p = url.searchParams;
  if (req.method === 'POST') {
    let raw = '';
    for await (const c of req) raw += c;
    p = new URLSearchParams(raw);
  } else if (req.method !== 'GET') return send(res, 405, { error: 'method' });
  const service = p.get('service') ?? '';
  let sub = '',
    offline = p.get('offline_token') === 'true' || p.get('access_type') === 'offline';
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  let user, pass;
  if (basic) [user, pass] = Buffer.from(basic[1], 'base64').toString().split(/:(.*)/s);
  if (p.get('grant_type') === 'password') {
    user = p.get('username');
    pass = p.get('password');
  }
  if (p.get('grant_type') === 'refresh_token') {
    const r = refresh.get(p.get('refresh_token') ?? '');
    if (!r || r.aud !== service) return send(res, 401, { error: 'invalid_grant' });
    sub = r.sub;
  } else if (user !== undefined) {
    if (users.get(user) !== pass)
      return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    sub = user;
  }
  const scopes = grant(sub, parseScopes(p.getAll('scope')));
  const token = jwt(sub, service, scopes);
  const out = { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() };
  if (req.method === 'POST') out.scope = scopes.map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`).join(' ');
  if (p.get('grant_type') === 'refresh_token')
    out.refresh_token = p.get('refresh_token'); // same one back
  else if (offline && sub) {
    const rt = randomBytes(24).toString('hex');
    refresh.set(rt, { sub, aud: service });
    out.refresh_token = rt;
  }
  if (env.TS_LOG)
    appendFileSync(
      env.TS_LOG,
      `${req.method} sub=${sub || '-'} service=${service} scope=${JSON.stringify(p.getAll('scope'))} granted=${JSON.stringify(scopes)}\n`,
    );
  send(res, 200, out);
}
const tls = env.TS_CERT && env.TS_KEY ? { cert: readFileSync(env.TS_CERT), key: readFileSync(env.TS_KEY) } : null;
const server = tls ? createHttps(tls, handle) : createHttp(handle);
server.listen(port, addr, () =>
  console.log(`token server listening on ${tls ? 'https' : 'http'}://${addr}:${port}/token`),
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
