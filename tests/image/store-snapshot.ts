/**
 * A byte-level snapshot of a disk store (every path under its root with type, mode, size and the
 * sha256 of file contents), to show that a failed operation left the store exactly as it was:
 * same blob list, same index.json bytes, same layer state, no temp files or leases left behind.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { Store } from '../../src/store/store.js';

/** One path of a snapshot: `d 755` for a folder, `f 444 <size> <sha256>` for a file, `l -> target` for a link. */
export type StoreSnapshot = Record<string, string>;

/** Snapshots the store's folder (the store must be on disk). */
export function snapshotStore(store: Store): StoreSnapshot {
  const out: StoreSnapshot = {};
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(`${store.root}/${rel}`).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = `${store.root}/${path}`;
      const st = fs.lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[path] = `d ${mode}`;
        walk(path);
      } else if (st.isSymbolicLink()) {
        out[path] = `l -> ${fs.readlinkSync(full)}`;
      } else {
        out[path] = `f ${mode} ${st.size} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
      }
    }
  };
  walk('');
  return out;
}
