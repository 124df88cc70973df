/**
 * Leases and the gc gate, the state this module owns (`layerkit/leases/`). A lease is a file other
 * processes can see (containerd's model): a JSON header line naming the owning process, then one
 * digest per line, appended as the writer stores or reuses blobs. A live lease is also a shared
 * hold on the store's gc gate: `gc` takes the gate exclusively (the `gc` lock file), waits until no
 * other process holds a lease, and only then marks and sweeps; a writer that finds the gate taken
 * waits for `gc` to finish. Writer and gc each announce themselves before looking for the other, so
 * one of them always sees the other. A dead owner's lease or lock is stale and ignored.
 *
 * The gate is fair: a process that finds it taken by another (a writer, or a gc: a failed import's
 * rollback is one) says so with a file in `locks/gc-waiting/` until it is through, and gc yields
 * to such processes before it takes the gate. gc run back to back therefore cannot keep anyone out
 * (they poll the gate, and gc would retake it at once): each waits for at most the gc that runs.
 */
import { hostname, pid as ownPid, randomHex } from '#platform';
import { isDigest, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { isProcessAlive } from './atomic.js';
import { isLockHeld } from './lock.js';
import { checkFormatVersion } from './state.js';
import type { Store } from './store.js';

/** The folder of lease files. */
export const LEASES_FOLDER = 'leases';
/** The lock gc holds exclusively (writers hold the gate shared through their leases). */
export const GC_LOCK = 'gc';
const FORMAT = 2;

/** One lease file, as read. */
export interface LeaseFile {
  file: string;
  pid: number;
  digests: Digest[];
  /** The format version of its header (`v`; 1 for the old JSON form without one). */
  version: number;
}

/** Parses a lease file: the header line then digests (a half-appended last line is ignored), or the old JSON form. */
export function parseLease(file: string, text: string): LeaseFile | undefined {
  const lines = text.split('\n');
  let header: { pid?: unknown; digests?: unknown; v?: unknown };
  try {
    header = JSON.parse(lines[0] ?? '') as typeof header;
  } catch {
    // an empty file is a lease whose header is being written: its owner is alive
    return undefined;
  }
  if (typeof header.pid !== 'number') return undefined;
  const digests = (Array.isArray(header.digests) ? (header.digests as unknown[]) : lines.slice(1)).filter(
    (d): d is Digest => typeof d === 'string' && isDigest(d),
  );
  return { file, pid: header.pid, digests, version: typeof header.v === 'number' ? header.v : 1 };
}

/** Every lease file of a live process; those of dead processes are removed. */
export function readLeases(store: Store): LeaseFile[] {
  const out: LeaseFile[] = [];
  for (const file of store.listState(LEASES_FOLDER)) {
    const bytes = store.readState(`${LEASES_FOLDER}/${file}`);
    if (bytes === undefined) continue;
    const pid = Number(/^(\d+)-/.exec(file)?.[1]);
    const lease = parseLease(file, bytes.toString('utf8'));
    const owner = lease?.pid ?? pid;
    if (Number.isFinite(owner) && owner > 0 && !isProcessAlive(owner)) {
      store.removeState(`${LEASES_FOLDER}/${file}`);
      continue;
    }
    // A live lease of a newer layerkit may name what it protects differently: refuse to guess.
    if (lease) checkFormatVersion(store.statePath(LEASES_FOLDER, file), 'lease', lease.version, FORMAT);
    out.push(lease ?? { file, pid: owner, digests: [], version: FORMAT });
  }
  return out;
}

/** Creates the lease file `name` (its header), so gc in any process sees it from now on. */
export function createLeaseFile(store: Store, name: string): void {
  store.fs.mkdirSync(store.statePath(LEASES_FOLDER), { recursive: true });
  const header = JSON.stringify({ pid: ownPid, host: hostname(), since: new Date().toISOString(), v: FORMAT });
  store.fs.writeFileSync(store.statePath(LEASES_FOLDER, name), `${header}\n`, { flag: 'wx' });
}

/** Appends digests to a lease file (one write: a reader sees whole lines, or a partial last one it ignores). */
export function appendLease(store: Store, name: string, digests: Digest[]): void {
  if (digests.length > 0) store.fs.appendFileSync(store.statePath(LEASES_FOLDER, name), `${digests.join('\n')}\n`);
}

/** The folder (under `locks/`) where writers waiting for a gc in another process say so. */
const WAITING_FOLDER = 'gc-waiting';

/** True when a live process other than this one holds gc's lock. */
function gcRunsElsewhere(store: Store): boolean {
  return isLockHeld(store.fs, store.statePath('locks', `${GC_LOCK}.lock`), { foreignOnly: true });
}

/** Waits until no live process other than this one holds gc's lock. */
export async function waitForGc(store: Store, signal?: AbortSignal): Promise<void> {
  let delay = 5;
  while (gcRunsElsewhere(store)) {
    throwIfAborted(signal);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Starts a lease that is a shared hold on the gc gate: announce it, then look for a gc; if one
 * runs in another process, withdraw, say that this writer waits (so the next gc yields to it),
 * wait for the gc, and try again.
 */
export async function openLeaseFile(store: Store, name: string, signal?: AbortSignal): Promise<void> {
  const ticket = waitingTicket(store);
  try {
    for (;;) {
      if (gcRunsElsewhere(store)) {
        ticket.announce();
        await waitForGc(store, signal);
      }
      createLeaseFile(store, name);
      if (!gcRunsElsewhere(store)) return;
      store.removeState(`${LEASES_FOLDER}/${name}`);
    }
  } finally {
    ticket.withdraw();
  }
}

/** A file in `locks/gc-waiting/` saying this process waits for the gate (once announced). */
function waitingTicket(store: Store): { announce(): void; withdraw(): void } {
  const path = store.statePath('locks', WAITING_FOLDER, `${ownPid}-${randomHex(6)}`);
  let announced = false;
  return {
    announce() {
      if (announced) return;
      store.fs.mkdirSync(store.statePath('locks', WAITING_FOLDER), { recursive: true });
      store.fs.writeFileSync(path, `${ownPid}\n`);
      announced = true;
    },
    withdraw() {
      if (announced) store.fs.rmSync(path, { force: true });
      announced = false;
    },
  };
}

/**
 * Runs `fn` holding the gc gate exclusively, fairly: first yields to processes already waiting for
 * the gate; then, whenever it finds the gate held by another process, says that this one waits (so
 * the next gc yields to it) and takes the gate when it is free. Nothing is written when the gate is
 * free at once, so an uncontended gc (a failed import's rollback) leaves the store as it found it.
 */
export async function withGcGate<T>(
  store: Store,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  fn: () => Promise<T>,
): Promise<T> {
  await yieldToWaiting(store, options);
  const ticket = waitingTicket(store);
  try {
    if (gcRunsElsewhere(store)) ticket.announce();
    return await store.withLock(
      GC_LOCK,
      async () => {
        ticket.withdraw();
        return fn();
      },
      {
        timeoutMs: Number.POSITIVE_INFINITY,
        // Found taken (by a gc that took it after the look above, too): say so, so the next gc yields.
        onBusy: () => ticket.announce(),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  } finally {
    ticket.withdraw();
  }
}

/**
 * For gc, before it takes the gate: waits while other live processes wait for the gate (they got
 * there first; each is through as soon as it sees the gate free). A dead process's file is removed.
 */
async function yieldToWaiting(
  store: Store,
  {
    signal,
    timeoutMs = Number.POSITIVE_INFINITY,
  }: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
): Promise<void> {
  const folder = store.statePath('locks', WAITING_FOLDER);
  const started = Date.now();
  let delay = 2;
  for (;;) {
    let names: string[];
    try {
      names = store.fs.readdirSync(folder) as string[];
    } catch {
      return; // no writer has ever waited
    }
    const waiting = names.filter((file) => {
      const pid = Number(/^(\d+)-/.exec(file)?.[1]);
      if (!Number.isFinite(pid) || pid === ownPid) return false;
      if (isProcessAlive(pid)) return true;
      store.fs.rmSync(`${folder}/${file}`, { force: true });
      return false;
    });
    if (waiting.length === 0) return;
    throwIfAborted(signal);
    if (Date.now() - started > timeoutMs)
      throw new LayerkitError(
        ErrorCodes.ERR_LOCKED,
        `processes are still waiting for the store's gc gate (${waiting.join(', ')})`,
        {
          waiting,
        },
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/**
 * For gc, holding its lock: waits until no other process holds a lease (they finish what they are
 * writing; new ones wait for gc). Leases of this process are not waited for: gc marks their digests.
 */
export async function waitForForeignLeases(
  store: Store,
  {
    signal,
    timeoutMs = Number.POSITIVE_INFINITY,
  }: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
): Promise<void> {
  const started = Date.now();
  let delay = 5;
  for (;;) {
    const foreign = readLeases(store).filter((l) => l.pid !== ownPid);
    if (foreign.length === 0) return;
    throwIfAborted(signal);
    if (Date.now() - started > timeoutMs)
      throw new LayerkitError(
        ErrorCodes.ERR_LOCKED,
        `processes ${[...new Set(foreign.map((l) => l.pid))].join(', ')} are still writing to the store`,
        { pids: foreign.map((l) => l.pid) },
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}
