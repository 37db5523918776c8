// The live feed's protocol (`ws://HOST:PORT/ws`): every message the server sends and every
// message a client may send, as zod schemas shared by the server and the terminal dashboard,
// and written up in docs/websocket.md. Server messages are parsed loosely (a newer server may
// add fields); client messages strictly (an unknown field is an error). The web page bundles
// these schemas: `import * as z` lets esbuild drop what they do not use (`import { z }` keeps
// all of zod, locales included: 94 KB gzipped instead of 29).
import * as z from 'zod';

/** Message types of the stream: each change the server commits becomes one of these. */
export const STREAM_TYPES = ['instance', 'mode', 'gate', 'event', 'notification', 'token_usage_update', 'metric', 'cron_job_executed', 'sync_status', 'permission_prompt', 'permission_resolved', 'session_changed'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

const seq = z.number().int().nonnegative();
const iso = z.string();

const header = { seq, at: iso };

export const instanceViewSchema = z.looseObject({
  id: z.string(),
  session_id: z.string(),
  agent_type: z.string(),
  display_name: z.string(),
  tab_name: z.string().nullable(),
  state: z.string(),
  status: z.string(),
  origin: z.looseObject({ type: z.string(), source_ip: z.string().nullable(), device_id: z.string() }),
  device_id: z.string(),
  profile: z.looseObject({ name: z.string().nullable(), tts_voice: z.string().nullable(), notification_sound: z.string().nullable(), color: z.string().nullable() }),
  pid: z.number().nullable(),
  working_dir: z.string().nullable(),
  /** The repository's or directory's name (servers before it was added send none). */
  project: z.string().nullable().optional(),
  transcript_path: z.string().nullable(),
  current_tool: z.string().nullable(),
  tool_count: z.number(),
  subagent_count: z.number(),
  /** The custom agent the session runs as (`claude --agent NAME`); servers before it was added send none. */
  agent_name: z.string().nullable().optional(),
  /** The running subagents (Claude Code's agent_id); servers before they were tracked send none. */
  subagents: z
    .array(z.looseObject({ agent_id: z.string().nullable(), agent_type: z.string().nullable(), started_at: iso, current_tool: z.string().nullable(), tool_count: z.number() }))
    .optional(),
  /** The managed session (GET /api/sessions/{id}) whose child this agent is, with its kind; null: not started by token-api (servers before it was added send none). */
  managed: z.looseObject({ session: z.string(), kind: z.string() }).nullable().optional(),
  registered_at: iso,
  last_activity: iso,
  state_since: iso,
  stopped_at: iso.nullable(),
  stop_reason: z.string().nullable(),
  /** On a hub: the machine that reported the instance (none: it runs on this server). */
  machine: z.looseObject({ id: z.string(), name: z.string(), online: z.boolean() }).optional(),
});
export type FeedInstance = z.infer<typeof instanceViewSchema>;

export const modeViewSchema = z.looseObject({
  mode: z.string(),
  policy: z.string(),
  focus: z.boolean(),
  since: iso,
  set_by: z.string(),
  deadline: iso.nullable(),
  remaining_s: z.number().nullable(),
  return_to: z.string().nullable(),
  modes: z.array(z.string()),
});
export type FeedMode = z.infer<typeof modeViewSchema>;

export const gateViewSchema = z.looseObject({
  productive: z.boolean(),
  working: z.number(),
  working_instances: z.array(z.string()),
  state: z.string(),
  grace_until: iso.nullable(),
  since: iso,
  grace_minutes: z.number(),
});
export type FeedGate = z.infer<typeof gateViewSchema>;

/** One row of the event log, as it was committed (details cut down to the feed's limit). */
export const eventItemSchema = z.looseObject({
  type: z.string(),
  instance_id: z.string().nullable(),
  device_id: z.string().nullable(),
  details: z.unknown(),
  created_at: iso,
});
export type FeedEvent = z.infer<typeof eventItemSchema>;

export const usageTotalsSchema = z.looseObject({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_creation_tokens: z.number(),
  cache_read_tokens: z.number(),
  total_tokens: z.number(),
  cost_usd: z.number(),
  records: z.number(),
});
export type FeedUsageTotals = z.infer<typeof usageTotalsSchema>;

/** A permission request waiting for a decision, or its outcome (GET /api/approvals/{id} answers the same). */
export const approvalViewSchema = z.looseObject({
  id: z.string(),
  state: z.enum(['pending', 'decided', 'expired', 'answered_elsewhere', 'withdrawn']),
  instance_id: z.string().nullable(),
  session_id: z.string(),
  tool_name: z.string(),
  tool_input: z.unknown(),
  summary: z.string(),
  cwd: z.string().nullable(),
  project: z.string().nullable(),
  created_at: iso,
  expires_at: iso,
  decision: z.looseObject({ behavior: z.enum(['allow', 'deny']), message: z.string().nullable(), by: z.enum(['loopback', 'token', 'link', 'policy']), rule_id: z.string().nullable(), at: iso }).nullable(),
  resolution: z.looseObject({ how: z.string(), at: iso }).nullable(),
  links: z.looseObject({ approve: z.string(), deny: z.string() }).nullable(),
});
export type FeedApproval = z.infer<typeof approvalViewSchema>;

const dayTotalsSchema = usageTotalsSchema.extend({ day: z.string() });

/** A value of the metrics store. */
export const metricItemSchema = z.looseObject({ key: z.string(), value: z.unknown(), updated_at: iso, expires_at: iso.nullable() });


export const snapshotMessageSchema = z.looseObject({
  type: z.literal('snapshot'),
  ...header,
  server: z.looseObject({ service: z.string(), version: z.string(), started_at: iso }),
  /** Live instances, then those stopped most recently. */
  instances: z.array(instanceViewSchema),
  mode: modeViewSchema.nullable(),
  gate: gateViewSchema.nullable(),
  /** The last events, newest first. */
  events: z.array(eventItemSchema),
  /** Permission requests waiting for a decision, oldest first. */
  approvals: z.array(approvalViewSchema).optional(),
  usage: z.looseObject({
    /** Totals per instance id (instances with no usage yet are absent). */
    instances: z.record(z.string(), usageTotalsSchema),
    today: z.looseObject({ day: z.string(), timezone: z.string(), devices: z.record(z.string(), dayTotalsSchema) }),
  }),
  /** The metrics store's values by key (servers before it was added send none). */
  metrics: z.record(z.string(), metricItemSchema).optional(),
});

export const permissionPromptMessageSchema = z.looseObject({ type: z.literal('permission_prompt'), ...header, approval: approvalViewSchema });
export const permissionResolvedMessageSchema = z.looseObject({ type: z.literal('permission_resolved'), ...header, approval: approvalViewSchema });

/** A managed session as GET /api/sessions/{id} shows it (without its output). */
export const feedSessionSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  agent: z.string(),
  repo: z.string(),
  state: z.string(),
  created_at: iso,
  updated_at: iso,
});
export type FeedSession = z.infer<typeof feedSessionSchema>;
/** A managed session started, changed state, was renamed or exited. */
export const sessionChangedMessageSchema = z.looseObject({ type: z.literal('session_changed'), ...header, session: feedSessionSchema });

export const instanceMessageSchema = z.looseObject({ type: z.literal('instance'), ...header, instance: instanceViewSchema });
export const modeMessageSchema = z.looseObject({ type: z.literal('mode'), ...header, mode: modeViewSchema });
export const gateMessageSchema = z.looseObject({ type: z.literal('gate'), ...header, gate: gateViewSchema });
export const eventMessageSchema = z.looseObject({ type: z.literal('event'), ...header, event: eventItemSchema });

const notificationSummarySchema = z.looseObject({
  id: z.string(),
  created_at: iso,
  device: z.string().nullable(),
  instance: z.string().nullable(),
  event: z.string(),
  title: z.string(),
  message: z.string(),
  urgency: z.string(),
  /** With change "created": the notification's status, why it was routed so, and its deliveries as they start. */
  status: z.string().optional(),
  reason: z.string().nullable().optional(),
  deliveries: z.array(z.looseObject({ channel: z.string(), status: z.string(), attempts: z.number(), last_error: z.string().nullable() })).optional(),
});

export const notificationMessageSchema = z.looseObject({
  type: z.literal('notification'),
  ...header,
  /** created: a notification was committed; delivery: one of its channels has a new status. */
  change: z.enum(['created', 'delivery']),
  notification: notificationSummarySchema,
  delivery: z.looseObject({ channel: z.string(), status: z.string(), attempts: z.number(), error: z.string().nullable() }).nullable(),
});

export const usageMessageSchema = z.looseObject({
  type: z.literal('token_usage_update'),
  ...header,
  device_id: z.string(),
  instance_id: z.string().nullable(),
  origin: z.string(),
  added: usageTotalsSchema,
  instance: usageTotalsSchema.nullable(),
  device_today: dayTotalsSchema.extend({ timezone: z.string() }),
});

export const metricMessageSchema = z.looseObject({
  type: z.literal('metric'),
  ...header,
  /** set: a value was set; deleted: deleted over the API; expired: its time to live ran out. */
  change: z.enum(['set', 'deleted', 'expired']),
  key: z.string(),
  /** The value now (null when deleted or expired). */
  metric: metricItemSchema.nullable(),
});

export const cronRunMessageSchema = z.looseObject({
  type: z.literal('cron_job_executed'),
  ...header,
  job: z.looseObject({ id: z.string(), name: z.string() }),
  /** The run as GET /api/cron/jobs/{id}/runs shows it. */
  run: z.looseObject({
    id: z.string(),
    trigger: z.string(),
    status: z.string(),
    started_at: iso,
    finished_at: iso.nullable(),
    exit_code: z.number().nullable(),
    error: z.string().nullable(),
  }),
});

export const syncStatusMessageSchema = z.looseObject({
  type: z.literal('sync_status'),
  ...header,
  /** scan: this machine's transcripts were read; push_received: another machine sent records; push_sent: this machine sent its records to a hub. */
  kind: z.enum(['scan', 'push_received', 'push_sent']),
  status: z.enum(['ok', 'failed']),
  device_id: z.string(),
  /** Records new to the receiving side. */
  records: z.number().int(),
  error: z.string().nullable(),
});

export const streamMessageSchema = z.discriminatedUnion('type', [
  instanceMessageSchema,
  modeMessageSchema,
  gateMessageSchema,
  eventMessageSchema,
  notificationMessageSchema,
  usageMessageSchema,
  metricMessageSchema,
  cronRunMessageSchema,
  syncStatusMessageSchema,
  permissionPromptMessageSchema,
  permissionResolvedMessageSchema,
  sessionChangedMessageSchema,
]);
export type StreamMessage = z.infer<typeof streamMessageSchema>;

/** Replies carry the `id` of the request they answer, when it had one. */
const replyId = { id: z.string().optional() };

export const subscribedMessageSchema = z.looseObject({ type: z.literal('subscribed'), ...header, ...replyId, types: z.array(z.enum(STREAM_TYPES)) });
export const resumedMessageSchema = z.looseObject({ type: z.literal('resumed'), ...header, since: seq, replayed: z.number().int().nonnegative() });
export const historyMessageSchema = z.looseObject({
  type: z.literal('history'),
  ...header,
  ...replyId,
  before: seq,
  /** Stream messages older than `before`, oldest first. */
  messages: z.array(streamMessageSchema),
  /** Older messages are still held: ask again with `before` set to the first one's seq. */
  more: z.boolean(),
  /** Older messages of this server's run are no longer held (the event log has them: GET /api/events). */
  truncated: z.boolean(),
});
/** The answer to a `permission_response`: the approval as decided. */
export const permissionDecidedMessageSchema = z.looseObject({ type: z.literal('permission_decided'), ...header, ...replyId, approval: approvalViewSchema });
export const pongMessageSchema = z.looseObject({ type: z.literal('pong'), ...header, ...replyId });
export const errorMessageSchema = z.looseObject({
  type: z.literal('error'),
  ...header,
  ...replyId,
  error: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.string()).optional(),
});

/** A followed managed session (`subscribe_session`): as GET /api/sessions/{id}, then its output and its end. */
const sessionIdField = { session_id: z.string() };
export const sessionMessageSchema = z.looseObject({ type: z.literal('session'), ...header, ...replyId, ...sessionIdField, session: z.looseObject({ id: z.string(), state: z.string() }) });
export const sessionOutputMessageSchema = z.looseObject({
  type: z.literal('session_output'),
  ...header,
  ...sessionIdField,
  output: z.looseObject({ seq: z.number().nullable(), at: iso, kind: z.string(), message: z.record(z.string(), z.unknown()) }),
});
export const sessionExitedMessageSchema = z.looseObject({ type: z.literal('session_exited'), ...header, ...sessionIdField, exit: z.record(z.string(), z.unknown()).nullable() });
export const sessionUnsubscribedMessageSchema = z.looseObject({ type: z.literal('session_unsubscribed'), ...header, ...replyId, ...sessionIdField, was_followed: z.boolean() });

export const serverMessageSchema = z.discriminatedUnion('type', [
  sessionMessageSchema,
  sessionOutputMessageSchema,
  sessionExitedMessageSchema,
  sessionUnsubscribedMessageSchema,
  snapshotMessageSchema,
  instanceMessageSchema,
  modeMessageSchema,
  gateMessageSchema,
  eventMessageSchema,
  notificationMessageSchema,
  usageMessageSchema,
  metricMessageSchema,
  cronRunMessageSchema,
  syncStatusMessageSchema,
  permissionPromptMessageSchema,
  permissionResolvedMessageSchema,
  sessionChangedMessageSchema,
  subscribedMessageSchema,
  resumedMessageSchema,
  historyMessageSchema,
  pongMessageSchema,
  permissionDecidedMessageSchema,
  errorMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type SnapshotMessage = z.infer<typeof snapshotMessageSchema>;

// What a client may send. One JSON object per text frame.
const requestId = { id: z.string().min(1).max(64).optional() };

export const HISTORY_MAX = 500;

const sessionIdSchema = z.string().regex(/^ses-[0-9a-f]{12}$/, 'a managed session id (ses- and 12 hex digits)');

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Only these stream types from now on (the snapshot always comes); a fresh snapshot follows when types are added. */
  z.strictObject({ type: z.literal('subscribe'), ...requestId, types: z.array(z.enum(STREAM_TYPES)).min(1).max(STREAM_TYPES.length) }),
  /** Stream messages older than `before` still held by the server, newest `limit` of them. */
  z.strictObject({
    type: z.literal('get_history'),
    ...requestId,
    before: z.number().int().nonnegative(),
    limit: z.number().int().min(1).max(HISTORY_MAX).default(50),
  }),
  z.strictObject({ type: z.literal('get_snapshot'), ...requestId }),
  z.strictObject({ type: z.literal('ping'), ...requestId }),
  /** A managed session's output on this connection (`session`, then `session_output` after stored message `after`, `session_exited`). */
  z.strictObject({ type: z.literal('subscribe_session'), ...requestId, session_id: sessionIdSchema, after: z.number().int().nonnegative().default(0) }),
  z.strictObject({ type: z.literal('unsubscribe_session'), ...requestId, session_id: sessionIdSchema }),
  /** A decision on a pending permission request (answered with `permission_decided`, or an error). */
  z.strictObject({
    type: z.literal('permission_response'),
    ...requestId,
    approval_id: z.string().min(1).max(128),
    behavior: z.enum(['allow', 'deny']),
    message: z.string().max(2000).optional(),
  }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** The query of the upgrade request: `?since=<seq>` resumes, `?types=a,b` subscribes at once. */
export const feedQuerySchema = z.strictObject({
  since: z
    .string()
    .regex(/^\d{1,16}$/, 'a seq number from an earlier message')
    .transform(Number)
    .optional(),
  types: z
    .string()
    .max(200)
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.enum(STREAM_TYPES, { error: `each one of ${STREAM_TYPES.join(', ')}` })).min(1, `one or more of ${STREAM_TYPES.join(', ')}`))
    .optional(),
});
export type FeedQuery = z.infer<typeof feedQuerySchema>;
