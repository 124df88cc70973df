/**
 * The pieces between a blob download's socket and the store (src/registry/piece-queue.ts): any
 * sequence of socket reads comes out as the same bytes in full pieces and one partial rest; the
 * queue asks to pause exactly when less than one more read would fit, and lets a paused socket
 * go on once a piece is given back; its memory stays at its pieces.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { READ_BUFFER } from '../../src/registry/http1.js';
import { PieceQueue } from '../../src/registry/piece-queue.js';

describe('PieceQueue', () => {
  test.prop(
    [
      fc.array(fc.integer({ min: 1, max: READ_BUFFER }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
    ],
    { numRuns: 80 },
  )(
    'reads in (in place or copied), the same bytes out in order; pause and resume as room allows',
    (reads, pieces, drainAfter, inPlace) => {
      const size = READ_BUFFER * 2;
      const queue = new PieceQueue({ pieces, size });
      let resumed = 0;
      queue.onRoom = () => resumed++;
      let paused = false;
      let counter = 0;
      const sent: Buffer[] = [];
      const got: Buffer[] = [];
      const drain = () => {
        for (let p = queue.take(); p; p = queue.take()) {
          expect(p.length).toBe(size);
          got.push(Buffer.from(p));
          queue.recycle(p);
        }
      };
      for (const [i, n] of reads.entries()) {
        if (paused) {
          // A paused socket delivers nothing until a piece comes back.
          drain();
          if (resumed > 0) paused = false;
          else continue;
        }
        // A read lands in the queue's target (as the socket reads into it) or in a buffer of its own.
        const target = inPlace[i % inPlace.length] ? queue.target() : undefined;
        const chunk = target ? target.subarray(0, Math.min(n, target.length)) : Buffer.alloc(n);
        for (let j = 0; j < chunk.length; j++) chunk[j] = counter++ & 0xff;
        sent.push(Buffer.from(chunk));
        const more = queue.add(chunk);
        if (!more) {
          paused = true;
          resumed = 0;
        }
        if (drainAfter[i % drainAfter.length]) drain();
      }
      drain();
      const rest = queue.rest();
      if (rest) {
        expect(rest.length).toBeLessThan(size);
        got.push(Buffer.from(rest));
        queue.recycle(rest);
      }
      expect(Buffer.concat(got).equals(Buffer.concat(sent))).toBe(true);
    },
  );

  test.prop([fc.array(fc.integer({ min: 1, max: READ_BUFFER }), { minLength: 1, maxLength: 40 })])(
    'a read into the target is counted where it lies: the piece handed out is the memory read into',
    (reads) => {
      const size = READ_BUFFER * 2;
      const queue = new PieceQueue({ pieces: 2, size });
      const readInto = new Set<ArrayBufferLike>();
      for (const n of reads) {
        const target = queue.target();
        if (!target) break;
        expect(target.buffer).toBeInstanceOf(SharedArrayBuffer);
        readInto.add(target.buffer);
        const view = target.subarray(0, Math.min(n, target.length));
        view.fill(n & 0xff);
        queue.add(view);
        for (let p = queue.take(); p; p = queue.take()) {
          // No copy: the full piece is the very memory the reads went into.
          expect(readInto.has(p.buffer)).toBe(true);
          queue.recycle(p);
        }
      }
    },
  );

  test.prop([fc.integer({ min: 1, max: 3 })])('pauses when less than one read fits, and not before', (pieces) => {
    const size = READ_BUFFER;
    const queue = new PieceQueue({ pieces, size });
    // Each add fills a whole piece; with k pieces free the room is k reads.
    for (let i = 0; i < pieces - 1; i++) expect(queue.add(Buffer.alloc(size))).toBe(true);
    let resumed = false;
    queue.onRoom = () => {
      resumed = true;
    };
    expect(queue.add(Buffer.alloc(size))).toBe(false);
    const piece = queue.take()!;
    queue.recycle(piece);
    expect(resumed).toBe(true);
  });
});
