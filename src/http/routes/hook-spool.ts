// POST /api/hooks/spool: a piece of a hook spool uploaded by the hook script once token-api
// answers again (NDJSON, one spooled event a line, at most hook_spool_max_bytes a piece; a
// spool of any size comes in several). Replayed in the order the hooks ran, each event once;
// answers after commit with what was replayed, skipped as already seen, and refused (by line,
// with the reason: the uploader keeps those lines aside). 400 when no line can be replayed.
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400, tooLarge } from '../errors.js';
import { isLoopback } from '../../lib/net.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export function hookSpoolRouter(deps: AppDeps): Router {
  const router = new Router();
  router.post('/api/hooks/spool', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const limit = deps.config.hookSpoolMaxBytes;
    let text: string;
    try {
      text = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined, encoding: 'utf8' });
    } catch (err) {
      const e = err as { status?: number; type?: string };
      if (e.type === 'entity.too.large') throw tooLarge(limit, 'the spool upload', 'hook_spool_max_bytes');
      throw new HttpError(e.status && e.status < 500 ? e.status : 400, 'bad_request', `could not read the body: ${(err as Error).message}`);
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '').length;
    const report = await deps.spool.upload(text, isLoopback(ctx));
    if (lines > 0 && report.invalid.length === lines) {
      const fields: Record<string, string> = {};
      for (const i of report.invalid.slice(0, 20)) fields[`line ${i.line}`] = i.reason;
      throw new HttpError(400, 'invalid_spool', `none of the ${lines} spool line(s) can be replayed`, fields);
    }
    ctx.body = report;
  });
  return router;
}
