/**
 * The page's `events` (scripts/browser-events.js, what the browser build gives memfs instead of
 * the npm port) against node:events: random sequences of calls on both, the same listeners'
 * calls, return values, listener lists and thrown errors, call for call; and the newListener and
 * removeListener notifications.
 */
import * as nodeEvents from 'node:events';
import { once as nodeOnce } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as pageEvents from '../../scripts/browser-events.js';

type Op =
  | { op: 'on' | 'once' | 'prependListener' | 'prependOnceListener' | 'off'; name: string; listener: number }
  | { op: 'emit'; name: string; arg: number }
  | { op: 'removeAll'; name?: string | undefined }
  | { op: 'inspect'; name: string };

// Ordinary events (memfs emits close, change, error, open, finish). The meta events newListener and
// removeListener have their own case below: Node's quirks when removal listeners remove each other
// (a TypeError half-way through removeAllListeners) are not copied.
const NAMES = ['close', 'change', 'error', 'open'];
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom('on', 'once', 'prependListener', 'prependOnceListener', 'off') as fc.Arbitrary<
      'on' | 'once' | 'prependListener' | 'prependOnceListener' | 'off'
    >,
    name: fc.constantFrom(...NAMES),
    listener: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ op: fc.constant('emit' as const), name: fc.constantFrom(...NAMES), arg: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ op: fc.constant('removeAll' as const), name: fc.option(fc.constantFrom(...NAMES), { nil: undefined }) }),
  fc.record({ op: fc.constant('inspect' as const), name: fc.constantFrom(...NAMES) }),
);

/** Runs the ops on a subclass of `Base` (as memfs's FileHandle is) and returns everything observable. */
function run(Base: typeof nodeEvents.EventEmitter, ops: Op[]): unknown[] {
  class Handle extends Base {}
  const e = new Handle();
  const log: unknown[] = [];
  // Listener 3 removes listener 0 of the same event while it is emitted.
  const listeners = [0, 1, 2, 3].map((i) => {
    const f = function (this: unknown, ...args: unknown[]) {
      log.push(['called', i, this === e, args.map((a) => (typeof a === 'function' ? 'fn' : a))]);
      if (i === 3) for (const name of NAMES) e.removeListener(name, listeners[0]!);
    };
    return f;
  });
  const index = (f: unknown) => listeners.indexOf(f as (typeof listeners)[number]);
  for (const o of ops) {
    try {
      if (o.op === 'emit') log.push(['emit', e.emit(o.name, o.name === 'error' ? new Error(`boom ${o.arg}`) : o.arg)]);
      else if (o.op === 'removeAll') log.push(['removeAll', e.removeAllListeners(o.name) === e]);
      else if (o.op === 'inspect')
        log.push([
          'inspect',
          e.listenerCount(o.name),
          e.listeners(o.name).map(index),
          [...e.eventNames()].sort(),
          e.rawListeners(o.name).length,
        ]);
      else log.push([o.op, e[o.op](o.name, listeners[o.listener]!) === e]);
    } catch (err) {
      log.push(['threw', (err as Error).message]);
    }
  }
  return log;
}

describe("the page's events module", () => {
  it('behaves as node:events for random call sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        expect(run(pageEvents.EventEmitter, ops)).toEqual(run(nodeEvents.EventEmitter, ops));
      }),
      { numRuns: Number(process.env.LAYERKIT_FUZZ_RUNS ?? 300) },
    );
  });

  it('tells newListener and removeListener listeners, as node:events does', () => {
    const seen = (Base: typeof nodeEvents.EventEmitter) => {
      const e = new Base();
      const log: string[] = [];
      const a = () => log.push('a');
      const b = () => log.push('b');
      e.on('newListener', (name: string, f: unknown) => log.push(`new ${name} ${f === a ? 'a' : f === b ? 'b' : '?'}`));
      e.on('removeListener', (name: string, f: unknown) =>
        log.push(`removed ${name} ${f === a ? 'a' : f === b ? 'b' : '?'}`),
      );
      e.on('close', a).once('close', b).on('change', a);
      e.emit('close');
      e.off('close', a);
      e.on('close', b).on('close', a);
      e.removeAllListeners('close');
      e.removeAllListeners();
      log.push(`left ${e.eventNames().length}`);
      return log;
    };
    expect(seen(pageEvents.EventEmitter)).toEqual(seen(nodeEvents.EventEmitter));
    expect(seen(pageEvents.EventEmitter)).toContain('removed close b');
  });

  it('once() resolves with the next event and rejects on error, as node:events.once', async () => {
    for (const mod of [pageEvents, { EventEmitter: nodeEvents.EventEmitter, once: nodeOnce }]) {
      const e = new mod.EventEmitter();
      const next = mod.once(e, 'close');
      e.emit('close', 1, 2);
      await expect(next).resolves.toEqual([1, 2]);
      expect(e.listenerCount('error')).toBe(0);
      const failing = mod.once(e, 'close');
      e.emit('error', new Error('boom'));
      await expect(failing).rejects.toThrow('boom');
      expect(e.listenerCount('close')).toBe(0);
    }
  });

  it('an error with no listener throws it; a non-Error is wrapped as Node wraps it', () => {
    for (const mod of [pageEvents, nodeEvents]) {
      const e = new mod.EventEmitter();
      expect(() => e.emit('error', new Error('boom'))).toThrow('boom');
      expect(() => e.emit('error', 'text')).toThrow(expect.objectContaining({ code: 'ERR_UNHANDLED_ERROR' }));
      expect(() => e.on('x', 5 as unknown as () => void)).toThrow(TypeError);
    }
  });
});
