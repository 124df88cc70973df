/**
 * What a page gets for `import … from 'events'` (scripts/browser-build.ts): a small EventEmitter
 * with Node's semantics for the calls memfs makes (its FileHandle extends EventEmitter and emits
 * `close`; its watchers and streams, which layerkit never uses in a page, emit and listen too).
 * It replaces the `events` npm port (~6 KB of the page's bundle). tests/browser/events.test.ts
 * checks it against node:events, call for call.
 */

const kListeners = Symbol('listeners');

export class EventEmitter {
  /** @type {Map<string | symbol, Function[]>} */
  [kListeners] = new Map();
  #max = EventEmitter.defaultMaxListeners;

  on(name, listener) {
    return this.#add(name, listener, false);
  }

  addListener(name, listener) {
    return this.#add(name, listener, false);
  }

  prependListener(name, listener) {
    return this.#add(name, listener, true);
  }

  once(name, listener) {
    return this.#add(name, this.#wrapOnce(name, listener), false);
  }

  prependOnceListener(name, listener) {
    return this.#add(name, this.#wrapOnce(name, listener), true);
  }

  off(name, listener) {
    return this.removeListener(name, listener);
  }

  removeListener(name, listener) {
    const list = this[kListeners].get(name);
    if (list === undefined) return this;
    // The last one added goes first, as Node removes it.
    let at = -1;
    for (let i = list.length - 1; i >= 0; i--)
      if (list[i] === listener || list[i].listener === listener) {
        at = i;
        break;
      }
    if (at < 0) return this;
    const single = list.length === 1;
    const [removed] = list.splice(at, 1);
    if (list.length === 0) this[kListeners].delete(name);
    // Node names the original listener when it was the event's only one, else the one asked for.
    if (this[kListeners].has('removeListener'))
      this.emit('removeListener', name, single ? (removed.listener ?? listener) : listener);
    return this;
  }

  removeAllListeners(...args) {
    if (!this[kListeners].has('removeListener')) {
      if (args.length === 0) this[kListeners].clear();
      else this[kListeners].delete(args[0]);
      return this;
    }
    // Someone listens for removals: each is removed (and told) in turn, the removal listeners last.
    if (args.length === 0) {
      for (const key of [...this[kListeners].keys()]) if (key !== 'removeListener') this.removeAllListeners(key);
      this.removeAllListeners('removeListener');
      this[kListeners].clear();
      return this;
    }
    const list = this[kListeners].get(args[0]);
    if (list !== undefined) for (let i = list.length - 1; i >= 0; i--) this.removeListener(args[0], list[i]);
    return this;
  }

  emit(name, ...args) {
    const list = this[kListeners].get(name);
    if (list === undefined || list.length === 0) {
      if (name === 'error') {
        const err = args[0];
        if (err instanceof Error) throw err;
        throw Object.assign(new Error(`Unhandled error. (${String(err)})`), { code: 'ERR_UNHANDLED_ERROR', context: err });
      }
      return false;
    }
    // Listeners added or removed while emitting take effect from the next emit.
    for (const listener of [...list]) listener.apply(this, args);
    return true;
  }

  listeners(name) {
    return (this[kListeners].get(name) ?? []).map((l) => l.listener ?? l);
  }

  rawListeners(name) {
    return [...(this[kListeners].get(name) ?? [])];
  }

  listenerCount(name) {
    return this[kListeners].get(name)?.length ?? 0;
  }

  eventNames() {
    return [...this[kListeners].keys()];
  }

  setMaxListeners(n) {
    this.#max = n;
    return this;
  }

  getMaxListeners() {
    return this.#max;
  }

  #add(name, listener, first) {
    if (typeof listener !== 'function')
      throw new TypeError(`The "listener" argument must be of type function. Received ${typeof listener}`);
    if (this[kListeners].has('newListener')) this.emit('newListener', name, listener.listener ?? listener);
    const list = this[kListeners].get(name);
    if (list === undefined) this[kListeners].set(name, [listener]);
    else if (first) list.unshift(listener);
    else list.push(listener);
    return this;
  }

  #wrapOnce(name, listener) {
    if (typeof listener !== 'function')
      throw new TypeError(`The "listener" argument must be of type function. Received ${typeof listener}`);
    let fired = false;
    const wrapped = (...args) => {
      if (fired) return undefined;
      this.removeListener(name, wrapped);
      fired = true;
      return listener.apply(this, args);
    };
    wrapped.listener = listener;
    return wrapped;
  }
}

EventEmitter.defaultMaxListeners = 10;
EventEmitter.EventEmitter = EventEmitter;

/** Resolves with the arguments of the next `name` event (rejects on `error`), as Node's `events.once`. */
export function once(emitter, name) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      emitter.removeListener(name, onEvent);
      reject(err);
    };
    const onEvent = (...args) => {
      if (name !== 'error') emitter.removeListener('error', onError);
      resolve(args);
    };
    emitter.once(name, onEvent);
    if (name !== 'error') emitter.once('error', onError);
  });
}

export default EventEmitter;
