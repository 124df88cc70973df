/**
 * Which runc binary layerkit runs: `$LAYERKIT_RUNC` or `runc`, resolved once to its absolute path on
 * PATH (so each spawn execs it directly instead of the kernel trying every PATH folder), and
 * resolved again whenever the name or PATH changes. Nothing here runs runc.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { runcBinary } from '../../src/runtime/runc.js';
import { it } from '../helpers/fixtures.js';

describe('runcBinary', () => {
  const saved = { PATH: process.env.PATH, LAYERKIT_RUNC: process.env.LAYERKIT_RUNC };
  beforeEach(() => {
    delete process.env.LAYERKIT_RUNC;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  const executable = (dir: string, name: string) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
    return join(dir, name);
  };

  it('is the first runc on PATH, as an absolute path, and follows PATH when it changes', ({ tmp }) => {
    const first = executable(join(tmp, 'a'), 'runc');
    const second = executable(join(tmp, 'b'), 'runc');
    process.env.PATH = `${join(tmp, 'empty')}:relative/dir:${join(tmp, 'a')}:${join(tmp, 'b')}`;
    expect(runcBinary()).toBe(first);
    process.env.PATH = `${join(tmp, 'b')}:${join(tmp, 'a')}`;
    expect(runcBinary()).toBe(second);
  });

  it('follows LAYERKIT_RUNC: a name looked up on PATH, a path as given', ({ tmp }) => {
    const wrapper = executable(join(tmp, 'bin'), 'runc-wrapper');
    executable(join(tmp, 'bin'), 'runc');
    process.env.PATH = join(tmp, 'bin');
    process.env.LAYERKIT_RUNC = 'runc-wrapper';
    expect(runcBinary()).toBe(wrapper);
    const elsewhere = executable(join(tmp, 'other'), 'my-runc');
    process.env.LAYERKIT_RUNC = elsewhere;
    expect(runcBinary()).toBe(elsewhere);
    delete process.env.LAYERKIT_RUNC;
    expect(runcBinary()).toBe(join(tmp, 'bin', 'runc'));
  });

  it('is the bare name when no PATH folder has it (the runtime probe then says runc is missing)', ({ tmp }) => {
    process.env.PATH = join(tmp, 'nothing-here');
    expect(runcBinary()).toBe('runc');
    process.env.LAYERKIT_RUNC = 'not-a-runc';
    expect(runcBinary()).toBe('not-a-runc');
  });
});
