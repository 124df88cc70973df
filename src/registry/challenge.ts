/**
 * `WWW-Authenticate` challenges (RFC 7235, RFC 6750 §3), parsed with a real quoted-string reader:
 * `scope` values hold spaces and commas, and one header may carry several challenges.
 */

/** One challenge: its scheme (lower-case) and parameters (names lower-case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges.
 * @example parseChallenges('Bearer realm="https://a/token",service="reg"')[0].params.service // 'reg'
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z/:]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skipWs();
    while (i < n && header[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (scheme.length === 0) {
      i++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skipWs();
      const save = i;
      const name = token();
      skipWs();
      if (name.length === 0 || header[i] !== '=') {
        // the next challenge's scheme (or a token68, which registries do not use)
        i = save;
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
        value = header.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (header[i] === ',') i++;
      else break;
    }
  }
  return out;
}
