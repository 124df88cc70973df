/**
 * Store locks: an in-process queue plus a lock file for other processes. The lock file holds the
 * owner's pid and host; a lock whose owner has died is taken over, so a crashed process can never
 * leave the store stuck.
 */
import { hostname, pid, processStartMs } from '#platform';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { StoreFs } from './backend.js';
import { isProcessAlive } from './atomic.js';

/** When this process started (a lock file with our pid written before then is a dead namesake's). */
const PROCESS_START_MS = processStartMs;

/** Options for {@link withLock}. */
export interface LockOptions {
  fs: StoreFs;
  /** The lock file's path. */
  path: string;
  /**
   * The in-process queue of the store handle taking the lock (keyed by lock path): callers of one
   * handle wait here instead of polling the file. Two handles of one store meet at the file.
   */
  queues: Map<string, Promise<unknown>>;
  /** How long to wait for a live owner before `ERR_LOCKED` (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called each time the lock is found held by a live owner, before waiting (fair gates announce here). */
  onBusy?: () => void;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(options: LockOptions, fn: () => Promise<T>): Promise<T> {
  // Serialise within this process first (the file lock alone cannot tell two callers of one pid apart).
  const { queues } = options;
  const key = options.path;
  const previous = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  queues.set(key, chained);
  await previous;
  try {
    await acquireFile(options);
    try {
      return await fn();
    } finally {
      options.fs.rmSync(options.path, { force: true });
    }
  } finally {
    release();
    if (queues.get(key) === chained) queues.delete(key);
  }
}

async function acquireFile({ fs, path, timeoutMs = 60_000, signal, onBusy }: LockOptions): Promise<void> {
  const started = Date.now();
  const me: LockOwner = { pid: pid, host: hostname(), since: new Date().toISOString() };
  let delay = 5;
  for (;;) {
    try {
      fs.writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(fs, path);
    // Released between the two looks: try again at once.
    if (owner === undefined && !fs.existsSync(path)) continue;
    if (isStale(fs, path, owner, me.host)) {
      breakStaleLock(fs, path, me.host);
      continue;
    }
    const holder = owner ?? { pid: 0, host: 'unknown', since: 'unknown' };
    onBusy?.();
    if (signal?.aborted) throw new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {});
    if (Date.now() - started > timeoutMs) {
      throw new LayerkitError(
        ErrorCodes.ERR_LOCKED,
        `the store is locked by process ${holder.pid} on ${holder.host} since ${holder.since} (${path}); wait for it to finish, or remove the file if that process is gone`,
        { path, owner: holder },
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** A lock file with this process's pid written before this process started: a crashed process had our pid. */
function isDeadNamesake(owner: LockOwner): boolean {
  if (owner.pid !== pid) return false;
  const since = Date.parse(owner.since);
  return Number.isFinite(since) && since < PROCESS_START_MS - 1000;
}

/**
 * Stale: the owner died, or the file stayed unreadable. A file with this process's own pid is
 * another handle of this process holding the lock (wait for it), unless it predates this process.
 */
function isStale(fs: StoreFs, path: string, owner: LockOwner | undefined, host: string): boolean {
  if (owner === undefined) return isOldFile(fs, path);
  return owner.host === host && (!isProcessAlive(owner.pid) || isDeadNamesake(owner));
}

/**
 * Removes a stale lock file, safely against other processes doing the same: only the process that
 * holds the breaker (the directory `PATH.break`, made exclusively) removes it, and only after seeing
 * it still stale. Without the breaker, two processes that both saw the stale file could each
 * remove "it", the second one removing the live lock a third process had taken meanwhile (a lost
 * update of index.json followed). A live owner never needs the breaker, so it costs nothing then.
 */
function breakStaleLock(fs: StoreFs, path: string, host: string): void {
  const breaker = `${path}.break`;
  try {
    fs.mkdirSync(breaker);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process is breaking it (a breaker is held for microseconds: an old one was left by a crash).
    if (isOldFile(fs, breaker)) fs.rmSync(breaker, { recursive: true, force: true });
    return;
  }
  try {
    if (fs.existsSync(path) && isStale(fs, path, readOwner(fs, path), host)) fs.rmSync(path, { force: true });
  } finally {
    fs.rmSync(breaker, { recursive: true, force: true });
  }
}

/** A file still there and unchanged for two seconds (a lock file unreadable that long was left half-written by a crash). */
function isOldFile(fs: StoreFs, path: string): boolean {
  try {
    return Date.now() - fs.statSync(path).mtimeMs > 2000;
  } catch {
    return false; // gone: not stale, the caller looks again
  }
}

function readOwner(fs: StoreFs, path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '') };
    }
  } catch {
    // An unreadable or half-written lock file: treat as stale only if it stays so (checked by the caller loop).
  }
  return undefined;
}

/**
 * True when the lock file at `path` has a live holder (a dead or stale one does not count). With
 * `foreignOnly`, a holder in this very process does not count either.
 */
export function isLockHeld(fs: StoreFs, path: string, { foreignOnly = false } = {}): boolean {
  if (!fs.existsSync(path)) return false;
  const owner = readOwner(fs, path);
  if (owner === undefined) return fs.existsSync(path) && !isOldFile(fs, path);
  if (owner.host !== hostname()) return true;
  if (!isProcessAlive(owner.pid) || isDeadNamesake(owner)) return false;
  return !(foreignOnly && owner.pid === pid);
}
