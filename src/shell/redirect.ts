/**
 * Redirections: `>`, `>>`, `>|`, `<`, `<>`, `n>&m`, `n<&m`, `n>&-`, `&>`, `&>>`, heredocs
 * (`<<`, `<<-`), applied left to right onto a copy of the command's file descriptors.
 * `/dev/null`, `/dev/stdin`, `/dev/stdout`, `/dev/stderr` and `/dev/fd/N` are virtual.
 */
import type { Redirect } from './ast.js';
import { deviceFd, OpenError, openOutputFile, readInputFile } from './files.js';
import type { Interpreter } from './interpreter.js';
import { InputStream } from './io.js';
import type { FdTable } from './runtime.js';
import { fsErrorText } from './utils/common.js';

/**
 * Applies redirections in order; on failure prints `sh: <message>` and returns undefined (the
 * command then does not run and its status is 1).
 */
export async function applyRedirects(
  interp: Interpreter,
  redirs: readonly Redirect[],
  fds: FdTable,
): Promise<FdTable | undefined> {
  let out = fds;
  for (const r of redirs) {
    try {
      out = await applyOne(interp, r, out, fds);
    } catch (err) {
      if (err instanceof OpenError) {
        await interp.warn(fds, err.message);
        return undefined;
      }
      throw err;
    }
  }
  return out;
}

async function applyOne(interp: Interpreter, r: Redirect, fds: FdTable, original: FdTable): Promise<FdTable> {
  const state = interp.state;
  const env = { fs: interp.rt.fs, cwd: state.cwd, umask: state.umask, user: interp.rt.user };
  if (r.op === '<<' || r.op === '<<-') {
    const body = r.heredoc?.body;
    const text = body === undefined ? '' : await interp.expandString(body, original);
    return fds.with(r.fd ?? 0, { kind: 'in', stream: InputStream.of(text) });
  }
  const target = await interp.expandString(r.target, original);
  switch (r.op) {
    case '<':
    case '<>': {
      const fd = r.fd ?? 0;
      const dev = deviceFd(target);
      if (dev !== undefined) return fds.with(fd, fds.get(dev));
      let bytes: Uint8Array;
      try {
        bytes = await readInputFile(env, target);
      } catch (err) {
        if (r.op === '<>' && (err as { code?: string }).code === 'ENOENT') {
          await openOutputFile(env, target, { append: true });
          bytes = new Uint8Array(0);
        } else {
          throw new OpenError(`can't open '${target}': ${fsErrorText(err)}`);
        }
      }
      return fds.with(fd, { kind: 'in', stream: InputStream.of(bytes) });
    }
    case '>':
    case '>|':
    case '>>': {
      const writer = await openOutputFile(env, target, {
        append: r.op === '>>',
        noclobber: r.op === '>' && state.options.noclobber,
        fds,
      });
      return fds.with(r.fd ?? 1, { kind: 'out', writer });
    }
    case '&>':
    case '&>>': {
      const writer = await openOutputFile(env, target, { append: r.op === '&>>', fds });
      return fds.with(1, { kind: 'out', writer }).with(2, { kind: 'out', writer });
    }
    case '>&':
    case '<&': {
      const fd = r.fd ?? (r.op === '>&' ? 1 : 0);
      if (target === '-') return fds.with(fd, undefined);
      if (/^[0-9]+$/.test(target)) {
        const src = fds.get(Number(target));
        if (src === undefined) throw new OpenError(`${target}: Bad file descriptor`);
        return fds.with(fd, src);
      }
      if (r.op === '>&' && r.fd === undefined) {
        const writer = await openOutputFile(env, target, { append: false, fds });
        return fds.with(1, { kind: 'out', writer }).with(2, { kind: 'out', writer });
      }
      throw new OpenError(`${target}: Bad file descriptor`);
    }
  }
}
