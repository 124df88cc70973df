/**
 * The CLI's side of build memos (src/builder/build-memo.ts): `layerkit build` run again with
 * nothing changed writes what its last fully cached run printed, byte for byte and in order, and
 * exits 0 without loading the builder. This module records that output and replays it; which
 * requests get a memo is decided by the build command (src/cli/commands/build.ts).
 *
 * A memo is keyed by the command line as typed (with the working folder and the environment), so
 * the executable (src/cli/bin.ts) can ask for it before the rest of the CLI loads
 * ({@link replayEarly}); the build command asks again for the forms the executable does not
 * recognise. `LAYERKIT_BUILD_MEMO=0` turns memos off.
 */
import {
  BUILD_MEMO_RACY_MS,
  type BuildMemoStart,
  buildMemoKey,
  findBuildMemo,
  saveBuildMemo,
  startBuildMemo,
} from '../builder/build-memo.js';
import type { BuildResult } from '../builder/types.js';
import type { Store } from '../store/store.js';
import { isTerminal, type Output, type OutputRecording, processOutput, recordOutput, writeText } from './stdio.js';

/** One build command's memo: look it up, or record the run and write it. */
export interface BuildMemoSession {
  /** Writes the remembered output again when nothing the build depends on changed: true when it did. */
  replay(store: Store, output: Output): boolean;
  /** Starts recording the output; call before the build starts reading. */
  start(store: Store, output: Output): void;
  /**
   * After a successful build and everything it printed: writes the memo when the build allows it.
   * Unless `quiet`, a replay first says on standard error that it is one.
   */
  save(store: Store, result: BuildResult, options: { tags: string[]; quiet: boolean }): void;
}

/** Options for {@link buildMemoSession}. */
export interface BuildMemoSessionOptions {
  /** The command line after the program name, as typed. */
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** True when memos are on (`LAYERKIT_BUILD_MEMO=0` turns them off). */
export function buildMemosEnabled(env: NodeJS.ProcessEnv): boolean {
  return env.LAYERKIT_BUILD_MEMO !== '0';
}

/** Creates the memo session of one build command line. */
export function buildMemoSession({ argv, cwd, env }: BuildMemoSessionOptions): BuildMemoSession {
  const request = { options: { argv }, cwd, env };
  let key: string | undefined;
  const keyOf = (store: Store): string => (key ??= buildMemoKey({ store, request }));
  let started: BuildMemoStart | undefined;
  let recording: OutputRecording | undefined;
  return {
    replay(store, output) {
      // What was recorded went to pipes or files: a terminal gets the live display instead.
      if (isTerminal(output, 'out') || isTerminal(output, 'err')) return false;
      const memo = findBuildMemo({ store, key: keyOf(store) });
      if (memo === undefined) return false;
      for (const [fd, text] of memo.output) writeText(output, fd === 1 ? 'out' : 'err', text);
      return true;
    },
    start(store, output) {
      started = startBuildMemo({ store });
      recording = recordOutput(output);
    },
    save(store, result, { tags, quiet }) {
      const printed = recording?.stop();
      recording = undefined;
      if (printed === undefined || started === undefined) return;
      const said: Array<[1 | 2, string]> = [
        [
          2,
          `nothing this build reads has changed since ${new Date().toISOString()}: what it printed then follows (LAYERKIT_BUILD_MEMO=0 runs the builder)\n`,
        ],
      ];
      const racy = Number(env.LAYERKIT_BUILD_MEMO_RACY_MS);
      saveBuildMemo({
        store,
        key: keyOf(store),
        start: started,
        result,
        tags,
        output: quiet ? printed : [...said, ...printed],
        racyMs: env.LAYERKIT_BUILD_MEMO_RACY_MS !== undefined && racy >= 0 ? racy : BUILD_MEMO_RACY_MS,
      });
    },
  };
}

/**
 * For the executable, before the CLI loads: when `argv` is `build ...` or `--store DIR build ...`
 * and a memo answers it, writes the memo's output and returns true. Any other form is left to the
 * build command, which asks for the same memo.
 */
export async function replayEarly(argv: readonly string[]): Promise<boolean> {
  if (!buildMemosEnabled(process.env)) return false;
  let root: string | undefined;
  let rest = argv;
  if (rest[0] === '--store' && rest.length > 1) {
    root = rest[1];
    rest = rest.slice(2);
  } else if (rest[0]?.startsWith('--store=')) {
    root = rest[0].slice('--store='.length);
    rest = rest.slice(1);
  }
  if (rest[0] !== 'build' || rest.some((a) => a === '--store' || a.startsWith('--store='))) return false;
  const { defaultStorePath, openStore, storeExists } = await import('./store-access.js');
  const path = root ?? defaultStorePath();
  // No store, no memo: and opening one would create it, which is the build's to do.
  if (!storeExists(path)) return false;
  const store = await openStore({ root: path });
  const session = buildMemoSession({ argv, cwd: process.cwd(), env: process.env });
  return session.replay(store, processOutput());
}
