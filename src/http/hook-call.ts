// One hook call (POST /api/hooks), from its query and body text to the answer, shared by the
// Koa route (routes/hooks.ts) and the fast path in front of Koa (fast/hook.ts), so both parse,
// validate and answer alike. Throws HttpError on bad input.
import { toHookInput, type HookInput } from '../actors/instances/hook-events.js';
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

/** The hook input of a request (also the PermissionRequest hook that waits, routes/approvals.ts). */
export function parseHookRequest(req: HookRequest): { input: HookInput; eventId: string | undefined; reply: string | undefined } {
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
  return { input: toHookInput(payload, query, req.text), eventId: query.event_id, reply: query.reply };
}

export async function runHookRequest(handleHook: HandleHook, req: HookRequest): Promise<{ status: number; body?: unknown }> {
  const { input, eventId, reply } = parseHookRequest(req);
  const r = await handleHook(input, req.local, eventId ? { eventId } : undefined);
  if (reply === 'none') return { status: 204 };
  return { status: r.outcome === 'recorded' ? 202 : 200, body: r };
}
