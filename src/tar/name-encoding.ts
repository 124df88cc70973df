/**
 * Byte-exact text for tar names. Tar names are bytes; layerkit's paths are strings. Valid UTF-8
 * decodes to the ordinary string. Bytes that are not valid UTF-8 decode with the
 * "surrogateescape" convention (each such byte 0xXY becomes the lone surrogate U+DCXY), and
 * {@link encodeName} turns those surrogates back into the original bytes, so every name survives
 * a read/write round trip unchanged. No unicode normalisation is ever applied: NFC and NFD
 * spellings are different names on Linux.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes[start, end)` as a name. ASCII takes a fast path with no validation cost.
 */
export function decodeName(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii) return buf.toString('latin1', start, end);
  const view = buf.subarray(start, end);
  try {
    return strictUtf8.decode(view);
  } catch {
    return decodeEscaped(view);
  }
}

/** Slow path: UTF-8 with invalid bytes mapped to U+DC80..U+DCFF. */
function decodeEscaped(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    const need =
      c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need === 0) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    if (need > 0 && validSequence(b, i, need)) {
      out += strictUtf8.decode(b.subarray(i, i + need + 1));
      i += need + 1;
      continue;
    }
    out += String.fromCharCode(0xdc00 | c);
    i++;
  }
  return out;
}

function validSequence(b: Uint8Array, i: number, need: number): boolean {
  if (i + need >= b.length) return false;
  const c0 = b[i] as number;
  const c1 = b[i + 1] as number;
  // Second-byte ranges that exclude overlong forms, surrogates and code points past U+10FFFF.
  let lo = 0x80;
  let hi = 0xbf;
  if (c0 === 0xe0) lo = 0xa0;
  else if (c0 === 0xed) hi = 0x9f;
  else if (c0 === 0xf0) lo = 0x90;
  else if (c0 === 0xf4) hi = 0x8f;
  if (c1 < lo || c1 > hi) return false;
  for (let k = 2; k <= need; k++) {
    const ck = b[i + k];
    if (ck === undefined || ck < 0x80 || ck > 0xbf) return false;
  }
  return true;
}

/** True when `name` holds an escaped byte (a lone surrogate in U+DC80..U+DCFF). */
function hasEscapes(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

/** Encodes a name to its bytes: UTF-8, with escaped bytes (U+DC80..U+DCFF) written raw. */
export function encodeName(name: string): Buffer {
  if (!hasEscapes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a proper surrogate pair: ordinary UTF-8
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      parts.push(Buffer.from(name.slice(from, i), 'utf8'), Buffer.of(c & 0xff));
      from = i + 1;
    }
  }
  parts.push(Buffer.from(name.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** The number of bytes {@link encodeName} produces for `name`. */
export function nameByteLength(name: string): number {
  if (!hasEscapes(name)) return Buffer.byteLength(name, 'utf8');
  return encodeName(name).length;
}

/**
 * A name quoted for an error message: `'etc/passwd'`, with control characters escaped and very
 * long names shortened in the middle so a message stays readable.
 */
export function quoteName(name: string, max = 160): string {
  let shown = name;
  if (shown.length > max) {
    const half = Math.floor(max / 2);
    shown = `${shown.slice(0, half)}…(${name.length - 2 * half} more)…${shown.slice(-half)}`;
  }
  // eslint-disable-next-line no-control-regex
  shown = shown.replace(/[\u0000-\u001f\u007f']/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${shown}'`;
}
