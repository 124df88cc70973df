/**
 * Pull/push progress in the CLI: a bar per blob and a total redrawn in place on a terminal, one
 * line per finished blob when piped, JSON events on stdout with `--progress json`.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { transferRenderer } from '../../src/cli/commands/transfer-progress.js';
import type { Output } from '../../src/cli/output.js';
import { formatSize, type TransferProgress } from '../../src/index.js';

function sink(tty: boolean): { stream: Output['err']; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Output['err'];
  stream.isTTY = tty;
  stream.columns = 100;
  return { stream, text: () => chunks.join('') };
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
function events(): TransferProgress[] {
  const total = { blobs: 2, done: 0, size: 3000, bytes: 0 };
  return [
    { kind: 'blob', digest: A, mediaType: 'x', size: 2000, bytes: 0, status: 'downloading', total },
    {
      kind: 'blob',
      digest: A,
      mediaType: 'x',
      size: 2000,
      bytes: 1000,
      status: 'downloading',
      total: { ...total, bytes: 1000 },
    },
    {
      kind: 'blob',
      digest: B,
      mediaType: 'x',
      size: 1000,
      bytes: 0,
      status: 'exists',
      total: { ...total, bytes: 1000, done: 1 },
    },
    {
      kind: 'blob',
      digest: A,
      mediaType: 'x',
      size: 2000,
      bytes: 2000,
      status: 'pulled',
      total: { ...total, bytes: 2000, done: 2 },
    },
  ] as TransferProgress[];
}

describe('transfer progress', () => {
  it('draws a bar per blob and a total on a terminal, redrawn in place', () => {
    const err = sink(true);
    const out = sink(false);
    let t = 0;
    const r = transferRenderer({
      output: { out: out.stream, err: err.stream, color: false, debug: false },
      mode: 'tty',
      now: () => (t += 1000),
    });
    for (const e of events()) r.onEvent(e);
    r.finish();
    const text = err.text();
    expect(text).toContain('\u001b[3A'); // back over two blob lines and the total
    const last = text.slice(text.lastIndexOf('\u001b[3A')).split('\n');
    expect(last[0]).toContain(`aaaaaaaaaaaa  pulled      ${'█'.repeat(30)} ${formatSize(2000)}`);
    expect(last[1]).toMatch(/bbbbbbbbbbbb {2}exists/);
    expect(last[2]).toContain(`total         2/2         ${formatSize(2000)} moved, `);
    expect(out.text()).toBe('');
  });

  it('prints one line per finished blob when piped, and JSON events on stdout', () => {
    const err = sink(false);
    const out = sink(false);
    const plain = transferRenderer({
      output: { out: out.stream, err: err.stream, color: false, debug: false },
      mode: 'auto',
    });
    for (const e of events()) plain.onEvent(e);
    expect(err.text()).toBe(`bbbbbbbbbbbb: exists\naaaaaaaaaaaa: pulled ${formatSize(2000)}\n`);
    const json = transferRenderer({
      output: { out: out.stream, err: err.stream, color: false, debug: false },
      mode: 'json',
    });
    for (const e of events()) json.onEvent(e);
    expect(
      out
        .text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(events());
  });
});
