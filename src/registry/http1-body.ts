/**
 * The body of an answer on an HTTP/1.1 connection (http1.ts): bytes the connection hands over,
 * read once by a sink that gets views of the socket's one read buffer or of memory the sink names
 * for the next read (no copies), as an async iterable, or as text; or dropped.
 */

/** Bytes one socket read can deliver: a sink must accept this much after it asks to pause. */
export const READ_BUFFER = 256 << 10;

/**
 * Receives a view of the read buffer, valid only during the call: copy what you keep. Return
 * false to pause the socket; the rest of the current read (at most {@link READ_BUFFER} bytes)
 * is still delivered, then nothing until `resume()`.
 */
export type Http1Sink = (chunk: Buffer) => boolean;

/**
 * Names the memory the next socket read of the body may land in (the sink is then handed a view
 * of its start), or nothing for the connection's own buffer. Asked after each read.
 */
export type Http1ReadTarget = () => Buffer | undefined;

/** What a body needs of its connection. */
export interface BodyConnection {
  pause(): void;
  resume(): void;
  destroy(err: Error): void;
}

/** @internal An error with a code, as undici's and Node's socket errors carry. */
export function socketError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * A response body. Read it once: with {@link Http1Body.pipe} (no copies), as an async iterable
 * (a copy per chunk), or with `text()`; or drop it with `dump()` / `destroy()`.
 */
export class Http1Body {
  readonly #conn: BodyConnection;
  #sink: Http1Sink | undefined;
  #target: Http1ReadTarget | undefined;
  #pending: Buffer[] = [];
  #ended = false;
  #error: Error | undefined;
  #paused = false;
  #waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #settled: Array<() => void> = [];
  attached = false;

  /** @internal */
  constructor(conn: BodyConnection) {
    this.#conn = conn;
  }

  /** @internal Bytes from the connection. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#sink) {
      if (!this.#sink(chunk)) this.#paused = true;
    } else {
      this.#pending.push(Buffer.from(chunk));
    }
  }

  /**
   * @internal Where the next read may land (see {@link Http1ReadTarget}). Asked while paused too:
   * the memory named stays the sink's until that read.
   */
  readTarget(): Buffer | undefined {
    if (this.#target === undefined) return undefined;
    const target = this.#target();
    return target !== undefined && target.length > 0 ? target : undefined;
  }

  /** @internal May the socket read on? */
  wantsMore(): boolean {
    return this.#sink !== undefined && !this.#paused;
  }

  /** @internal */
  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
    for (const f of this.#settled.splice(0)) f();
  }

  /** @internal */
  fail(err: Error): void {
    if (this.#ended) return;
    this.#error = err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
    for (const f of this.#settled.splice(0)) f();
  }

  /** @internal Calls `f` once the body has ended or failed (at once if it has). */
  onSettled(f: () => void): void {
    if (this.#ended || this.#error) f();
    else this.#settled.push(f);
  }

  /**
   * Streams the body into `sink` (see {@link Http1Sink}); resolves at its end. After the sink
   * returned false, call `resume()` to read on. `target`, when given, names where the socket's
   * next read may land (see {@link Http1ReadTarget}).
   */
  pipe(sink: Http1Sink, target?: Http1ReadTarget): { done: Promise<void>; resume: () => void } {
    if (this.attached) throw new Error('the body is already being read');
    this.attached = true;
    this.#sink = sink;
    this.#target = target;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    const resume = (): void => {
      if (!this.#paused) return;
      this.#paused = false;
      if (!this.#ended && !this.#error) this.#conn.resume();
    };
    for (const chunk of this.#pending.splice(0)) if (!sink(chunk)) this.#paused = true;
    if (this.#error) for (const w of this.#waiters.splice(0)) w.reject(this.#error);
    else if (this.#ended) for (const w of this.#waiters.splice(0)) w.resolve();
    else if (!this.#paused) this.#conn.resume();
    else this.#conn.pause();
    return { done, resume };
  }

  /** The body as text (UTF-8). */
  async text(): Promise<string> {
    const parts: Buffer[] = [];
    await this.pipe((chunk) => {
      parts.push(Buffer.from(chunk));
      return true;
    }).done;
    return Buffer.concat(parts).toString('utf8');
  }

  /** Reads and drops a small body (keeping the connection); a large one closes the connection. */
  async dump(): Promise<void> {
    let seen = 0;
    try {
      await this.pipe((chunk) => {
        seen += chunk.length;
        if (seen > READ_BUFFER) this.destroy();
        return true;
      }).done;
    } catch {
      // dropped anyway
    }
  }

  /** Drops the connection. */
  destroy(err?: Error): void {
    if (this.#ended) return;
    this.#conn.destroy(err ?? socketError('the body was dropped', 'UND_ERR_ABORTED'));
  }

  /** The body as chunks (each a copy). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const queue: Buffer[] = [];
    let queued = 0;
    let wake: (() => void) | undefined;
    const { done, resume } = this.pipe((chunk) => {
      queue.push(Buffer.from(chunk));
      queued += chunk.length;
      wake?.();
      return queued < 1 << 20;
    });
    let finished = false;
    let failure: unknown;
    done.then(
      () => {
        finished = true;
        wake?.();
      },
      (err: unknown) => {
        failure = err ?? new Error('failed');
        wake?.();
      },
    );
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          queued -= next.length;
          resume();
          yield next;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (finished) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      if (!finished) this.destroy();
    }
  }
}
