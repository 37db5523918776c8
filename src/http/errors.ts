// One place shapes every error answer: `{ error, message, fields? }`. Client mistakes are
// 4xx with a stable `error` code; a service's DomainError is mapped by its kind (below); anything
// else is logged and answered as a plain 500 (or 503 when the database is unavailable) without
// internals.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ZodError, type z } from 'zod';
import { DomainError, type DomainErrorKind } from '../lib/domain-error.js';
import { fieldsInWords, parseInWords, sentenceOfFields } from '../lib/validation-words.js';

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
  502: 'bad_gateway',
  503: 'unavailable',
};

const NOUNS = { body: 'body field', query: 'query parameter', params: 'path parameter' } as const;

/** Parses with zod or throws a 400 naming every bad field, what was wrong and what is expected. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const r = parseInWords(schema, value);
  if (r.success) return r.data;
  const fields = fieldsInWords(r.error);
  throw new HttpError(400, 'validation_failed', sentenceOfFields(fields, NOUNS[where]), fields);
}

/** "256 KiB (262144 bytes)": a byte limit people can read. */
export function bytesInWords(n: number): string {
  const unit = n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : null;
  return unit ? `${unit} (${n} bytes)` : `${n} bytes`;
}

/** The 413 for a body over its limit, naming the limit and the setting that raises it. */
export function tooLarge(limit: number, what: string, setting: string): HttpError {
  return new HttpError(413, 'payload_too_large', `${what} is larger than ${bytesInWords(limit)}, the limit (${setting} in the config file raises it)`);
}

/** Each kind of DomainError as HTTP: its status and `error` code. */
const DOMAIN: Record<DomainErrorKind, { status: number; code: string }> = {
  invalid: { status: 400, code: 'validation_failed' },
  not_found: { status: 404, code: 'not_found' },
  conflict: { status: 409, code: 'conflict' },
  // The machine lacks the engine or player: a state of the server, reported as such.
  not_installed: { status: 409, code: 'unavailable' },
  // Turned off by a setting, or a credential the action needs is missing.
  forbidden: { status: 403, code: 'forbidden' },
  // A service token-api relies on (Obsidian's plugin) failed: not the client's doing.
  bad_gateway: { status: 502, code: 'bad_gateway' },
  not_running: { status: 503, code: 'unavailable' },
};

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
  if (err instanceof DomainError) {
    const { status: domainStatus, code } = DOMAIN[err.kind];
    const fields = err.fields ?? (err.field && err.kind !== 'not_running' ? { [err.field]: err.message } : undefined);
    return { status: domainStatus, body: { error: code, message: err.message, ...(fields ? { fields } : {}) } };
  }
  if (err instanceof ZodError) {
    const fields = fieldsInWords(err);
    return { status: 400, body: { error: 'validation_failed', message: sentenceOfFields(fields, 'field'), fields } };
  }
  if (status < 500) {
    // Errors from the body parsers (bad JSON, too large, bad charset) and ctx.throw.
    const badJson = err.type === 'entity.parse.failed' || err.name === 'SyntaxError';
    const code = badJson ? 'invalid_json' : (CODES[status] ?? 'bad_request');
    const message = badJson
      ? `the body is not valid JSON (${err.message}); expected a JSON object`
      : err.type === 'entity.too.large'
        ? `the body is larger than the limit for ${where.path}`
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
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allow = ctx.response.get('Allow');
        throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; ${allow ? `allowed: ${allow}` : 'no method is'}`);
      }
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}; every route is in docs/api.md and GET /api/openapi.json`);
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
