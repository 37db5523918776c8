// The node:http request listener: the fast paths in front of Koa, then the Koa app (through its
// public callback, created once). The request line is split once for all of them. A fast path
// takes only the requests it fully answers; a throw in one is answered in the API's error shape
// (it would otherwise escape node:http's listener and end the process).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { errorAnswer } from './errors.js';
import { requestLine, type RequestLine } from './request.js';

/** Answers a request and returns true, or returns false to leave it to Koa. */
export type FastPath = (req: IncomingMessage, res: ServerResponse, line: RequestLine) => boolean;

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function createRequestListener(deps: { app: Koa; fastPaths: readonly FastPath[]; logger: Logger }): RequestListener {
  const koa = deps.app.callback();
  return (req, res) => {
    let line: RequestLine | undefined;
    try {
      line = requestLine(req);
      for (const fast of deps.fastPaths) if (fast(req, res, line)) return;
    } catch (err) {
      const answer = errorAnswer(err, deps.logger, { method: req.method ?? '', path: line?.path ?? (req.url ?? '').split('?')[0]! });
      sendJson(res, answer.status, answer.body);
      return;
    }
    void koa(req, res);
  };
}
