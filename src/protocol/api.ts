// zod schemas for every body, query and path parameter the HTTP API accepts. Hook payloads
// are loose (Claude Code adds fields often and they are kept); everything else is strict.
import { isIP } from 'node:net';
import { z } from 'zod';
import { deviceFieldsSchema, deviceIdSchema, deviceSchema } from '../config/config.js';
import { exceedsDepth, MAX_PAYLOAD_DEPTH } from '../lib/json-depth.js';
import { WHOLE } from '../lib/validation-words.js';

const text = (max: number) => z.string().max(max, `at most ${max} characters`);

export const idSchema = z.string().regex(/^[A-Za-z0-9._:@-]{1,200}$/, 'an id of letters, digits and . _ : @ -');

const PID_WORDS = 'a process id (a positive integer)';
const pidSchema = z.coerce.number({ error: PID_WORDS }).int(PID_WORDS).positive(PID_WORDS).max(2 ** 31 - 1, PID_WORDS);

/** Timestamps in: ISO 8601 or epoch milliseconds; out: ISO 8601 UTC. */
export const timestampSchema = z
  .union([z.string().max(40), z.number()])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' || /^\d{10,16}$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      ctx.addIssue({ code: 'custom', message: 'an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** SSH_CLIENT ("ip port port") or SSH_CONNECTION ("ip port ip port"): the first word is the client's address. */
const sshClientSchema = text(200).refine((v) => v.trim() === '' || isIP(v.trim().split(/\s+/)[0]!) !== 0, 'an address and ports as in SSH_CLIENT, such as "100.64.0.7 52144 22"');

const agentKindSchema = z.enum(['claude', 'codex']);

/** What a hook script may add about where an event came from: query parameters of these names. */
const hookExtras = {
  ssh_client: sshClientSchema.optional(),
  pid: pidSchema.optional(),
  tab_name: text(200).optional(),
  tty: text(200).optional(),
  /** Which kind of agent sent it (default claude). */
  agent: agentKindSchema.optional(),
  /** The managed session whose child the agent is (its TOKEN_API_SESSION), when token-api started it. */
  managed_session: idSchema.optional(),
};

/**
 * The same additions inside a hook body, under names of token-api's own: the body is Claude
 * Code's, and a field token-api adds must never share a name with one Claude Code uses
 * (`agent_type`, for one, is Claude Code's subagent type or custom agent name).
 */
export const HOOK_BODY_EXTRAS = {
  ssh_client: 'x_token_api_ssh_client',
  pid: 'x_token_api_pid',
  tab_name: 'x_token_api_tab_name',
  tty: 'x_token_api_tty',
  agent: 'x_token_api_agent',
  managed_session: 'x_token_api_managed_session',
} as const;

/**
 * A hook body is Claude Code's, not token-api's: any JSON object with a session id and an
 * event name is taken, whatever else it carries and however it types it (Claude Code's own
 * fields are read only where they have the expected type, see toHookInput). Only token-api's
 * own `x_token_api_*` fields are checked, and the nesting depth.
 */
export const hookBodySchema = z
  .looseObject({
    session_id: z.string().min(1, 'a session id (not empty)').max(256),
    hook_event_name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a hook event name such as PreToolUse'),
    x_token_api_ssh_client: hookExtras.ssh_client,
    // A number in the body (a query parameter's text is coerced).
    x_token_api_pid: z.number({ error: PID_WORDS }).int(PID_WORDS).positive(PID_WORDS).max(2 ** 31 - 1, PID_WORDS).optional(),
    x_token_api_tab_name: hookExtras.tab_name,
    x_token_api_tty: hookExtras.tty,
    x_token_api_agent: hookExtras.agent,
    x_token_api_managed_session: hookExtras.managed_session,
  })
  .superRefine((b, ctx) => {
    // Unknown fields are kept as they are: they must stay serialisable.
    if (exceedsDepth(b)) ctx.addIssue({ code: 'custom', path: [], params: WHOLE, message: `nests deeper than ${MAX_PAYLOAD_DEPTH} levels; expected at most ${MAX_PAYLOAD_DEPTH}` });
  });
export type HookBody = z.infer<typeof hookBodySchema>;

export const hookQuerySchema = z.strictObject({
  ...hookExtras,
  /** The hook script's id for the event, so that a replay of it is recognised. */
  event_id: z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'an event id of 8 to 128 letters, digits and . _ : -').optional(),
  /** none: answer 204 with no body (native http hooks, whose answer Claude Code reads). */
  reply: z.enum(['full', 'none']).optional(),
});

/** Headers a native `type: "http"` hook can send (Claude Code interpolates them from the environment). */
export const hookHeadersSchema = z.object({
  'x-token-api-ssh-client': sshClientSchema.optional(),
});

const originSchema = z.strictObject({
  type: z.enum(['local', 'ssh']).optional(),
  source_ip: z.union([z.ipv4(), z.ipv6()]).nullable().optional(),
  device_id: idSchema.nullable().optional(),
});

export const registerBodySchema = z.strictObject({
  instance_id: idSchema.optional(),
  session_id: z.string().min(1).max(256).optional(),
  agent_type: z.enum(['claude', 'codex']).optional(),
  tab_name: text(200).nullable().optional(),
  origin: originSchema.optional(),
  origin_type: z.enum(['local', 'ssh']).optional(),
  source_ip: z.union([z.ipv4(), z.ipv6(), z.literal('')]).nullable().optional(),
  device_id: idSchema.nullable().optional(),
  ssh_client: sshClientSchema.optional(),
  pid: z.number().int().positive().max(2 ** 31 - 1).nullable().optional(),
  tty: text(200).optional(),
  working_dir: text(4096).nullable().optional(),
  transcript_path: text(4096).nullable().optional(),
}).superRefine((b, ctx) => {
  // The origin may be given flat or as an object; what it says must agree with itself.
  if (b.origin?.type && b.origin_type && b.origin.type !== b.origin_type) {
    ctx.addIssue({ code: 'custom', path: ['origin_type'], params: WHOLE, message: `is ${b.origin_type}, but origin.type is ${b.origin.type}; give one of them` });
  }
  const type = b.origin?.type ?? b.origin_type;
  if (type === 'local' && b.ssh_client && b.ssh_client.trim() !== '') {
    ctx.addIssue({
      code: 'custom',
      path: [b.origin?.type ? 'origin.type' : 'origin_type'],
      params: WHOLE,
      message: 'is local, but ssh_client says the session came over SSH; leave origin_type out or make it ssh',
    });
  }
});

export const idParamsSchema = z.strictObject({ id: idSchema });

export const limitSchema = (dflt: number, max: number) =>
  z.coerce.number({ error: `an integer from 1 to ${max}` }).int(`an integer from 1 to ${max}`).min(1).max(max).default(dflt);

export const instancesQuerySchema = z.strictObject({
  status: z.enum(['active', 'stopped', 'all']).default('active'),
  state: z.enum(['idle', 'working', 'awaiting', 'stopped']).optional(),
  device: idSchema.optional(),
  agent_type: z.enum(['claude', 'codex']).optional(),
  /** On a hub: one machine's instances, by id or name ('local': this server's). */
  machine: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a machine id or name').optional(),
  limit: limitSchema(200, 1000),
});

export const eventsQuerySchema = z.strictObject({
  limit: limitSchema(50, 1000),
  since: timestampSchema.optional(),
  until: timestampSchema.optional(),
  before: z.coerce.number().int().positive().optional(),
  instance: idSchema.optional(),
  device: idSchema.optional(),
  type: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*?)?$/, 'an event type such as hook.stop or a prefix such as hook.*').max(100).optional(),
});

export const deviceRegisterSchema = deviceSchema;
export const deviceIdParamsSchema = z.strictObject({ id: deviceIdSchema });
export const devicePatchSchema = deviceFieldsSchema.partial().refine((b) => Object.keys(b).length > 0, {
  message: `has nothing to change; name at least one of ${Object.keys(deviceFieldsSchema.shape).join(', ')}`,
  params: WHOLE,
});

export const dashboardQuerySchema = z.strictObject({
  events: limitSchema(20, 200),
});

export const emptyQuerySchema = z.strictObject({});

/** A body that may be left out, or be `{}`. */
export const emptyBodySchema = z.strictObject({});
