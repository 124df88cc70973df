/**
 * Whether a string is an IPv4 or IPv6 address as `node:net`'s `isIP` judges it (an IPv6 address
 * may carry a `%zone`), without loading `node:net` (the sockets module, a few milliseconds of a
 * fully cached build's start, which reads the host's resolv.conf for every RUN) and in a browser.
 * IPv6 is checked by the URL parser, which implements the WHATWG host grammar for `[…]` literals.
 */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

/** True for an IPv4 address in dotted-decimal form or an IPv6 address (with an optional zone). */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  const percent = text.indexOf('%');
  const address = percent >= 0 ? text.slice(0, percent) : text;
  if (!address.includes(':') || (percent >= 0 && !/^[0-9a-zA-Z.:-]+$/.test(text.slice(percent + 1)))) return false;
  try {
    new URL(`http://[${address}]/`);
    return true;
  } catch {
    return false;
  }
}
