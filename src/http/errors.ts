// One place shapes every error answer: `{ error, message, fields? }`. Client mistakes are
// 4xx with a stable `error` code; anything else is logged and answered as a plain 500
// (or 503 when the database is unavailable) without internals.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ZodError, type z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  431: 'headers_too_large',
  501: 'not_implemented',
  503: 'unavailable',
};

/** zod issues -> { "path.to.field": "what is wrong" } */
export function fieldsOf(error: ZodError, prefix?: string): Record<string, string> {
  // No prototype: a field a client names `__proto__` is reported like any other.
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) fields[[path === '(root)' ? prefix : path, k].filter(Boolean).join('.')] = 'unknown field';
      continue;
    }
    fields[path] ??= issue.message;
  }
  return fields;
}

/** Parses with zod or throws a 400 naming every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = fieldsOf(r.error);
  const names = Object.keys(fields);
  throw new HttpError(400, 'validation_failed', `invalid ${where}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`, fields);
}

export interface ErrorAnswer {
  status: number;
  body: { error: string; message: string; fields?: Record<string, string> };
  allow?: string;
}

/** Any thrown value -> the status and body to answer; logs what is not the client's doing. */
export function errorAnswer(raw: unknown, logger: Logger, where: { method: string; path: string }): ErrorAnswer {
  const err = raw as Error & { status?: number; statusCode?: number; expose?: boolean; type?: string; code?: string; headers?: Record<string, string> };
  let status = err instanceof HttpError ? err.status : (err.status ?? err.statusCode ?? 500);
  // The database refused the write (disk full, locked, read-only): not the client's fault.
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_')) status = 503;
  if (!Number.isInteger(status) || status < 400 || status > 599) status = 500;
  if (err instanceof HttpError) {
    return { status, body: { error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } };
  }
  if (err instanceof ZodError) return { status: 400, body: { error: 'validation_failed', message: 'invalid input', fields: fieldsOf(err) } };
  if (status < 500) {
    // Errors from the body parsers (bad JSON, too large, bad charset) and ctx.throw.
    const badJson = err.type === 'entity.parse.failed' || err.name === 'SyntaxError';
    const code = badJson ? 'invalid_json' : (CODES[status] ?? 'bad_request');
    const message = badJson
      ? `body is not valid JSON (an object is expected): ${err.message}`
      : err.type === 'entity.too.large'
        ? `body is larger than the limit for ${where.path}`
        : err.expose !== false
          ? err.message
          : (CODES[status] ?? 'bad request');
    return { status, body: { error: code, message }, ...(err.headers?.allow ? { allow: err.headers.allow } : {}) };
  }
  logger.error({ err, method: where.method, path: where.path }, 'request failed');
  return status === 503
    ? { status, body: { error: 'unavailable', message: 'the database is unavailable; try again' } }
    : { status: 500, body: { error: 'internal', message: 'internal error; see the server log' } };
}

export function errorMiddleware(logger: Logger) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (raw) {
      const answer = errorAnswer(raw, logger, { method: ctx.method, path: ctx.path });
      if (answer.allow) ctx.set('Allow', answer.allow);
      ctx.status = answer.status;
      ctx.type = 'application/json';
      ctx.body = answer.body;
    }
  };
}
