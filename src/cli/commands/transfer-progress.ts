/**
 * Progress of `pull` and `push`, drawn as the CLI draws build progress: on a terminal a bar per
 * blob and a total with speed, redrawn in place; plain lines when piped (one per finished blob);
 * JSON lines (`--progress json`, on stdout) for tools.
 */
import { formatSize } from '../../report/format.js';
import type { TransferProgress } from '../../registry/progress.js';
import type { Output } from '../output.js';
import { resolveProgressMode, type ProgressMode } from '../progress/index.js';

/** A renderer of transfer events. */
export interface TransferRenderer {
  onEvent(event: TransferProgress): void;
  finish(): void;
}

const FINAL = new Set(['exists', 'mounted', 'pulled', 'pushed']);

function short(digest: string): string {
  return digest.slice(7, 19);
}

/** Picks and makes the renderer for `--progress`. */
export function transferRenderer(options: {
  output: Output;
  mode: ProgressMode;
  now?: () => number;
}): TransferRenderer {
  const { output } = options;
  const now = options.now ?? Date.now;
  const mode = resolveProgressMode({ mode: options.mode, stream: output.err, env: process.env });
  if (mode === 'json') {
    return {
      onEvent: (e) => output.out.write(`${JSON.stringify(e)}\n`),
      finish: () => undefined,
    };
  }
  if (mode === 'plain') {
    return {
      onEvent(e) {
        if (e.kind === 'blob' && FINAL.has(e.status))
          output.err.write(
            `${short(e.digest)}: ${e.status}${e.status === 'exists' || e.status === 'mounted' ? '' : ` ${formatSize(e.size)}`}\n`,
          );
      },
      finish: () => undefined,
    };
  }
  const blobs = new Map<string, TransferProgress>();
  let last: TransferProgress | undefined;
  let drawn = 0;
  let lastDraw = 0;
  const start = now();
  const draw = (force: boolean): void => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const width = Math.max(10, Math.min(30, (output.err.columns ?? 80) - 50));
    const bar = (done: number, total: number): string => {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      return '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    };
    const lines = [...blobs.values()].map((e) => {
      const amount = FINAL.has(e.status) ? formatSize(e.size) : `${formatSize(e.bytes)} / ${formatSize(e.size)}`;
      return `${short(e.digest)}  ${e.status.padEnd(11)} ${bar(FINAL.has(e.status) ? e.size : e.bytes, e.size)} ${amount}`;
    });
    if (last) {
      const secs = Math.max(0.001, (t - start) / 1000);
      const { total } = last;
      lines.push(
        `total         ${`${total.done}/${total.blobs}`.padEnd(11)} ${formatSize(total.bytes)} moved, ${formatSize(total.bytes / secs)}/s`,
      );
    }
    let text = drawn > 0 ? `\u001b[${drawn}A` : '';
    for (const line of lines) text += `\r\u001b[2K${line}\n`;
    output.err.write(text);
    drawn = lines.length;
  };
  return {
    onEvent(e) {
      last = e;
      if (e.kind !== 'blob') return;
      blobs.set(e.digest, e);
      draw(FINAL.has(e.status));
    },
    finish() {
      if (blobs.size > 0) draw(true);
    },
  };
}
