// Schemas of the managed-session routes (/api/repos, /api/sessions...) and their answers:
// what a client may send (strict) and what it gets back (loose, for the OpenAPI document).
import { z } from 'zod';

const iso = z.string().describe('an ISO 8601 time, UTC');

export const sessionIdSchema = z.string().regex(/^ses-[0-9a-f]{12}$/, 'a session id such as ses-0123456789ab');
export const sessionParamsSchema = z.strictObject({ id: sessionIdSchema });

const nameSchema = z.string().trim().min(1, 'a name of 1 to 100 characters').max(100, 'a name of 1 to 100 characters');
const promptSchema = z.string().refine((s) => s.trim().length > 0, 'a prompt that is not empty');

export const sessionStartSchema = z.strictObject({
  repo: z.string().min(1).max(64),
  name: nameSchema.optional(),
  prompt: promptSchema.optional(),
  agent: z.enum(['claude', 'codex'], { error: 'claude or codex (default: the repository\'s agent)' }).optional(),
  kind: z.enum(['headless', 'terminal'], { error: 'headless (a child speaking JSON lines) or terminal (the interactive agent in tmux)' }).default('headless'),
  account: z.string().min(1).max(64).optional(),
});
export const sessionPatchSchema = z.strictObject({ name: nameSchema });
export const sessionSendSchema = z.strictObject({ prompt: promptSchema });
export const sessionOutputQuerySchema = z.strictObject({
  after: z.coerce.number({ error: 'a whole number of 0 or more' }).int('a whole number of 0 or more').min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number({ error: 'an integer from 1 to 1000' }).int('an integer from 1 to 1000').min(1).max(1000).default(200),
});

export const repoViewSchema = z.looseObject({ name: z.string(), path: z.string(), agent: z.string(), permission_mode: z.string() });
export const repoListSchema = z.looseObject({ repos: z.array(repoViewSchema) });

export const sessionViewSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['headless', 'terminal']),
  agent: z.enum(['claude', 'codex']),
  repo: z.string(),
  cwd: z.string(),
  state: z.enum(['starting', 'ready', 'busy', 'cancelling', 'stopping', 'exited']),
  managed: z.literal(true),
  claude_session_id: z.string(),
  account: z.string().nullable().describe('the account (config: accounts) it runs with; null: the default Claude Code config'),
  instance_id: z.string().nullable().describe('the instance its hooks reported, once they have'),
  pid: z.number().int().nullable(),
  created_at: iso,
  updated_at: iso,
  exit: z.looseObject({ code: z.number().int().nullable(), signal: z.string().nullable(), reason: z.enum(['stopped', 'ended', 'crashed', 'server_restart', 'start_timeout']), last_lines: z.array(z.string()) }).nullable(),
});
export const outputMessageSchema = z.looseObject({
  seq: z.number().int().nullable().describe('stored messages are numbered from 1; streamed-only partial messages have null'),
  at: iso,
  kind: z.enum(['init', 'assistant', 'tool_result', 'result', 'partial', 'control', 'rate_limit', 'other', 'text', 'screen']),
  message: z.record(z.string(), z.unknown()),
});
export const externalSessionSchema = z.looseObject({
  instance_id: z.string(),
  name: z.string(),
  agent: z.string(),
  state: z.string(),
  managed: z.literal(false),
  claude_session_id: z.string(),
  cwd: z.string().nullable(),
  repo: z.string().nullable().describe('the configured repository it works in'),
});
export const sessionListSchema = z.looseObject({
  sessions: z.array(sessionViewSchema),
  count: z.number().int(),
  external: z.array(externalSessionSchema).describe('live agent sessions token-api did not start (hooks, the Codex watcher): read-only'),
});
export const sessionDetailsSchema = sessionViewSchema.extend({ output: z.looseObject({ messages: z.array(outputMessageSchema), next_after: z.number().int().nullable() }) });
export const sessionCleanupSchema = z.looseObject({ forgotten: z.array(z.string()), count: z.number().int() });
export const sessionSentSchema = z.looseObject({ session: sessionViewSchema, bytes: z.number().int() });
export const oneshotAnswerSchema = z.looseObject({ session: z.string(), exit_code: z.number().int().nullable(), result: z.record(z.string(), z.unknown()).describe("the agent's JSON result (claude -p --output-format json)") });

export const accountParamsSchema = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'an account id of letters, digits, dot, dash or underscore') });
export const accountViewSchema = z.looseObject({
  id: z.string(),
  config_dir: z.string(),
  limited: z.boolean(),
  limited_until: iso.nullable(),
  limit_reason: z.string().nullable(),
  sessions_running: z.number().int(),
  sessions: z.number().int(),
  tokens_today: z.looseObject({ input: z.number(), output: z.number() }),
});
export const accountListSchema = z.looseObject({ accounts: z.array(accountViewSchema) });
