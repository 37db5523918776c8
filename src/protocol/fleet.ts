// Machines and the hub: the two versioned documents a machine keeps on its hub, the bodies of
// /v1/machines, and every frame of the machine's WebSocket (/v1/machines/connect). Bodies and
// frames a machine sends are strict; what the hub answers is read loosely.
import { z } from 'zod';
import { instanceViewSchema } from './feed.js';

/** A machine's id: a UUID made once, kept in its database. */
export const machineIdSchema = z.uuid({ error: 'a machine id (a UUID)' });
/** A machine's name on the hub (the name `token-api machines add NAME` gave its token). */
export const machineNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a name of 1 to 64 letters, digits and . _ -');

/** The most a document may hold, as JSON. */
export const DOC_MAX_BYTES = 16 * 1024;
const bounded = <T extends z.ZodType>(schema: T) =>
  schema.refine((v) => new TextEncoder().encode(JSON.stringify(v)).length <= DOC_MAX_BYTES, { message: `at most ${DOC_MAX_BYTES} bytes as JSON` });

const text = (max: number) => z.string().max(max, `at most ${max} characters`);

export const machineMetadataSchema = bounded(
  z.strictObject({
    host: text(256),
    platform: text(32),
    arch: text(32),
    token_api_version: text(64),
    home_dir: text(1024),
    data_dir: text(1024),
    /** The agents this machine can start (executables found on its PATH). */
    agents: z.array(z.enum(['claude', 'codex'])).max(2),
    repos: z.array(z.strictObject({ name: text(200), path: text(1024) })).max(100),
  }),
);
export type MachineMetadata = z.infer<typeof machineMetadataSchema>;

export const DAEMON_STATUSES = ['running', 'shutting-down', 'offline'] as const;
export const daemonStateSchema = bounded(
  z.strictObject({
    status: z.enum(DAEMON_STATUSES),
    pid: z.number().int().positive(),
    port: z.number().int().min(0).max(65535),
    started_at: z.iso.datetime(),
    shutdown_requested_at: z.iso.datetime().nullable().optional(),
    shutdown_source: z.enum(['hub', 'cli', 'os-signal']).nullable().optional(),
    managed_sessions: z.number().int().min(0),
  }),
);
export type DaemonState = z.infer<typeof daemonStateSchema>;

const version = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const machineRegisterSchema = z.strictObject({ id: machineIdSchema, metadata: machineMetadataSchema, daemon_state: daemonStateSchema });
export const metadataUpdateSchema = z.strictObject({ metadata: machineMetadataSchema, expected_version: version });
export const daemonStateUpdateSchema = z.strictObject({ daemon_state: daemonStateSchema, expected_version: version });
export const machineParamsSchema = z.strictObject({ id: z.union([machineIdSchema, machineNameSchema], { error: 'a machine id (a UUID) or name' }) });

/** A machine's one-time approval link, relayed by its hub (GET /v1/machines/{id}/approvals/{approval}/approve|deny?t=). */
export const machineApprovalParamsSchema = z.strictObject({
  id: machineParamsSchema.shape.id,
  approval: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'an approval id of 1 to 128 letters, digits and . _ : -'),
});

/** A request run on a machine, from the hub (POST /v1/machines/{id}/api). */
export const remoteApiCallSchema = z.strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().regex(/^\/[^\s#]{0,2047}$/, 'a path of this API, starting with /'),
  body: z.unknown().optional(),
  /** How long to wait for the machine's answer (default hub.call_timeout_seconds). */
  timeout_ms: z.number().int().min(100).max(120_000).optional(),
});
export type RemoteApiCall = z.infer<typeof remoteApiCallSchema>;

/** A machine as the hub shows it. */
export const machineViewSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  local: z.boolean(),
  online: z.boolean(),
  connected: z.boolean(),
  last_seen_at: z.string().nullable(),
  metadata: z.unknown(),
  metadata_version: z.number(),
  daemon_state: z.unknown(),
  daemon_state_version: z.number(),
  sync: z.looseObject({ acked: z.number(), epoch: z.string().nullable() }),
  created_at: z.string(),
  updated_at: z.string(),
});
export type MachineView = z.infer<typeof machineViewSchema>;

/** GET /v1/machine: this server as a machine. */
export const machineSelfSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  sync: z.looseObject({ head: z.number(), epoch: z.string() }),
  hub: z.looseObject({ url: z.string(), notifications: z.enum(['hub', 'here']), connected: z.boolean(), acked: z.number(), sent: z.number(), last_error: z.string().nullable() }).nullable(),
});

export const machineAnswerSchema = z.looseObject({ machine: machineViewSchema });
export const machineListSchema = z.looseObject({ machines: z.array(machineViewSchema), count: z.number() });
export const machineRegisteredSchema = z.looseObject({ machine: machineViewSchema, created: z.boolean() });
export const docConflictSchema = z.looseObject({ error: z.literal('conflict'), message: z.string(), current: machineViewSchema });
export const remoteAnswerSchema = z.looseObject({ status: z.number().int(), body: z.unknown() });
export const stoppingSchema = z.looseObject({ stopping: z.literal(true), machine: z.string() });

// ---- the machine's socket ----

/** Rows a changes frame may carry, and the most unacknowledged frames in flight. */
export const FRAME_ROWS = 200;
export const FRAME_WINDOW = 4;

const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const remoteEventSchema = z.strictObject({
  id: z.number().int().positive(),
  type: text(200),
  instance_id: z.string().max(200).nullable(),
  device_id: z.string().max(200).nullable(),
  details: z.string().max(1024 * 1024).nullable(),
  created_at: text(40),
  change_seq: seqSchema,
});
export const remoteInstanceSchema = z.strictObject({ change_seq: seqSchema, instance: instanceViewSchema });

export const machineFrameSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('hello'), v: z.literal(1), machine: machineIdSchema, epoch: z.uuid(), boot: z.uuid(), head: seqSchema }),
  z.strictObject({
    t: z.literal('changes'),
    from: seqSchema,
    upto: seqSchema,
    instances: z.array(remoteInstanceSchema).max(FRAME_ROWS),
    events: z.array(remoteEventSchema).max(FRAME_ROWS),
  }),
  z.strictObject({ t: z.literal('alive'), at: z.number() }),
  z.strictObject({
    t: z.literal('result'),
    id: z.uuid(),
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
  }),
]);
export type MachineFrame = z.infer<typeof machineFrameSchema>;

export const hubFrameSchema = z.discriminatedUnion('t', [
  z.looseObject({ t: z.literal('welcome'), have: seqSchema, heartbeat_s: z.number().positive() }),
  z.looseObject({ t: z.literal('ack'), upto: seqSchema }),
  z.looseObject({ t: z.literal('alive_ack') }),
  z.looseObject({
    t: z.literal('call'),
    id: z.uuid(),
    method: z.enum(['api', 'stop_daemon']),
    params: z.looseObject({ method: z.string().optional(), path: z.string().optional(), body: z.unknown().optional() }),
    deadline_ms: z.number().int().positive(),
  }),
]);
export type HubFrame = z.infer<typeof hubFrameSchema>;

/** Close codes of the machine socket (4000-4999 are the application's). */
export const CLOSE = {
  badFrame: 4400,
  unauthorized: 4401,
  otherMachine: 4403,
  registerFirst: 4404,
  gap: 4409,
  replaced: 4000,
} as const;

/** The largest frame either end of the machine socket takes (a larger one closes it, 1009). */
export const MACHINE_FRAME_MAX_BYTES = 4 * 1024 * 1024;

/** Where machines connect on a hub. */
export const MACHINE_SOCKET_PATH = '/v1/machines/connect';
