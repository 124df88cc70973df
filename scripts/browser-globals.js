// Injected into the browser build (scripts/browser-build.ts): the `Buffer` and `process` globals
// that the library's Node-style code and memfs use, from their npm ports.
//
// The `buffer` port encodes and decodes UTF-8 a byte at a time in JavaScript (it was 40 % of a
// build's time in Chromium); text goes through the browser's TextEncoder and TextDecoder instead.
import { Buffer } from 'buffer/';
import process from 'process/browser.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8 = (encoding) => encoding === undefined || /^utf-?8$/i.test(encoding);

const from = Buffer.from;
Buffer.from = function fromText(value, encodingOrOffset, length) {
  if (typeof value === 'string' && utf8(encodingOrOffset)) {
    const bytes = encoder.encode(value);
    return from.call(Buffer, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return from.call(Buffer, value, encodingOrOffset, length);
};

const toString = Buffer.prototype.toString;
Buffer.prototype.toString = function toText(encoding, start, end) {
  if (!utf8(encoding)) return toString.call(this, encoding, start, end);
  const from = Math.max(0, Math.min(this.length, start === undefined ? 0 : Math.trunc(start) || 0));
  const to = Math.max(from, Math.min(this.length, end === undefined ? this.length : Math.trunc(end) || 0));
  return decoder.decode(this.subarray(from, to));
};

const byteLength = Buffer.byteLength;
Buffer.byteLength = function textLength(value, encoding) {
  return typeof value === 'string' && utf8(encoding) ? encoder.encode(value).length : byteLength(value, encoding);
};

export { Buffer, process };
