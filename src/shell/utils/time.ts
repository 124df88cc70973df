/**
 * Time for `date`, `touch` and `ls`: the current time (SOURCE_DATE_EPOCH when the environment
 * sets it, so builds are reproducible), date parsing for `-d`/`-t`, and a UTC `strftime`.
 */

/** Milliseconds since the epoch: `SOURCE_DATE_EPOCH` (seconds) when set, else the clock. */
export function currentTime(env: Readonly<Record<string, string>>): number {
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && /^[0-9]+$/.test(sde)) return Number(sde) * 1000;
  return Date.now();
}

/**
 * Parses a `date -d` / `touch -d` value (UTC): `@SECONDS`, `now`, `YYYY-MM-DD`,
 * `YYYY-MM-DD[ T]HH:MM[:SS[.frac]][Z]`, `YYYY-MM-DD HH:MM:SS +HHMM`. Undefined when unknown.
 */
export function parseDate(text: string, now: number): number | undefined {
  const t = text.trim();
  if (t === 'now' || t === '') return now;
  const at = /^@(-?[0-9]+(?:\.[0-9]+)?)$/.exec(t);
  if (at) return Math.round(Number(at[1]) * 1000);
  const m =
    /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]+)?)?)?\s*(Z|UTC|[+-][0-9]{2}:?[0-9]{2})?$/.exec(
      t,
    );
  if (!m) return undefined;
  let ms = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  if (m[7] !== undefined) ms += Math.round(Number(m[7]) * 1000);
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'UTC') {
    const z = /^([+-])([0-9]{2}):?([0-9]{2})$/.exec(zone) as RegExpExecArray;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60000;
    ms -= z[1] === '+' ? offset : -offset;
  }
  return Number.isNaN(ms) ? undefined : ms;
}

/** Parses `touch -t [[CC]YY]MMDDhhmm[.ss]` (UTC). */
export function parseTouchStamp(text: string): number | undefined {
  const m = /^([0-9]{2})?([0-9]{2})?([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})(?:\.([0-9]{2}))?$/.exec(text);
  if (!m) return undefined;
  let year: number;
  if (m[1] !== undefined && m[2] !== undefined) year = Number(m[1] + m[2]);
  else if (m[1] !== undefined) year = Number(m[1]) < 69 ? 2000 + Number(m[1]) : 1900 + Number(m[1]);
  else year = new Date().getUTCFullYear();
  return Date.UTC(year, Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0));
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `strftime` in UTC: `%Y %m %d %H %M %S %s %N %y %C %b %h %B %a %A %j %e %k %l %I %p %P %u %w %Z %z %F %T %D %R %c %x %X %n %t %%`. */
export function strftime(format: string, ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const Y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const H = d.getUTCHours();
  const M = d.getUTCMinutes();
  const S = d.getUTCSeconds();
  const wd = d.getUTCDay();
  const yday = Math.floor((Date.UTC(Y, mo, day) - Date.UTC(Y, 0, 1)) / 86400000) + 1;
  const h12 = H % 12 === 0 ? 12 : H % 12;
  const fields: Record<string, () => string> = {
    Y: () => String(Y),
    C: () => p2(Math.floor(Y / 100)),
    y: () => p2(Y % 100),
    m: () => p2(mo + 1),
    d: () => p2(day),
    e: () => String(day).padStart(2, ' '),
    H: () => p2(H),
    k: () => String(H).padStart(2, ' '),
    I: () => p2(h12),
    l: () => String(h12).padStart(2, ' '),
    M: () => p2(M),
    S: () => p2(S),
    N: () => `${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}000000`,
    s: () => String(Math.floor(ms / 1000)),
    b: () => (MONTHS[mo] as string).slice(0, 3),
    h: () => (MONTHS[mo] as string).slice(0, 3),
    B: () => MONTHS[mo] as string,
    a: () => (DAYS[wd] as string).slice(0, 3),
    A: () => DAYS[wd] as string,
    j: () => String(yday).padStart(3, '0'),
    u: () => String(wd === 0 ? 7 : wd),
    w: () => String(wd),
    p: () => (H < 12 ? 'AM' : 'PM'),
    P: () => (H < 12 ? 'am' : 'pm'),
    Z: () => 'UTC',
    z: () => '+0000',
    F: () => `${Y}-${p2(mo + 1)}-${p2(day)}`,
    T: () => `${p2(H)}:${p2(M)}:${p2(S)}`,
    D: () => `${p2(mo + 1)}/${p2(day)}/${p2(Y % 100)}`,
    R: () => `${p2(H)}:${p2(M)}`,
    c: () => strftime('%a %b %e %H:%M:%S %Y', ms),
    x: () => strftime('%m/%d/%y', ms),
    X: () => strftime('%H:%M:%S', ms),
    n: () => '\n',
    t: () => '\t',
    '%': () => '%',
  };
  return format.replace(/%(.)/g, (all, c: string) => fields[c]?.() ?? all);
}
