// POST /api/hooks: the JSON Claude Code hands a hook, as it sends it, plus what the hook
// script adds (ssh_client, pid, tab_name, tty, event_id) in the body or as query parameters.
// Answers after the resulting state is committed: 200 when an actor took the event (or it
// was a duplicate of one already taken), 202 when it was only recorded; 204 with reply=none.
import Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { HookInput } from '../../actors/hook-events.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { isLoopback } from '../remote.js';
import { hookBodySchema, hookHeadersSchema, hookQuerySchema, type HookBody } from '../schemas.js';

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

export function toHookInput(
  body: HookBody,
  query: Partial<Pick<HookBody, 'ssh_client' | 'pid' | 'tab_name' | 'tty' | 'agent_type'>>,
  rawJson?: string,
): HookInput {
  return {
    hookEventName: body.hook_event_name,
    sessionId: body.session_id,
    agentType: body.agent_type ?? query.agent_type ?? 'claude',
    transcriptPath: body.transcript_path,
    cwd: body.cwd,
    source: body.source,
    toolName: body.tool_name,
    notificationType: body.notification_type,
    message: body.message,
    reason: body.reason,
    lastAssistantMessage: body.last_assistant_message,
    error: errorText(body.error),
    sshClient: body.ssh_client ?? query.ssh_client,
    pid: body.pid ?? query.pid,
    tabName: body.tab_name ?? query.tab_name,
    tty: body.tty ?? query.tty,
    raw: body,
    rawJson,
  };
}

/** The body as text, bounded; the hook body is JSON whatever Content-Type a script sends. */
async function readJson(ctx: Context, limit: number): Promise<{ text: string; value: unknown }> {
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined, encoding: 'utf8' });
  } catch (err) {
    const e = err as { status?: number; type?: string };
    if (e.type === 'entity.too.large') throw new HttpError(413, 'payload_too_large', `body is larger than ${limit} bytes`);
    throw new HttpError(e.status && e.status < 500 ? e.status : 400, 'bad_request', `could not read the body: ${(err as Error).message}`);
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`);
  }
}

export function hooksRouter(deps: AppDeps): Router {
  const router = new Router();
  router.post('/api/hooks', async (ctx) => {
    const query = parseOr400(hookQuerySchema, ctx.query, 'query');
    const sshHeader = ctx.get('x-token-api-ssh-client');
    if (sshHeader && query.ssh_client === undefined) {
      // Native http hooks send SSH_CLIENT as a header (empty when the variable is unset).
      query.ssh_client = parseOr400(hookHeadersSchema, { 'x-token-api-ssh-client': sshHeader }, 'query')['x-token-api-ssh-client'];
    }
    const { text, value } = await readJson(ctx, deps.config.hookBodyLimitBytes);
    const payload = parseOr400(hookBodySchema, value, 'body');
    const r = await deps.instances.handleHook(toHookInput(payload, query, text), isLoopback(ctx), query.event_id ? { eventId: query.event_id } : undefined);
    if (query.reply === 'none') {
      ctx.status = 204;
      return;
    }
    ctx.status = r.outcome === 'recorded' ? 202 : 200;
    ctx.body = r;
  });
  return router;
}
