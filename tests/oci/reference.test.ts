import { describe, expect, it } from 'vitest';
import { familiarReference, normalizeReference, parseReference } from '../../src/oci/reference.js';
import { canonicalJson } from '../../src/oci/canonical-json.js';

describe('references', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20', 'alpine:3.20'],
    ['docker.io/library/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['index.docker.io/foo/bar:1', 'docker.io/foo/bar:1', 'foo/bar:1'],
    ['localhost/app:1', 'localhost/app:1', 'localhost/app:1'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    [
      `ghcr.io/o/r@sha256:${'a'.repeat(64)}`,
      `ghcr.io/o/r@sha256:${'a'.repeat(64)}`,
      `ghcr.io/o/r@sha256:${'a'.repeat(64)}`,
    ],
  ])('%s normalises to %s and %s', (input, full, familiar) => {
    expect(normalizeReference(input)).toBe(full);
    expect(familiarReference(input)).toBe(familiar);
  });

  it.each(['', 'Upper', 'a:b:c', 'a@sha256:zz', 'a:-bad', 'a//b', `foo:${'x'.repeat(129)}`])('rejects %j', (input) => {
    expect(() => parseReference(input)).toThrow(/invalid reference/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });
});
