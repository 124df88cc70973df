/**
 * `RUN --mount` and `RUN --device` values, parsed and validated with BuildKit's rules
 * (`instructions/commands_runmount.go`, `commands_rundevice.go`): CSV fields, `type=` bind (the
 * default), cache, tmpfs, secret or ssh, and which options each type accepts. Option values are
 * expanded one by one (after the CSV split), so a value holding a comma stays one value.
 */
import { withSuggestion } from './flags.js';
import { goQuote } from './go-text.js';
import { parseCsvFields, parseGoBool, parseGoUint, parseRamInBytes } from './go-parse.js';
import type { RunDevice } from './instruction-types.js';

/** The mount types. */
export const MountTypes = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
/** One of {@link MountTypes}. */
export type MountType = (typeof MountTypes)[number];
/** Cache mount sharing modes. */
export const MountSharingModes = ['shared', 'private', 'locked'] as const;
/** One of {@link MountSharingModes}. */
export type MountSharing = (typeof MountSharingModes)[number];

/** A parsed `--mount`. Absent fields were not given. */
export interface RunMount {
  type: MountType;
  from?: string;
  source?: string;
  target?: string;
  /** Defaults to true for bind, secret and ssh, false for cache and tmpfs. */
  readOnly: boolean;
  /** tmpfs `size=`, in bytes. */
  sizeLimit?: number;
  /** `id=` (cache id, secret id). */
  id?: string;
  sharing?: MountSharing;
  required: boolean;
  /** secret `env=`: the environment variable to expose the secret as. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const ALL_KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'id',
  'sharing',
  'required',
  'size',
  'mode',
  'uid',
  'gid',
  'src',
  'dst',
  'destination',
  'ro',
  'rw',
  'readwrite',
  'env',
];

/** Options of {@link parseRunMount}. */
export interface ParseRunMountOptions {
  /** Expands one option value (the builder's expansion with the current ARG/ENV state). */
  expand?: (value: string) => string;
}

/** Parses one `--mount` value. Throws a plain Error with BuildKit's message. */
export function parseRunMount(raw: string, options: ParseRunMountOptions = {}): RunMount {
  const expand = options.expand ?? ((v: string) => v);
  let fields: string[];
  try {
    fields = parseCsvFields(raw);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${(err as Error).message}`);
  }
  const m: RunMount = { type: 'bind', readOnly: true, required: false };
  let roAuto = true;
  const boolOf = (key: string, value: string): boolean => {
    try {
      return parseGoBool(value);
    } catch {
      throw new Error(`invalid value for ${key}: ${value}`);
    }
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro' || key === 'readwrite' || key === 'rw') {
        m.readOnly = key === 'readonly' || key === 'ro';
        roAuto = false;
      } else if (key === 'required' && (m.type === 'secret' || m.type === 'ssh')) {
        m.required = true;
      } else if (key === 'required') {
        throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
      } else {
        throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    const value = expand(field.slice(eq + 1));
    switch (key) {
      case 'type': {
        const t = value.toLowerCase();
        if (!(MountTypes as readonly string[]).includes(t)) {
          throw new Error(withSuggestion(`unsupported mount type ${goQuote(value)}`, value, MountTypes, true));
        }
        m.type = t as MountType;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = boolOf(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !boolOf(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh')
          throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = boolOf(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.sizeLimit = parseRamInBytes(value);
        } catch {
          throw new Error(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase();
        if (!(MountSharingModes as readonly string[]).includes(s)) {
          throw new Error(
            withSuggestion(`unsupported sharing value ${goQuote(value)}`, value, MountSharingModes, true),
          );
        }
        m.sharing = s as MountSharing;
        break;
      }
      case 'mode':
      case 'uid':
      case 'gid':
        try {
          m[key] = parseGoUint(value, key === 'mode' ? 8 : 10, 32);
        } catch {
          throw new Error(`invalid value ${value} for ${key}`);
        }
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true));
    }
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (!fileInfoAllowed && m[k] !== undefined) throw new Error(`${k} not allowed for ${goQuote(m.type)} type mounts`);
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new Error('secret mount should not have a from');
    if (m.sharing !== undefined) throw new Error('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new Error('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

/** The `from=` of a `--mount` value as written (it is never expanded), or undefined. */
export function runMountFrom(raw: string): string | undefined {
  let fields: string[];
  try {
    fields = parseCsvFields(raw);
  } catch {
    return undefined;
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq >= 0 && field.slice(0, eq).toLowerCase() === 'from') return field.slice(eq + 1);
  }
  return undefined;
}

/**
 * The check BuildKit makes before expansion: `from=` must not use a variable. Returns the error
 * message, or undefined.
 */
export function checkRunMountFrom(raw: string): string | undefined {
  let fields: string[];
  try {
    fields = parseCsvFields(raw);
  } catch (err) {
    return `failed to parse csv mounts: ${(err as Error).message}`;
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0 || field.slice(0, eq).toLowerCase() !== 'from') continue;
    const value = field.slice(eq + 1);
    const dollar = value.indexOf('$');
    if (dollar !== -1 && dollar !== value.length - 1) {
      return "'from' doesn't support variable expansion, define alias stage instead";
    }
  }
  return undefined;
}

/** Parses one `--device` value (`name[,required[=bool]]`). Throws a plain Error. */
export function parseRunDevice(raw: string): RunDevice {
  let fields: string[];
  try {
    fields = parseCsvFields(raw);
  } catch (err) {
    throw new Error(`failed to parse csv devices: ${(err as Error).message}`);
  }
  const d: RunDevice = { name: '', required: false };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'required') d.required = true;
      else if (d.name === '') d.name = field;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const value = field.slice(eq + 1);
    if (key === 'name') {
      if (d.name !== '') throw new Error(`device name already set to ${d.name}`);
      d.name = value;
    } else if (key === 'required') {
      try {
        d.required = parseGoBool(value);
      } catch {
        throw new Error(`invalid value for ${key}: ${value}`);
      }
    } else if (d.name === '') {
      d.name = field;
    } else {
      throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
  return d;
}
