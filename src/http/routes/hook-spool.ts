// POST /api/hooks/spool: a piece of a hook spool uploaded by the hook script once token-api
// answers again (NDJSON, one spooled event a line, at most hook_spool_max_bytes a piece; a
// spool of any size comes in several). Replayed in the order the hooks ran, each event once;
// answers after commit with what was replayed, skipped as already seen, and refused (by line,
// with the reason: the uploader keeps those lines aside). 400 when no line can be replayed.
import Router from '@koa/router';
import type { HookSpool } from '../../actors/instances/hook-spool.js';
import { readRawBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { peerOfContext } from '../request.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export interface HookSpoolRoutes {
  upload: HookSpool['upload'];
  maxBytes: number;
}

export function hookSpoolRouter(deps: HookSpoolRoutes): Router {
  const router = new Router();
  router.post('/api/hooks/spool', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const text = await readRawBody(ctx.req, deps.maxBytes, 'the spool upload', 'hook_spool_max_bytes');
    const lines = text.split('\n').filter((l) => l.trim() !== '').length;
    if (lines === 0) throw new HttpError(400, 'invalid_spool', 'the upload holds no spool line (NDJSON: one spooled hook event a line)', { body: 'no line' });
    const report = await deps.upload(text, peerOfContext(ctx).local);
    if (lines > 0 && report.invalid.length === lines) {
      const fields: Record<string, string> = {};
      for (const i of report.invalid.slice(0, 20)) fields[`line ${i.line}`] = i.reason;
      throw new HttpError(400, 'invalid_spool', `none of the ${lines} spool line(s) can be replayed`, fields);
    }
    ctx.body = report;
  });
  return router;
}
