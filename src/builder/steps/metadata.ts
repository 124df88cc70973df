/**
 * Metadata instructions: they change the image config and add an `empty_layer` history entry
 * (BuildKit's `created_by` strings), never a layer, and never a later COPY's cache key. ARG and
 * ENV also change the build environment, which later RUN steps see.
 */
import { goQuote } from '../../dockerfile/go-text.js';
import type { Instruction } from '../../dockerfile/index.js';
import { ErrorCodes } from '../../errors.js';
import { stepError } from '../step-error.js';
import type { ContainerConfig, HealthConfig } from '../../oci/types.js';
import { setEnv, type StageState } from '../state.js';

/** The instructions handled here. */
export const METADATA_KEYWORDS = new Set([
  'env',
  'label',
  'arg',
  'user',
  'expose',
  'volume',
  'cmd',
  'entrypoint',
  'shell',
  'stopsignal',
  'healthcheck',
  'onbuild',
  'maintainer',
]);

/** What a metadata instruction adds to the history (undefined: no entry, like ONBUILD). */
export type MetadataResult = { createdBy: string } | undefined;

/** Options for {@link applyMetadata}. */
export interface ApplyMetadataOptions {
  state: StageState;
  /** The expanded instruction. */
  instruction: Instruction;
  /** Build args given by the caller (`--build-arg`). */
  buildArgs: ReadonlyMap<string, string>;
  /** Meta (global) ARG values, for a bare `ARG X` inside a stage. */
  metaArgs: ReadonlyMap<string, string | undefined>;
}

function containerConfig(state: StageState): ContainerConfig {
  state.config.config ??= {};
  return state.config.config;
}

const SIGNALS = new Set([
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'IO',
  'IOT',
  'KILL',
  'PIPE',
  'POLL',
  'PROF',
  'PWR',
  'QUIT',
  'SEGV',
  'STKFLT',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'UNUSED',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
]);

function validSignal(s: string): boolean {
  if (/^[0-9]+$/.test(s)) return Number(s) > 0 && Number(s) < 65;
  const name = s.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(name) || /^RTMIN(\+[0-9]+)?$/.test(name) || /^RTMAX(-[0-9]+)?$/.test(name);
}

/** Go's `%q` of a string list, as BuildKit prints CMD/ENTRYPOINT history. */
function goQuotedList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's duration formatting for the HEALTHCHECK history line (`5m0s`, `30s`, `1.5s`, `0s`). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  if (n < 1e9) {
    const units: Array<[number, string]> = [
      [1e6, 'ms'],
      [1e3, 'µs'],
      [1, 'ns'],
    ];
    for (const [u, name] of units) if (n >= u) return `${neg ? '-' : ''}${trimFraction(n / u)}${name}`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = trimFraction(n / 1e9);
  return `${neg ? '-' : ''}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

function trimFraction(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
}

/** Applies a metadata instruction to the stage; returns its history entry. */
export function applyMetadata({ state, instruction: i, buildArgs, metaArgs }: ApplyMetadataOptions): MetadataResult {
  const c = containerConfig(state);
  switch (i.keyword) {
    case 'env': {
      let env = c.Env ?? [];
      for (const p of i.pairs) {
        env = setEnv(env, p.key, p.value);
        state.env.set(p.key, p.value);
      }
      c.Env = env;
      return { createdBy: `ENV ${i.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}` };
    }
    case 'label': {
      c.Labels = { ...(c.Labels ?? {}) };
      for (const p of i.pairs) c.Labels[p.key] = p.value;
      return { createdBy: `LABEL ${i.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}` };
    }
    case 'maintainer':
      state.config.author = i.maintainer;
      return { createdBy: `MAINTAINER ${i.maintainer}` };
    case 'arg': {
      const parts: string[] = [];
      for (const a of i.args) {
        if (!state.args.includes(a.key)) state.args.push(a.key);
        const value = buildArgs.has(a.key)
          ? buildArgs.get(a.key)
          : a.value !== undefined
            ? a.value
            : metaArgs.get(a.key);
        if (value !== undefined) state.env.set(a.key, value);
        parts.push(a.value !== undefined ? `${a.key}=${a.value}` : a.key);
      }
      return { createdBy: `ARG ${parts.join(' ')}` };
    }
    case 'user':
      c.User = i.user;
      return { createdBy: `USER ${i.user}` };
    case 'expose': {
      const ports = { ...(c.ExposedPorts ?? {}) };
      const added: string[] = [];
      for (const token of i.ports) {
        for (const key of parsePortSpec(token)) {
          ports[key] = {};
          added.push(key);
        }
      }
      c.ExposedPorts = ports;
      return { createdBy: `EXPOSE [${[...new Set(added)].sort().join(' ')}]` };
    }
    case 'volume': {
      const volumes = { ...(c.Volumes ?? {}) };
      for (const v of i.volumes) {
        if (v.trim() === '')
          throw stepError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `VOLUME specified can not be an empty string`, {});
        volumes[v] = {};
      }
      c.Volumes = volumes;
      return { createdBy: `VOLUME [${i.volumes.join(' ')}]` };
    }
    case 'cmd': {
      const argv = commandArgv(state, i.command);
      c.Cmd = argv;
      c.ArgsEscaped = true;
      state.cmdSet = true;
      return { createdBy: `CMD ${goQuotedList(argv)}` };
    }
    case 'entrypoint': {
      const argv = commandArgv(state, i.command);
      c.Entrypoint = i.command.form === 'exec' && i.command.args.length === 0 ? null : argv;
      if (!state.cmdSet) c.Cmd = null;
      return { createdBy: `ENTRYPOINT ${goQuotedList(argv)}` };
    }
    case 'shell':
      c.Shell = [...i.shell];
      return { createdBy: `SHELL [${i.shell.join(' ')}]` };
    case 'stopsignal':
      if (!validSignal(i.signal))
        throw stepError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `failed to parse signal: ${i.signal}`, {
          signal: i.signal,
        });
      c.StopSignal = i.signal;
      return { createdBy: `STOPSIGNAL ${i.signal}` };
    case 'healthcheck': {
      const h: HealthConfig = { Test: [...i.test] };
      if (i.interval) h.Interval = i.interval;
      if (i.timeout) h.Timeout = i.timeout;
      if (i.startPeriod) h.StartPeriod = i.startPeriod;
      if (i.startInterval) h.StartInterval = i.startInterval;
      if (i.retries) h.Retries = i.retries;
      c.Healthcheck = h;
      return {
        createdBy: `HEALTHCHECK {Test:[${i.test.join(' ')}] Interval:${goDuration(i.interval)} Timeout:${goDuration(i.timeout)} StartPeriod:${goDuration(i.startPeriod)} StartInterval:${goDuration(i.startInterval)} Retries:${i.retries}}`,
      };
    }
    case 'onbuild':
      c.OnBuild = [...(c.OnBuild ?? []), i.expression];
      return undefined;
    default:
      throw stepError(ErrorCodes.ERR_BUILD_STEP, `${i.keyword} is not a metadata instruction`, {});
  }
}

/** The argv of CMD/ENTRYPOINT/RUN: exec form as is; shell form wrapped in the stage's SHELL. */
export function commandArgv(state: StageState, command: { form: 'shell' | 'exec'; args: string[] }): string[] {
  if (command.form === 'exec') return [...command.args];
  const shell = state.config.config?.Shell ?? ['/bin/sh', '-c'];
  return [...shell, command.args.join(' ')];
}

/** Parses one EXPOSE token into `port/proto` keys (a range gives several). */
export function parsePortSpec(token: string): string[] {
  const slash = token.lastIndexOf('/');
  const proto = (slash >= 0 ? token.slice(slash + 1) : 'tcp').toLowerCase();
  let spec = slash >= 0 ? token.slice(0, slash) : token;
  if (!['tcp', 'udp', 'sctp'].includes(proto))
    throw stepError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `invalid proto: ${proto}`, { token });
  // [ip:][hostPort:]containerPort: only the container port matters for EXPOSE.
  const colon = spec.lastIndexOf(':');
  if (colon >= 0) spec = spec.slice(colon + 1);
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(spec);
  if (!m) throw stepError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `invalid containerPort: ${spec}`, { token });
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 0 || end > 65535 || end < start)
    throw stepError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, `invalid port range: ${spec}`, { token });
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}
