/** The builder's IP address check agrees with node:net's isIP (which it replaces to keep node:net unloaded). */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { isIpAddress } from '../../src/builder/ip-address.js';

/** Strings near addresses: valid ones, with a character dropped, doubled or replaced, with zones. */
const nearAddress = fc
  .tuple(
    fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()),
    fc.nat(),
    fc.constantFrom('', '0', '1', ':', '.', '::', 'x', ' ', '%eth0', '%', '%a b', '[', ']', '00', '256', 'ffff1'),
    fc.constantFrom('keep', 'drop', 'insert', 'replace', 'append'),
  )
  .map(([ip, at, piece, how]) => {
    const i = at % (ip.length + 1);
    if (how === 'keep') return ip;
    if (how === 'drop') return ip.slice(0, i) + ip.slice(i + 1);
    if (how === 'insert') return ip.slice(0, i) + piece + ip.slice(i);
    if (how === 'replace') return ip.slice(0, i) + piece + ip.slice(i + 1);
    return ip + piece;
  });

describe('isIpAddress', () => {
  test.prop([nearAddress], { numRuns: 3000 })('agrees with node:net isIP near valid addresses', (text) => {
    expect(isIpAddress(text)).toBe(isIP(text) !== 0);
  });

  it.for([
    '127.0.0.53',
    '8.8.8.8',
    '::1',
    'fe80::1%eth0',
    '::ffff:1.2.3.4',
    '1.2.3',
    '01.2.3.4',
    'dns.local',
    '',
    '1::2::3',
  ])('%s as node:net says', (text) => {
    expect(isIpAddress(text)).toBe(isIP(text) !== 0);
  });
});
