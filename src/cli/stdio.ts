/**
 * The process's standard output and error as the CLI writes them: lines straight to the file
 * descriptors, the Node streams opened only when a command needs them, terminals recognised, and
 * a recording of what was written (for build memos). Apart from ./output.ts (messages, errors,
 * hints, tables), so that replaying a build's memo loads no more than this.
 */
import { fstatSync, writeSync } from 'node:fs';

/** Where the CLI writes, and whether it may decorate. */
export interface Output {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Standard input, for commands that pass it on (`exec -i`); none when absent. */
  in?: NodeJS.ReadableStream & { isTTY?: boolean };
  color: boolean;
  debug: boolean;
}

/**
 * Thrown by {@link println} once standard output is closed (the reader went away, as in
 * `layerkit history IMG | head -1`): the command stops, and the CLI exits 0 without a word.
 */
export class OutputClosedError extends Error {
  override readonly name = 'OutputClosedError';
  constructor() {
    super('standard output was closed');
  }
}

/** True for the errors a write to a closed pipe or a destroyed stream gives. */
export function isClosedOutputError(err: unknown): boolean {
  if (err instanceof OutputClosedError) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** True when a stream can no longer be written (its reader closed it). */
export function isClosed(stream: NodeJS.WritableStream): boolean {
  const s = stream as { destroyed?: boolean; writableEnded?: boolean };
  return s.destroyed === true || s.writableEnded === true;
}

/**
 * Standard output or error, opened as a Node stream only when something needs the stream.
 *
 * Node builds `process.stdout` and `process.stderr` on first access, and for a pipe or a socket
 * that loads `node:net` and `node:tty` and makes a socket: about 3 ms, a tenth of an empty Node
 * process, paid by `layerkit images | less` and every script that reads the CLI's output. Lines of
 * text ({@link writeText}) go straight to the file descriptor with `fs.writeSync` instead, which is
 * what Node's own stream does for files and (blocking) pipes. The stream is opened the first time
 * a command asks for it (to pipe bytes into it, or to know a terminal's width), and from then on
 * every write goes through it, so nothing is reordered. A terminal always gets the stream.
 */
class LazyStdio {
  #stream: NodeJS.WriteStream | undefined;
  #direct: boolean | undefined;
  readonly #onOpen: Array<(stream: NodeJS.WriteStream) => void> = [];
  /** Sees every text written through {@link write} while an {@link recordOutput} recording runs. */
  tap: ((fd: 1 | 2, text: string) => void) | undefined;

  constructor(readonly fd: 1 | 2) {}

  /** The Node stream, opened now if it was not (a closed pipe's error is then dropped, not thrown). */
  get stream(): NodeJS.WriteStream {
    if (this.#stream === undefined) {
      const stream = this.fd === 1 ? process.stdout : process.stderr;
      this.#stream = stream;
      // A closed stdout or stderr must not crash the process with an unhandled 'error' event (the
      // write that finds the pipe closed reports it asynchronously, possibly after the command ended).
      stream.on('error', (err) => {
        if (!isClosedOutputError(err)) throw err;
      });
      for (const f of this.#onOpen) f(stream);
    }
    return this.#stream;
  }

  /**
   * Whether lines can go to the descriptor directly: a pipe, a file, a socket or one of Linux's
   * memory devices (`> /dev/null`), not a terminal.
   */
  get direct(): boolean {
    if (this.#direct === undefined) {
      try {
        const st = fstatSync(this.fd);
        this.#direct = st.isFIFO() || st.isFile() || st.isSocket() || isMemoryDevice(st);
      } catch {
        this.#direct = false;
      }
    }
    return this.#direct && this.#stream === undefined;
  }

  /** Whether this is a terminal, without opening the stream unless the descriptor is a device. */
  get isTTY(): boolean {
    return this.direct ? false : this.stream.isTTY === true;
  }

  /** Calls `f` with the stream when it is opened (at once if it is open already). */
  whenOpen(f: (stream: NodeJS.WriteStream) => void): () => void {
    if (this.#stream !== undefined) f(this.#stream);
    else this.#onOpen.push(f);
    return () => {
      const i = this.#onOpen.indexOf(f);
      if (i >= 0) this.#onOpen.splice(i, 1);
    };
  }

  /**
   * Writes `text`: directly while the stream is unopened and the descriptor allows it, else through
   * the stream. A descriptor that would block (a non-blocking pipe that is full) hands the rest to
   * the stream, which queues it. A closed reader is {@link OutputClosedError} on stdout; on stderr
   * there is nobody left to tell, and the text is dropped.
   */
  write(text: string): void {
    this.tap?.(this.fd, text);
    if (!this.direct) {
      this.stream.write(text);
      return;
    }
    const bytes = Buffer.from(text);
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          this.stream.write(bytes.subarray(offset));
          return;
        }
        if (code === 'EPIPE') {
          if (this.fd === 1) throw new OutputClosedError();
          return;
        }
        throw err;
      }
    }
  }
}

/**
 * True for Linux's memory character devices (major number 1: `/dev/null`, `/dev/zero`, `/dev/full`),
 * which are never terminals: knowing that from the device number spares opening the Node stream,
 * whose terminal check loads `node:net` (about 3 ms of a command writing to `/dev/null`).
 */
export function isMemoryDevice(st: { isCharacterDevice(): boolean; rdev: number }): boolean {
  if (process.platform !== 'linux' || !st.isCharacterDevice()) return false;
  // Linux's dev_t: the major number is bits 8-19 (and 32-43, for numbers above 4095).
  const major = ((st.rdev >>> 8) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
  return major === 1;
}

/** The process's standard streams behind each Output that {@link processOutput} made. */
const stdioOf = new WeakMap<Output, { out: LazyStdio; err: LazyStdio }>();

/** The two lazy streams of this process (one pair, whatever number of Outputs share them). */
let processStdio: { out: LazyStdio; err: LazyStdio } | undefined;

/** Makes an Output for the process streams, honouring NO_COLOR / FORCE_COLOR and terminals. */
export function processOutput(options: { debug?: boolean; env?: NodeJS.ProcessEnv } = {}): Output {
  processStdio ??= { out: new LazyStdio(1), err: new LazyStdio(2) };
  const stdio = processStdio;
  const env = options.env ?? process.env;
  // no-color.org: NO_COLOR set to a non-empty value turns colour off.
  const color = !env.NO_COLOR && (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : stdio.out.isTTY);
  return lazyOutput(stdio, color, options.debug ?? false);
}

/**
 * An Output over the lazy process streams. `out`, `err` and `in` are getters: reading one opens
 * that Node stream (standard input costs about 4 ms of a short command's start, each output stream
 * about 3): only the commands that use them pay.
 */
function lazyOutput(stdio: { out: LazyStdio; err: LazyStdio }, color: boolean, debug: boolean): Output {
  const o = { color, debug } as Output;
  Object.defineProperty(o, 'out', { get: () => stdio.out.stream, enumerable: true });
  Object.defineProperty(o, 'err', { get: () => stdio.err.stream, enumerable: true });
  Object.defineProperty(o, 'in', { get: () => process.stdin, enumerable: true });
  stdioOf.set(o, stdio);
  return o;
}

/** `output` with `debug` set, leaving its streams unopened until a command uses them. */
export function withDebug(output: Output, debug: boolean): Output {
  const stdio = stdioOf.get(output);
  if (stdio !== undefined) return lazyOutput(stdio, output.color, debug);
  const o: Output = { out: output.out, err: output.err, color: output.color, debug };
  Object.defineProperty(o, 'in', { get: () => output.in, enumerable: true });
  return o;
}

/**
 * Writes text to standard output or error without opening the process's Node stream when a
 * plain write to the descriptor will do ({@link processOutput}); other Outputs get `write`.
 */
export function writeText(o: Output, to: 'out' | 'err', text: string): void {
  const stdio = stdioOf.get(o);
  if (stdio !== undefined) stdio[to].write(text);
  else o[to].write(text);
}

/** A recording of what a command writes, from {@link recordOutput}. */
export interface OutputRecording {
  /**
   * Ends the recording: what was written to standard output (1) and error (2), in order, or
   * undefined when the recording is not the whole story (a Node stream was opened, through which
   * text may have gone around it).
   */
  stop(): Array<[1 | 2, string]> | undefined;
}

/**
 * Starts recording the text written to the process's standard output and error through
 * {@link writeText} and {@link println}, for a command that may be answered again by replaying it
 * (the build memo). Undefined for an Output that is not the process's, or whose streams are open
 * already (a terminal, or something piped through them).
 */
export function recordOutput(o: Output): OutputRecording | undefined {
  const stdio = stdioOf.get(o);
  if (stdio === undefined || !stdio.out.direct || !stdio.err.direct) return undefined;
  const chunks: Array<[1 | 2, string]> = [];
  const tap = (fd: 1 | 2, text: string): void => {
    chunks.push([fd, text]);
  };
  stdio.out.tap = tap;
  stdio.err.tap = tap;
  return {
    stop() {
      stdio.out.tap = undefined;
      stdio.err.tap = undefined;
      return stdio.out.direct && stdio.err.direct ? chunks : undefined;
    },
  };
}

/** Whether standard output or error is a terminal, opening the stream only for a device. */
export function isTerminal(o: Output, which: 'out' | 'err'): boolean {
  const stdio = stdioOf.get(o);
  return stdio !== undefined ? stdio[which].isTTY : o[which].isTTY === true;
}

/**
 * Calls `listener` with every 'error' of standard output (a reader that went away) from now on,
 * registering it when the process stream is opened if it is not yet. Returns the undo.
 */
export function onOutputError(o: Output, listener: (err: unknown) => void): () => void {
  const stdio = stdioOf.get(o);
  if (stdio === undefined) {
    o.out.on('error', listener);
    return () => o.out.removeListener('error', listener);
  }
  let opened: NodeJS.WriteStream | undefined;
  const cancel = stdio.out.whenOpen((stream) => {
    opened = stream;
    stream.on('error', listener);
  });
  return () => {
    cancel();
    opened?.removeListener('error', listener);
  };
}

/** Prints a line to stdout; throws {@link OutputClosedError} once nobody reads it any more. */
export function println(o: Output, line = ''): void {
  const stdio = stdioOf.get(o);
  if (stdio !== undefined) {
    if (!stdio.out.direct && isClosed(stdio.out.stream)) throw new OutputClosedError();
    stdio.out.write(`${line}\n`);
    return;
  }
  if (isClosed(o.out)) throw new OutputClosedError();
  o.out.write(`${line}\n`);
}
