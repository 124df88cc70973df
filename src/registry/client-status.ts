/**
 * What the registry client (client.ts) makes of failures: a registry's JSON error as text, a coded
 * error for an unexpected status, which failures are worth another try (and how long a
 * `Retry-After` asks to wait), a TLS attempt on a plain-HTTP server, and an abortable sleep.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { RegistryResponse } from './client-types.js';

/** The JSON error a registry sent, as `CODE: message`, when there is one. */
export async function registryErrorText(res: RegistryResponse): Promise<string | undefined> {
  let text: string;
  try {
    text = await res.body.text();
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    // not JSON: a proxy's page, plain text
  }
  const line = text.trim().split('\n')[0]?.slice(0, 200);
  return line || undefined;
}

/** A coded error for an unexpected status (401/403: `ERR_REGISTRY_AUTH`, else `ERR_REGISTRY`). */
export async function statusError(
  client: { readonly registry: string },
  res: RegistryResponse,
  what: string,
  data: Record<string, unknown> = {},
): Promise<LayerkitError> {
  const detail = await registryErrorText(res);
  const code = res.status === 401 || res.status === 403 ? ErrorCodes.ERR_REGISTRY_AUTH : ErrorCodes.ERR_REGISTRY;
  return new LayerkitError(code, `${what}: ${client.registry} answered ${res.status}${detail ? ` (${detail})` : ''}`, {
    registry: client.registry,
    status: res.status,
    ...data,
  });
}

/** A `Retry-After` value (seconds, or an HTTP date) in ms from now; undefined when it is neither. */
export function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** True for failures worth another try: resets, timeouts, a registry that went away mid-answer. */
export function isTransient(err: unknown): boolean {
  // A proxy that cannot reach the registry (502, 503, 504; SOCKS5 network or host unreachable,
  // connection refused) is a registry refusing connections.
  if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_REGISTRY_PROXY)
    return [502, 503, 504].includes(err.data.status as number) || [3, 4, 5].includes(err.data.reply as number);
  if (err instanceof LayerkitError) {
    if (err.code !== ErrorCodes.ERR_REGISTRY) return false;
    return isTransient(err.cause);
  }
  const e = err as (NodeJS.ErrnoException & { cause?: unknown }) | undefined;
  const code = e?.code ?? '';
  if (
    /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ECONNABORTED|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|UND_ERR_CLOSED)$/.test(
      code,
    )
  )
    return true;
  return e?.cause !== undefined && e.cause !== err && isTransient(e.cause);
}

/** True when a TLS attempt failed because the server speaks plain HTTP. */
export function speaksPlainHttp(err: unknown): boolean {
  const cause = err instanceof LayerkitError ? err.cause : err;
  const e = cause as NodeJS.ErrnoException | undefined;
  const text = `${e?.code ?? ''} ${e?.message ?? ''}`;
  return /WRONG_VERSION_NUMBER|EPROTO|packet length too long|ECONNRESET|UND_ERR_SOCKET/.test(text);
}

/** Waits `ms`, or fails with `ERR_ABORTED` as soon as `signal` aborts (retries and backoffs use it). */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal.reason }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
