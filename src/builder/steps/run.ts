/**
 * RUN: the command runs through the executor on a writable union view of the stage; its changes
 * become the step's layer. The cache key covers the command, the whole build environment (base
 * Env, ENV and ARG values), USER, WORKDIR, platform and the SHELL a shell-form command is wrapped
 * in: BuildKit's ExecOp fields (its argv).
 */
import { readFileSync } from 'node:fs';
import { chompHeredocContent, type RunInstruction, type RunMount } from '../../dockerfile/index.js';
import { ErrorCodes } from '../../errors.js';
import { stepError } from '../step-error.js';
import type { ExecMount, Executor } from '../../union/executor.js';
import { mountImage } from '../../union/mount-image.js';
import { MountedFs } from '../mounted-fs.js';
import { runEnvironment } from '../run-env.js';
import { SANDBOX_HOSTNAME, sandboxHosts, sandboxResolvConf } from '../sandbox-files.js';
import { planRunMounts } from './run-mounts.js';
import { cachedLayerStep, type FsStepContext } from '../cached-step.js';
import { commandArgv } from './metadata.js';

const TAIL_LINES = 20;

/** The executor `auto` last announced, per build. */
const announced = new WeakMap<object, string>();

/** The executor that runs this RUN: the build's, or the one it chooses for this image and command. */
async function chooseExecutor(
  ctx: FsStepContext,
  argv: readonly string[],
): Promise<{ executor: Executor; why: string | undefined }> {
  const { run, state } = ctx;
  const configured = run.services.executor;
  if (configured.choose === undefined) return { executor: configured, why: undefined };
  const fs = await mountImage({
    store: run.services.store,
    image: state.layers.map((l) => l.index),
    readOnly: true,
  });
  return configured.choose({ fs, argv });
}

/** A file of the host, or undefined when it cannot be read. */
function readHostFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs a RUN instruction. */
export async function runRun(ctx: FsStepContext, instruction: RunInstruction, mountSpecs: RunMount[]): Promise<void> {
  const { run, state, record } = ctx;
  const { command } = instruction;
  let argv: string[];
  const heredoc = command.heredocs[0];
  if (
    heredoc !== undefined &&
    command.form === 'shell' &&
    command.heredocs.length === 1 &&
    /^<<-?(["']?)[^\s"']+\1$/.test(command.args.join(' ').trim())
  ) {
    // `RUN <<EOF` alone: the body is the script.
    const body = heredoc.chomp ? chompHeredocContent(heredoc.content) : heredoc.content;
    argv = commandArgv(state, { form: 'shell', args: [body] });
  } else if (heredoc !== undefined && command.form === 'shell') {
    // A heredoc inside a command (`cat <<EOF > f`): the shell gets the command line, then each
    // body and its delimiter, so it sees a real heredoc (BuildKit reconstitutes it the same way).
    const full = command.args.join(' ') + command.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
    argv = commandArgv(state, { form: 'shell', args: [full] });
  } else {
    argv = commandArgv(state, command);
  }
  const c = state.config.config ?? {};
  const env = [...state.env].map(([k, v]) => `${k}=${v}`);
  const user = c.User ?? '';
  const cwd = c.WorkingDir || '/';
  // RUN --network=default takes the build's network mode (BuildKit's state network).
  const { security } = instruction;
  const network = instruction.network === 'default' ? run.options.network : instruction.network;
  // /etc/hosts and /etc/resolv.conf for every command, read-only, never in a layer or the key.
  const sandbox = {
    '/etc/resolv.conf': sandboxResolvConf({ network, readHostFile }),
    '/etc/hosts': sandboxHosts(SANDBOX_HOSTNAME),
  };
  const mounts = await planRunMounts(ctx, mountSpecs, cwd, sandbox);
  // BuildKit's entitlements: a build must be allowed the host's network or full privileges.
  const asks = [
    [network === 'host', instruction.network === 'host' ? '--network=host' : 'with network host', 'network.host'],
    [security === 'insecure', '--security=insecure', 'security.insecure'],
  ] as const;
  for (const [asked, flag, entitlement] of asks) {
    if (asked && !run.options.allow.has(entitlement)) {
      throw stepError(
        ErrorCodes.ERR_BUILD_STEP,
        `RUN ${flag} needs the ${entitlement} entitlement: build with allow: ['${entitlement}'] (layerkit build --allow ${entitlement})`,
        { entitlement },
      );
    }
  }
  const argPrefix =
    state.args.length > 0
      ? `|${state.args.length} ${state.args.map((a) => `${a}=${state.env.get(a) ?? ''}`).join(' ')} `
      : '';
  const { executor, why } = await chooseExecutor(ctx, argv);
  record.executor = executor.name;
  let output = '';
  await cachedLayerStep(ctx, {
    components: {
      parent: state.key,
      instruction: record.instruction,
      env: [...env].sort(),
      user,
      workdir: cwd,
      platform: run.options.platform,
      executor: executor.name,
      // The argv a shell-form command runs as depends on SHELL, which the instruction text does not show.
      ...(command.form === 'shell' ? { shell: argv.slice(0, -1) } : {}),
      ...(mountSpecs.length > 0 ? { mounts: mounts.key, inputs: mounts.inputs } : {}),
      ...(network !== 'default' ? { network } : {}),
      ...(security !== 'sandbox' ? { security } : {}),
    },
    createdBy: `RUN ${argPrefix}${argv.join(' ')} # buildkit`,
    execute: async (fs) => {
      // One streaming decoder per stream, so a character split across chunks stays whole.
      const decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };
      const emit = (stream: 'stdout' | 'stderr') => (chunk: Uint8Array) => {
        const data = decoders[stream].decode(chunk, { stream: true });
        if (data === '') return;
        output += data;
        run.services.emit({ type: 'log', stage: state.id, index: record.index, stream, data });
      };
      if (why !== undefined && announced.get(run.journal) !== executor.name) {
        // `auto` says which executor it picked, once per build and whenever the choice changes.
        announced.set(run.journal, executor.name);
        run.services.emit({
          type: 'log',
          stage: state.id,
          index: record.index,
          stream: 'stderr',
          data: `layerkit: RUN runs with the ${executor.name} executor (auto: ${why})\n`,
        });
      }
      if (c.WorkingDir && c.WorkingDir !== '/' && !fs.existsSync(cwd)) fs.mkdirSync(cwd, { recursive: true });
      // PATH and HOME as the runtime under BuildKit gives them, for the process only.
      const env = await runEnvironment({ env: { ...Object.fromEntries(state.env), ...mounts.env }, user, fs });
      const execute = (mounted: ExecMount[]) =>
        executor.run({
          argv,
          env,
          cwd,
          user,
          fs: mounted.length > 0 ? new MountedFs(fs, mounted) : fs,
          ...(mounted.length > 0 ? { rootfs: fs, mounts: mounted } : {}),
          network,
          hostname: SANDBOX_HOSTNAME,
          layers: {
            store: run.services.store,
            layers: state.layers.map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })),
          },
          security,
          ...(run.services.signal ? { signal: run.services.signal } : {}),
          stdout: emit('stdout'),
          stderr: emit('stderr'),
        });
      const { exitCode, seccomp } = await mounts.use(fs, execute);
      record.output = output;
      if (seccomp !== undefined) record.seccomp = seccomp;
      if (exitCode !== 0) {
        const tail = output.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
        throw stepError(
          ErrorCodes.ERR_BUILD_EXIT_CODE,
          `RUN ${argv.join(' ')}: exit code ${exitCode}${tail ? `\n${tail}` : ''}`,
          { exitCode, command: argv, output, executor: executor.name, ...(seccomp ? { seccomp } : {}) },
        );
      }
    },
  });
}
