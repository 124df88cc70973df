/**
 * Backslash escapes as `echo -e`, `printf` and `printf %b` interpret them (`\n`, `\t`, `\\`,
 * `\0NNN`/`\NNN` octal, `\xHH`, `\c` to stop output). Octal and hex escapes give raw bytes, so
 * the result is bytes, not text.
 */

const SIMPLE: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  e: 27,
  E: 27,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
};

/**
 * Interprets escapes. `octal` is `'echo'` for `\0NNN` (echo -e, %b) or `'printf'` for `\NNN`
 * (printf formats). Returns the bytes and whether `\c` stopped the output.
 */
export function interpretEscapes(text: string, octal: 'echo' | 'printf'): { bytes: Uint8Array; stop: boolean } {
  const out: number[] = [];
  const pushText = (s: string): void => {
    for (const b of Buffer.from(s, 'utf8')) out.push(b);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\' || i === text.length - 1) {
      pushText(c);
      continue;
    }
    const n = text[i + 1] as string;
    const simple = SIMPLE[n];
    if (simple !== undefined) {
      out.push(simple);
      i++;
    } else if (n === 'c') {
      return { bytes: Uint8Array.from(out), stop: true };
    } else if ((n === '"' || n === "'") && octal === 'printf') {
      pushText(n);
      i++;
    } else if (n === 'x' && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2)) as RegExpExecArray;
      out.push(parseInt(m[0], 16));
      i += 1 + m[0].length;
    } else if (octal === 'echo' && n === '0') {
      const m = /^[0-7]{0,3}/.exec(text.slice(i + 2)) as RegExpExecArray;
      out.push(parseInt(m[0] === '' ? '0' : m[0], 8) & 0xff);
      i += 1 + m[0].length;
    } else if (/[0-7]/.test(n) && (octal === 'printf' || n !== '0')) {
      const m = /^[0-7]{1,3}/.exec(text.slice(i + 1)) as RegExpExecArray;
      out.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length;
    } else {
      pushText(`\\${n}`);
      i++;
    }
  }
  return { bytes: Uint8Array.from(out), stop: false };
}
