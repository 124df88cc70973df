/**
 * The shapes the registry transport's HTTP/1.1 connections take and give (http1-connection.ts):
 * requests and their bodies, answers, TLS settings, proxies, and the mark of a failure that may
 * be retried.
 */
import type { Http1Body } from './http1-body.js';

/** Marks a failure that happened before the server can have acted on the request: it may go again. */
export const RETRYABLE = Symbol('retryable');

/** TLS settings for one origin (as the registry client's undici agents use them). */
export interface Http1Tls {
  ca?: string | string[] | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  rejectUnauthorized: boolean;
}

/** Reads a request body into the buffer given; resolves the bytes read, 0 at the end. */
export interface Http1BodyReader {
  read(into: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** A request body: bytes, or `length` bytes from a reader made afresh for each attempt. */
export type Http1RequestBody = Buffer | { length: number; reader: () => Http1BodyReader };

/** One request. */
export interface Http1Request {
  /** Default GET. */
  method?: 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'POST' | 'DELETE' | undefined;
  url: URL;
  headers: Record<string, string>;
  body?: Http1RequestBody | undefined;
  signal?: AbortSignal | undefined;
}

/** An answer, its body not yet read. */
export interface Http1Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Http1Body;
}

/**
 * The proxy a connection goes through: an http:, https: or socks5: (socks5h:) proxy URL (user and
 * password, when it has them, go to the proxy only), and the TLS settings for an https: proxy.
 * An https target is reached through a tunnel (CONNECT, or SOCKS5) with TLS inside it, end to end
 * with the registry; a plain-HTTP target by absolute-form requests to an HTTP proxy, or over a
 * SOCKS5 tunnel.
 */
export interface Http1Proxy {
  url: URL;
  tls?: Http1Tls | undefined;
}
