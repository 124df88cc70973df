/**
 * Runs the real CLI as a child process (`node --import tsx src/cli/bin.ts`), for what only a
 * process shows: closed pipes, standard input, terminals, exit statuses, another process's view
 * of the store. tests/helpers/cli.ts runs it in this process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** What a CLI process did. */
export interface CliProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Options for {@link spawnCli}. */
export interface SpawnCliOptions {
  /** Bytes written to the child's standard input, which is then closed. */
  stdin?: string | Buffer | undefined;
  /** Close the read end of the child's stdout at once, as `| head -c 0` does. */
  closeStdout?: boolean;
  /** Added to this process's environment (and NO_COLOR=1), or the whole environment with `cleanEnv`. */
  env?: NodeJS.ProcessEnv;
  /** The child gets `env` alone (plus NO_COLOR=1), nothing of this process's environment. */
  cleanEnv?: boolean;
  cwd?: string;
  /** Killed after this long (default 60 s). */
  timeoutMs?: number;
}

/** Spawns `layerkit ARGS...` and waits for it to exit (at most `timeoutMs`, 60 s by default, then it is killed). */
export function spawnCli(args: string[], options: SpawnCliOptions = {}): Promise<CliProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...(options.cleanEnv ? {} : process.env), NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') });
    });
  });
}
