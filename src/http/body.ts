// Request bodies, bounded. jsonBody: the JSON parser for every route but the hooks and the spool:
// JSON only, objects or arrays. A body in another media type is refused (415) rather than
// ignored, so that a request whose body would be dropped never acts as if it had sent none; a
// body that cannot be decompressed (a broken Content-Encoding) is the client's error (400).
// readRawBody: the text of a body whatever its Content-Type (hooks send JSON as they like).
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { koaBody } from 'koa-body';
import getRawBody from 'raw-body';
import { HttpError, tooLarge } from './errors.js';

/** The body as text, at most `limit` bytes (413 naming `what` and the `setting` that raises it). */
export async function readRawBody(req: IncomingMessage, limit: number, what: string, setting: string): Promise<string> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] || undefined, encoding: 'utf8' });
  } catch (err) {
    const e = err as { status?: number; type?: string };
    if (e.type === 'entity.too.large') throw tooLarge(limit, what, setting);
    throw new HttpError(e.status && e.status < 500 ? e.status : 400, 'bad_request', `could not read the body: ${(err as Error).message}`);
  }
}

/** Whether the request carries body bytes (an empty POST, with Content-Length 0, does not). */
function sendsBody(ctx: Context): boolean {
  if (ctx.get('transfer-encoding')) return true;
  const length = ctx.get('content-length');
  return length !== '' && length !== '0';
}

/** What counts as JSON: application/json and any +json type (the parser reads exactly these). */
const JSON_TYPES = ['json', '+json'];

/** `setting`: the config key that sets `limitBytes`, named when a body is over it. */
export function jsonBody(limitBytes: number, setting = 'body_limit_bytes') {
  const parse = koaBody({ jsonLimit: limitBytes, jsonStrict: true, jsonTypes: JSON_TYPES, urlencoded: false, text: false, multipart: false });
  const done = async () => undefined;
  return async function json(ctx: Context, next: Next): Promise<void> {
    if (sendsBody(ctx) && !ctx.is(JSON_TYPES)) {
      const type = ctx.get('content-type');
      throw new HttpError(415, 'unsupported_media_type', `the body must be JSON (Content-Type: application/json), not ${type ? `"${type.slice(0, 100)}"` : 'untyped'}`);
    }
    try {
      await parse(ctx, done);
    } catch (err) {
      if ((err as { type?: string }).type === 'entity.too.large') throw tooLarge(limitBytes, 'the body', setting);
      // Errors of the reader and of JSON carry a status; one without came from zlib or brotli.
      const encoding = ctx.get('content-encoding');
      if (encoding && typeof (err as { status?: unknown }).status !== 'number') {
        throw new HttpError(400, 'bad_request', `the body could not be decompressed (Content-Encoding: ${encoding.slice(0, 40)}): ${(err as Error).message}`);
      }
      throw err;
    }
    await next();
  };
}
