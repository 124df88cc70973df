/** An executor that calls a function: for tests, and for RUN steps a program wants to handle itself. */
import type { ExecRequest, ExecResult, Executor } from '../../union/executor.js';

/**
 * Wraps a function as an executor.
 * @example functionExecutor(async ({ argv, fs }) => { await fs.writeFile('/out', argv.join(' ')); return { exitCode: 0 }; })
 */
export function functionExecutor(run: (request: ExecRequest) => Promise<ExecResult>, name = 'function'): Executor {
  return { name, run };
}
