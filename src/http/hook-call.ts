// One hook call (POST /api/hooks), from its query and body text to the answer, shared by the
// Koa route (routes/hooks.ts) and the fast path in front of Koa (fast/hook.ts), so both parse,
// validate and answer alike. Throws HttpError on bad input.
import { toHookInput } from '../actors/instances/hook-events.js';
import type { Instances } from '../actors/instances/instances.js';
import { hookBodySchema, hookHeadersSchema, hookQuerySchema } from '../protocol/api.js';
import { HttpError, parseOr400 } from './errors.js';

export interface HookRequest {
  query: unknown;
  /** The X-Token-Api-Ssh-Client header (native http hooks send SSH_CLIENT there). */
  sshHeader: string | undefined;
  text: string;
  /** The caller is on this machine (its pid is one of ours). */
  local: boolean;
}

export type HandleHook = Instances['handleHook'];

export async function runHookRequest(handleHook: HandleHook, req: HookRequest): Promise<{ status: number; body?: unknown }> {
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
  const r = await handleHook(toHookInput(payload, query, req.text), req.local, query.event_id ? { eventId: query.event_id } : undefined);
  if (query.reply === 'none') return { status: 204 };
  return { status: r.outcome === 'recorded' ? 202 : 200, body: r };
}
