/**
 * Values as Go's text/template sees and prints them: the error type, structs and typed nils, `%v`
 * printing (`[a b]`, `map[k:v]`, `{a b}`, `<no value>`), truthiness, and docker's `json`.
 */

/** A template that does not parse, or fails while running (Go's messages). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    /** `parse` (docker: "template parsing error") or `exec`. */
    readonly phase: 'parse' | 'exec',
  ) {
    super(message);
  }
}

const STRUCT = Symbol('go-struct');
const OMIT_EMPTY = Symbol('go-omitempty');

/**
 * Marks a plain object as a Go struct: printed `{v1 v2}` in field order, not `map[k:v]`.
 * `omitEmpty` names the fields tagged `json:",omitempty"`: `json` leaves them out when empty.
 */
export function goStruct<T extends object>(value: T, omitEmpty: readonly string[] = []): T {
  Object.defineProperty(value, STRUCT, { value: true, enumerable: false });
  if (omitEmpty.length > 0) Object.defineProperty(value, OMIT_EMPTY, { value: new Set(omitEmpty), enumerable: false });
  return value;
}

/** A typed Go nil: prints as `[]` (slice), `map[]` (map) or `<nil>`; JSON `null`. */
export class GoNil {
  constructor(readonly kind: 'slice' | 'map' | 'pointer') {}
  toJSON(): null {
    return null;
  }
}

/** What a missing key or field yields (`<no value>`). */
export const NO_VALUE = Symbol('no-value');

/** True for a plain object that stands for a Go map (not a struct, slice or nil). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoNil) && !isStruct(v);
}

/** True for an object marked by {@link goStruct}. */
export function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[STRUCT] === true;
}

/** `fmt.Sprint(v)` for one value (`%v`). */
export function goString(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoNil) return v.kind === 'slice' ? '[]' : v.kind === 'map' ? 'map[]' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isStruct(v)) return `{${Object.values(v).map(goString).join(' ')}}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** A number as Go's `%v` prints it (shortest form, exponent for very large or small). */
export function goNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // Go prints floats with %v as the shortest repr, switching to exponent form for large exponents.
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(n);
}

/** Go's truth for `if` and `with`: false for zero values, empty collections and nil. */
export function truthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v instanceof GoNil) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isStruct(v)) return true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** docker's `json` function: Go's encoder without HTML escaping, trailing newline removed. */
export function goJson(v: unknown): string {
  return (
    JSON.stringify(v === NO_VALUE ? null : v, (_k, x: unknown) =>
      isMap(x) ? sortedCopy(x) : isStruct(x) ? withoutEmpty(x) : x,
    ) ?? 'null'
  ).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function withoutEmpty(struct: Record<string, unknown>): Record<string, unknown> {
  const omit = (struct as Record<symbol, unknown>)[OMIT_EMPTY] as Set<string> | undefined;
  if (!omit) return struct;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct)) {
    const empty =
      v === '' || v === false || v === 0 || v === null || v instanceof GoNil || (Array.isArray(v) && v.length === 0);
    if (!(omit.has(k) && (empty || (isMap(v) && Object.keys(v).length === 0)))) out[k] = v;
  }
  return out;
}

function sortedCopy(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}
