// POST /api/codex/notify: the JSON Codex passes its `notify` program (`token-api
// codex-notify` forwards it here unchanged). Answers after commit: 200 when it moved or
// re-read a session, 202 when it was only recorded.
import Router from '@koa/router';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { isLoopback } from '../../lib/net.js';
import { emptyQuerySchema } from '../../protocol/api.js';
import { jsonBody } from '../body.js';
import { exceedsDepth, MAX_PAYLOAD_DEPTH } from '../../lib/json-depth.js';
import { WHOLE } from '../../lib/validation-words.js';

/** Codex's notify payload: loose (Codex adds fields), with the keys we read checked. */
export const codexNotifySchema = z
  .looseObject({
    type: z.string().min(1).max(64),
    'thread-id': z.string().min(1).max(256).optional(),
    'turn-id': z.union([z.string().max(256), z.number()]).transform(String).optional(),
    cwd: z.string().max(4096).optional(),
    'last-assistant-message': z.string().nullable().optional(),
    'input-messages': z.array(z.unknown()).optional(),
  })
  .refine((p) => !exceedsDepth(p), { message: `nests deeper than ${MAX_PAYLOAD_DEPTH} levels; expected at most ${MAX_PAYLOAD_DEPTH}`, params: WHOLE });

export function codexRouter(deps: AppDeps): Router {
  const router = new Router();
  router.post('/api/codex/notify', jsonBody(deps.config.hookBodyLimitBytes, 'hook_body_limit_bytes'), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const payload = parseOr400(codexNotifySchema, ctx.request.body, 'body');
    const { 'last-assistant-message': last, ...rest } = payload;
    const r = await deps.codex.notify({ ...rest, ...(last ? { 'last-assistant-message': last } : {}) }, isLoopback(ctx));
    ctx.status = r.outcome === 'recorded' ? 202 : 200;
    ctx.body = r;
  });
  return router;
}
