/**
 * The `build` command once its flags are parsed and no memo answered it (./build.ts): the builder
 * with its progress display, then the reports, pushes and files the flags ask for, and the memo of
 * a fully cached run (../build-memo.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { autoExecutor } from '../../builder/executors/auto.js';
import { build } from '../../builder/build.js';
import { buildMetadata } from '../../builder/build-metadata.js';
import { isLayerkitError } from '../../errors.js';
import { lazyLinuxExecutor, lazyVirtualShell } from '../../builder/executors/lazy.js';
import { formatSize } from '../../report/format.js';
import { parsePlatform } from '../../image/platform.js';
import type { BuildEvent } from '../../builder/events.js';
import type { BuildOptions, BuildResult } from '../../builder/types.js';
import type { BuildMemoSession } from '../build-memo.js';
import type { CommandContext } from '../command.js';
import { SHELL_NOT_FOUND_ADVICE } from '../hints.js';
import { isTerminal, type Output, UsageError, writeText } from '../output.js';
import {
  createProgressRenderer,
  formatDockerfileExcerpt,
  formatExplainReport,
  formatStepLogs,
  progressColor,
  resolveProgressMode,
  VertexNumbers,
  type ProgressMode,
} from '../progress/index.js';
import type { BuildRequest } from './build.js';

/** Runs a parsed `layerkit build` request. */
export async function runBuildCommand(o: {
  ctx: CommandContext;
  req: BuildRequest;
  memo: BuildMemoSession | undefined;
}): Promise<void> {
  const { ctx, req, memo } = o;
  const { output } = ctx;
  const dockerfileText =
    req.dockerfile === '-' ? await (await import('node:stream/consumers')).text(process.stdin) : undefined;
  const mode = resolveProgressMode({
    mode: req.progress,
    stream: { isTTY: isTerminal(output, 'err') },
    env: process.env,
  });
  const numbers = new VertexNumbers();
  const toStdout = req.outputs.some((o) => o.dest === '-');
  if (toStdout && output.out.isTTY)
    throw new UsageError(
      'cowardly refusing to write a tar to a terminal',
      'use -o type=tar,dest=FILE, or redirect standard output',
    );
  if (toStdout && mode === 'json')
    throw new UsageError('--progress json and -o - both want standard output; write the output to a file');
  const progress = req.quiet
    ? { onEvent: () => undefined, finish: () => undefined }
    : createProgressRenderer({
        mode,
        // Only the tty display needs the stream itself (its width); lines go straight out.
        err: mode === 'tty' ? output.err : { write: (t: string) => writeText(output, 'err', t) },
        out: { write: (t: string) => writeText(output, 'out', t) },
        color: progressColor({ stream: { isTTY: isTerminal(output, 'err') }, env: process.env }),
        explain: req.explain,
        numbers,
      });
  const exported: string[] = [];
  const store = await ctx.store();
  const options: BuildOptions = {
    store,
    context: req.context,
    dockerfile: req.dockerfile === '-' ? '<stdin>' : req.dockerfile,
    dockerfileText,
    tags: req.tags,
    target: req.target,
    buildArgs: req.buildArgs,
    secrets: req.secrets,
    allow: req.allow,
    noCache: req.noCache,
    executor:
      req.executor === 'linux'
        ? lazyLinuxExecutor()
        : req.executor === 'shell'
          ? lazyVirtualShell({ notFoundAdvice: SHELL_NOT_FOUND_ADVICE })
          : autoExecutor({ memory: store.memory, shell: { notFoundAdvice: SHELL_NOT_FOUND_ADVICE } }),
    network: req.network,
    pull: req.pull,
    ...(req.compression ? { compression: req.compression } : {}),
    registry: req.registry,
    cacheFrom: req.cacheFrom,
    cacheTo: req.cacheTo,
    platform: req.platform !== undefined ? parsePlatform(req.platform) : undefined,
    sourceDateEpoch: req.sourceDateEpoch,
    labels: req.labels,
    buildContexts: req.buildContexts,
    output: req.outputs.map((o) =>
      o.dest === '-' ? { ...o, type: o.type as 'tar' | 'oci' | 'docker', dest: output.out } : o,
    ),
    signal: ctx.signal,
    onEvent: (event: BuildEvent) => {
      if (event.type === 'cache-export')
        exported.push(
          `exported cache to ${event.ref}: ${event.records} record${event.records === 1 ? '' : 's'}, ${formatSize(event.bytesUploaded)} of layers ${event.exporter === 'local' ? 'written' : 'sent'}`,
        );
      progress.onEvent(event);
    },
  };
  let result: BuildResult;
  memo?.start(store, output);
  try {
    result = await build(options);
  } catch (error) {
    progress.finish({ error });
    // As BuildKit: after the failed step's output, the Dockerfile lines around it; then the error line.
    if (mode !== 'json') output.err.write(failedInstructionExcerpt(error, req, dockerfileText));
    throw error;
  }
  progress.finish({ result });
  for (const o of result.outputs ?? []) for (const w of o.warnings) writeText(output, 'err', `warning: ${w}\n`);
  const id = result.image.manifest.config.digest;
  if (req.iidfile) writeFileSync(req.iidfile, id);
  if (req.metadataFile)
    writeFileSync(req.metadataFile, `${JSON.stringify(buildMetadata({ result, tags: req.tags }), null, 2)}\n`);
  // --push: each -t name to its registry, once the image is in the store (as buildx --push).
  const pushed: string[] = [];
  if (req.push && req.tags.length > 0) {
    // The registry client is loaded only when there is something to push.
    const { pushImage } = await import('../../registry/push.js');
    for (const tag of req.tags) {
      const done = await pushImage({ store, image: result.image, ref: tag, ...req.registry, signal: ctx.signal });
      pushed.push(`pushed ${done.ref.full} ${done.descriptor.digest}`);
    }
  }
  printResult({ output, req, result, mode, numbers, toStdout, pushed, exported });
  memo?.save(store, result, { tags: req.tags, quiet: req.quiet });
}

/** What a finished build prints after its progress: the image ID alone with -q, else the reports and what was written. */
function printResult(o: {
  output: Output;
  req: BuildRequest;
  result: BuildResult;
  mode: ProgressMode;
  numbers: VertexNumbers;
  toStdout: boolean;
  pushed: string[];
  exported: string[];
}): void {
  const { output, req, result, mode, numbers, toStdout, pushed, exported } = o;
  const id = result.image.manifest.config.digest;
  if (req.quiet) {
    // docker build -q: the image ID alone (on standard error when standard output carries the tar).
    writeText(output, toStdout ? 'err' : 'out', `${id}\n`);
    return;
  }

  // With --progress json, standard output carries only the JSON lines; the reports go to stderr.
  const json = mode === 'json';
  const report = (textOut: string) => writeText(output, json ? 'err' : 'out', textOut);
  const color = json ? progressColor({ stream: output.err, env: process.env }) : output.color;
  if (req.showLogs) report(formatStepLogs({ steps: result.steps, stages: result.stages, color, numbers }));
  if (req.explain) {
    if (req.showLogs) report('\n');
    report(
      formatExplainReport({
        steps: result.steps,
        stages: result.stages,
        target: result.target,
        color,
        numbers,
      }),
    );
  }
  if (json) return;
  const say = (line: string) => writeText(output, toStdout ? 'err' : 'out', `${line}\n`);
  say(`built ${result.image.descriptor.digest} (image ID ${id.slice(7, 19)})`);
  for (const tag of req.tags) say(`tagged ${tag}`);
  for (const line of pushed) say(line);
  for (const line of exported) say(line);
  for (const out of req.outputs) if (out.dest !== '-') say(`wrote ${out.type} output to ${out.dest}`);
}

/** The Dockerfile excerpt for an error that names a line of it, or '' (no line, or the file is unreadable). */
function failedInstructionExcerpt(error: unknown, req: BuildRequest, dockerfileText: string | undefined): string {
  if (!isLayerkitError(error)) return '';
  const { file, line, column } = error.data as { file?: unknown; line?: unknown; column?: unknown };
  if (typeof file !== 'string' || typeof line !== 'number') return '';
  let text = dockerfileText;
  try {
    text ??= readFileSync(req.dockerfile ?? join(req.context, 'Dockerfile'), 'utf8');
  } catch {
    return '';
  }
  return formatDockerfileExcerpt({ text, file, line, column: typeof column === 'number' ? column : undefined });
}
