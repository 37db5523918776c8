// POST /api/hooks: the JSON Claude Code hands a hook, as it sends it, plus what the hook
// script adds (ssh_client, pid, tab_name, tty) in the body or as query parameters. Answers
// after the resulting state is committed: 200 when an actor took the event, 202 when it
// was only recorded.
import Router from '@koa/router';
import { koaBody } from 'koa-body';
import type { HookInput } from '../../actors/hook-events.js';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { isLoopback } from '../remote.js';
import { hookBodySchema, hookQuerySchema, type HookBody } from '../schemas.js';

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

export function toHookInput(body: HookBody, query: Partial<Pick<HookBody, 'ssh_client' | 'pid' | 'tab_name' | 'tty' | 'agent_type'>>): HookInput {
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
  };
}

export function hooksRouter(deps: AppDeps): Router {
  const router = new Router();
  // The body is JSON whatever Content-Type a shell script sends (curl -d defaults to a form).
  const body = koaBody({
    jsonLimit: deps.config.hookBodyLimitBytes,
    jsonStrict: true,
    jsonTypes: ['application/json', 'application/*+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'],
    urlencoded: false,
    text: false,
    multipart: false,
  });
  router.post('/api/hooks', body, async (ctx) => {
    const query = parseOr400(hookQuerySchema, ctx.query, 'query');
    const payload = parseOr400(hookBodySchema, ctx.request.body, 'body');
    const r = await deps.instances.handleHook(toHookInput(payload, query), isLoopback(ctx));
    ctx.status = r.outcome === 'applied' ? 200 : 202;
    ctx.body = r;
  });
  return router;
}
