// The CLI's one way to reach the server: JSON over HTTP with fetch. Every failure becomes a
// CliError carrying the exit code and a hint for the next step: connection refused (6), the
// server's coded error body mapped by HTTP status (3/4/5/7), or a reply that is not ours (7).

import { CliError, EXIT, exitForStatus, hintFor } from './exit-codes.js';
import type { Endpoint } from './token-file.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  /** Send no bearer token (login, health). */
  anonymous?: boolean;
  /** Statuses that are answers rather than errors (health: 503 sealed). */
  accept?: readonly number[];
  /** A success body is returned as text, unparsed (the audit export is JSON Lines). */
  raw?: boolean;
}

const UNREACHABLE_HINT = 'is the server running? start it with npm start / coffer server --dev; check COFFER_ADDR';

export class RestClient {
  constructor(private readonly endpoint: Endpoint) {}

  get addr(): string {
    return this.endpoint.addr;
  }

  /** `/v1/keys/<id>`: a uid or `alias/<name>`, with the slash encoded so it stays one segment. */
  static keyPath(id: string, suffix = ''): string {
    return `/v1/keys/${encodeURIComponent(id)}${suffix}`;
  }

  async request<T = Record<string, unknown>>(method: Method, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!opts.anonymous) {
      if (!this.endpoint.token) {
        throw new CliError(
          this.endpoint.expired ? 'your saved login has expired' : 'not logged in',
          EXIT.AUTH,
          'UNAUTHENTICATED',
          "run 'coffer login' (or set COFFER_TOKEN, e.g. from the dev server's banner)",
        );
      }
      headers.authorization = `Bearer ${this.endpoint.token}`;
    }
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(`${this.endpoint.addr}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (e) {
      const c = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      // undici puts the socket error (ECONNREFUSED, ENOTFOUND) or its refusal ("bad port") in cause.
      const cause = typeof c?.code === 'string' ? c.code : typeof c?.message === 'string' ? c.message.slice(0, 80) : undefined;
      if (e instanceof TypeError && /invalid url|failed to parse url/i.test(`${e.message} ${String((e as { cause?: unknown }).cause ?? '')}`)) {
        throw new CliError(`bad server address ${JSON.stringify(this.endpoint.addr)}`, EXIT.USAGE, 'ADDR_INVALID', 'COFFER_ADDR or --addr must look like http://127.0.0.1:7700');
      }
      throw new CliError(`cannot reach the server at ${this.endpoint.addr}${cause ? ` (${cause})` : ''}`, EXIT.UNREACHABLE, 'UNREACHABLE', UNREACHABLE_HINT);
    }
    const text = await res.text();
    if (opts.raw && res.ok) return { status: res.status, body: text as T };
    let body: unknown = {};
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError(`the server at ${this.endpoint.addr} answered ${res.status} with something that is not JSON`, EXIT.SERVER, 'BAD_REPLY', 'check COFFER_ADDR points at a Coffer server');
      }
    }
    if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, body: body as T };
    const err = (body as { error?: { code?: unknown; message?: unknown } }).error;
    const code = typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`;
    const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`;
    let hint = hintFor(code);
    if (code === 'UNAUTHENTICATED' && this.endpoint.tokenSource === 'env') hint = "COFFER_TOKEN was refused (expired or revoked); run 'coffer login' or paste a fresh token";
    if (code === 'NOT_FOUND') hint = 'the server does not know this route; is the server the same version as the CLI?';
    throw new CliError(message, exitForStatus(res.status), code, hint);
  }
}
