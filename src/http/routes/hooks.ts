// POST /api/hooks: the JSON Claude Code hands a hook, as it sends it, plus what the hook
// script adds (ssh_client, pid, tab_name, tty, event_id) in the body or as query parameters.
// Answers after the resulting state is committed: 200 when an actor took the event (or it
// was a duplicate of one already taken), 202 when it was only recorded; 204 with reply=none.
import Router from '@koa/router';
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { toHookInput } from '../../actors/instances/hook-events.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400, tooLarge } from '../errors.js';
import { isLoopback } from '../../lib/net.js';
import { hookBodySchema, hookHeadersSchema, hookQuerySchema } from '../../protocol/api.js';

/** The body as text, bounded; the hook body is JSON whatever Content-Type a script sends. */
export async function readHookBody(req: IncomingMessage, limit: number): Promise<string> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] || undefined, encoding: 'utf8' });
  } catch (err) {
    const e = err as { status?: number; type?: string };
    if (e.type === 'entity.too.large') throw tooLarge(limit, 'the hook event', 'hook_body_limit_bytes');
    throw new HttpError(e.status && e.status < 500 ? e.status : 400, 'bad_request', `could not read the body: ${(err as Error).message}`);
  }
}

export interface HookRequest {
  query: unknown;
  /** The X-Token-Api-Ssh-Client header (native http hooks send SSH_CLIENT there). */
  sshHeader: string | undefined;
  text: string;
  /** The caller is on this machine (its pid is one of ours). */
  local: boolean;
}

/** One hook call, from parsed query and body text to the answer; throws HttpError on bad input. */
export async function runHookRequest(deps: AppDeps, req: HookRequest): Promise<{ status: number; body?: unknown }> {
  const query = parseOr400(hookQuerySchema, req.query, 'query');
  if (req.sshHeader && query.ssh_client === undefined) {
    query.ssh_client = parseOr400(hookHeadersSchema, { 'x-token-api-ssh-client': req.sshHeader }, 'query')['x-token-api-ssh-client'];
  }
  let value: unknown;
  try {
    value = JSON.parse(req.text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON (${(err as Error).message}); expected the JSON object Claude Code hands its hook`);
  }
  const payload = parseOr400(hookBodySchema, value, 'body');
  const r = await deps.instances.handleHook(toHookInput(payload, query, req.text), req.local, query.event_id ? { eventId: query.event_id } : undefined);
  if (query.reply === 'none') return { status: 204 };
  return { status: r.outcome === 'recorded' ? 202 : 200, body: r };
}

/**
 * The Koa route. An authorised POST /api/hooks is answered in front of Koa by the hook fast
 * path (src/http/fast/hook.ts) with the same function; this route answers the rest and
 * gives the path its 405 for other methods.
 */
export function hooksRouter(deps: AppDeps): Router {
  const router = new Router();
  router.post('/api/hooks', async (ctx) => {
    const text = await readHookBody(ctx.req, deps.config.hookBodyLimitBytes);
    const r = await runHookRequest(deps, { query: ctx.query, sshHeader: ctx.get('x-token-api-ssh-client') || undefined, text, local: isLoopback(ctx) });
    ctx.status = r.status;
    if (r.body !== undefined) ctx.body = r.body;
  });
  return router;
}
