// Runs one API request inside this process: the request listener (fast paths, then Koa) gets a
// request object with the given peer address, and the answer comes back whole. Requests that
// arrive over another connection (a hub's call, a relay) take this path instead of looping
// back over HTTP, which auth would trust as loopback.
import inject from 'light-my-request';
import type { RequestListener } from './handler.js';

export interface InProcessRequest {
  method: string;
  /** Path with its query string, e.g. `/api/instances?machine=desk`. */
  path: string;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON (with its content type). */
  body?: unknown;
  /** The peer address the request is said to come from; auth judges it like any other. */
  remoteAddress: string;
}

export interface InProcessResponse {
  status: number;
  headers: Record<string, string>;
  /** The answer's body as text ('' when there is none). */
  body: string;
}

/** Headers a caller may not set: they describe the connection, which is this process's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'host']);

export async function runInProcess(listener: RequestListener, request: InProcessRequest): Promise<InProcessResponse> {
  const headers: Record<string, string> = { host: 'localhost' };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  let payload: string | Buffer | undefined;
  if (request.body === undefined || request.body === null) payload = undefined;
  else if (typeof request.body === 'string' || Buffer.isBuffer(request.body)) payload = request.body;
  else {
    payload = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await inject(listener, {
    method: request.method.toUpperCase() as 'GET',
    url: request.path,
    headers,
    remoteAddress: request.remoteAddress,
    ...(payload === undefined ? {} : { payload }),
  });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { status: res.statusCode, headers: out, body: res.payload };
}
